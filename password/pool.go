package password

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrBusy is returned by Hash, Verify and VerifyDummy when ctx ends before a
// worker is free. The caller should answer 503 (or 429): the server is
// saturated with hashing, not broken.
var ErrBusy = errors.New("password: all hashing workers busy")

// Class is the kind of request a hash or verification serves. Each class
// waits in a queue of its own and the queues take turns, so a flood of one
// kind (signups, say) delays another kind by at most one hash per class
// ahead of it, not by the whole flood.
type Class int

// The classes of hashing work. Work whose context names no class (see
// WithClass) is Login work.
const (
	Login  Class = iota // logins and the password grant
	Signup              // new accounts
	Change              // password changes, and other checks of a signed-in user's password
	numClasses
)

type classKey struct{}

// WithClass returns a context that makes the Hash, Verify and VerifyDummy
// calls made with it (or a context derived from it) queue as class c.
func WithClass(ctx context.Context, c Class) context.Context {
	if c < 0 || c >= numClasses {
		c = Login
	}
	return context.WithValue(ctx, classKey{}, c)
}

func classOf(ctx context.Context) Class {
	c, _ := ctx.Value(classKey{}).(Class)
	return c
}

// Pool bounds how many hashes run at once and decides who runs next.
// Hashing is CPU-bound by design, so more concurrent hashes than cores
// only make every one of them slower and take the CPU from cheap requests
// such as token verification.
//
// A Pool has two bounds: all its workers while nothing else is going on,
// and a share of them (half, at least one) while any other work is in
// flight (see Foreground), so that a flood of logins leaves the other
// requests most of the CPU. Waiting work is served round-robin across
// classes and in arrival order within one.
type Pool struct {
	workers int // the bound when idle
	share   int // the bound while foreground work is in flight
	// rest is how long, in multiples of the hash it just ran, a worker
	// waits before it takes more work while foreground work is in flight
	// (see SetRest).
	rest float64

	foreground atomic.Int64
	// lastForeground is when foreground work last started or ended (unix
	// nanoseconds): cheap requests come and go in microseconds, so the
	// pool counts them as in flight for foregroundWindow after each.
	lastForeground atomic.Int64
	// idleDispatch is set while a dispatch is scheduled for the end of
	// the window, so that only one is.
	idleDispatch atomic.Bool
	pending      atomic.Int64

	// onActive, when set, is told of each hash's start and end (see
	// OnActive).
	onActive func(hashing bool)
	// nice, when above zero, is the priority of the threads that run
	// the hashes (see SetThreadPriority).
	nice int

	mu      sync.Mutex
	running int
	queues  [numClasses][]*waiter
	next    Class // the class whose turn is next
}

type waiter struct {
	ready   chan struct{}
	granted bool // under Pool.mu: a worker was handed to this waiter
}

// NewPool returns a pool of the given number of workers (at least one)
// that runs at most half of them, at least one, while foreground work is
// in flight.
func NewPool(workers int) *Pool {
	workers = max(workers, 1)
	return &Pool{workers: workers, share: max(workers/2, 1)}
}

// Run runs fn once a worker is free and it is the turn of ctx's class (see
// WithClass), or returns ErrBusy when ctx ends first. A ctx that has
// already ended gets ErrBusy even if a worker is free, so a request whose
// client has gone never starts a hash.
func (p *Pool) Run(ctx context.Context, fn func()) error {
	if p == nil {
		panic("password: Hasher used without New")
	}
	p.pending.Add(1)
	defer p.pending.Add(-1)
	if ctx.Err() != nil {
		return ErrBusy
	}
	c := classOf(ctx)
	p.mu.Lock()
	if p.running < p.limit() && p.queued() == 0 {
		p.running++
		p.mu.Unlock()
	} else {
		w := &waiter{ready: make(chan struct{})}
		p.queues[c] = append(p.queues[c], w)
		p.mu.Unlock()
		select {
		case <-w.ready:
		case <-ctx.Done():
			p.mu.Lock()
			if !w.granted {
				p.queues[c] = slices.DeleteFunc(p.queues[c], func(x *waiter) bool { return x == w })
				p.mu.Unlock()
				return ErrBusy
			}
			p.mu.Unlock()
			// Handed a worker just as ctx ended: pass it on unused.
			p.release()
			return ErrBusy
		}
	}
	rests := false
	defer func() {
		if !rests {
			p.release()
		}
	}()
	start := time.Now()
	if p.onActive != nil {
		p.onActive(true)
		defer p.onActive(false)
	}
	if p.nice > 0 && threadPriorities {
		onLowPriorityThread(p.nice, fn)
	} else {
		fn()
	}
	if p.rest > 0 && p.busy() {
		// The caller has its answer now; only the worker waits.
		rests = true
		time.AfterFunc(time.Duration(float64(time.Since(start))*p.rest), p.release)
	}
	return nil
}

// SetRest makes each worker, while foreground work is in flight, wait
// factor times as long as the hash it just ran took before it takes the
// next: the share of workers then hashes at most 1/(1+factor) of the
// time. On a machine of two cores a share is one whole core, more than
// cheap requests can spare under a flood of logins; SetRest(1) leaves
// them half of it too. Idle, the pool never rests. Call it before the
// pool is used.
func (p *Pool) SetRest(factor float64) { p.rest = max(factor, 0) }

// SetThreadPriority makes the pool run its hashes on threads of their
// own with the given nice value (0 to 19; higher is lower priority), on
// systems that can set one thread's priority (Linux). Other work of the
// program then wins a contested core at once: for cheap requests to find
// a free Go processor while every worker hashes, the program should run
// with GOMAXPROCS above the number of cores by the number of workers
// (see Workers). Call it before the pool is used.
func (p *Pool) SetThreadPriority(nice int) { p.nice = min(max(nice, 0), 19) }

// OnActive makes the pool call fn(true) just before each hash starts and
// fn(false) when it has ended (before any rest), on the goroutine of the
// caller of Run. Each true is followed by one false, but the calls of
// concurrent hashes may interleave in any order: count them. fn must be
// quick. Call it before the pool is used.
func (p *Pool) OnActive(fn func(hashing bool)) { p.onActive = fn }

// Foreground marks one piece of work that is not hashing (a request that
// does not hash a password) as in flight, until done is called. While any
// is, and for a short window after (see foregroundWindow), the pool
// starts new hashes only up to its share of the workers; hashes already
// running finish. done must be called; calling it again does nothing.
func (p *Pool) Foreground() (done func()) {
	done, _ = p.Request()
	return done
}

// Request is Foreground for a request that may turn out to hash a
// password: it counts as foreground work until done is called, or until
// hashing is called, when the request is found to be a hashing one. That
// ends the count without the window after it, so a stream of logins alone
// keeps every worker. The first of the two calls counts; later calls of
// either do nothing.
func (p *Pool) Request() (done, hashing func()) {
	p.foreground.Add(1)
	var once sync.Once
	end := func(stamp bool) {
		once.Do(func() {
			if stamp {
				p.lastForeground.Store(time.Now().UnixNano())
			}
			if p.foreground.Add(-1) == 0 && p.pending.Load() > 0 && p.idleDispatch.CompareAndSwap(false, true) {
				// Idle again, once the window has passed with nothing new:
				// the workers held back may start.
				wait := foregroundWindow
				if !stamp {
					wait = 0
				}
				time.AfterFunc(wait, func() {
					p.idleDispatch.Store(false)
					p.mu.Lock()
					p.dispatch()
					p.mu.Unlock()
				})
			}
		})
	}
	return func() { end(true) }, func() { end(false) }
}

// Pending returns how many calls of Run are queued or running.
func (p *Pool) Pending() int { return int(p.pending.Load()) }

// Running returns how many workers are busy.
func (p *Pool) Running() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running
}

// Workers returns the number of workers, and the share of them that may
// hash while foreground work is in flight.
func (p *Pool) Workers() (all, share int) { return p.workers, p.share }

func (p *Pool) limit() int {
	if p.busy() {
		return p.share
	}
	return p.workers
}

// foregroundWindow is how long after foreground work the pool still
// counts it as in flight. A protected request takes tens of
// microseconds: between two of a steady stream the count is often zero,
// and the pool must not take every core in those gaps.
const foregroundWindow = 50 * time.Millisecond

// busy reports whether foreground work is in flight, or was a moment ago.
func (p *Pool) busy() bool {
	return p.foreground.Load() > 0 || time.Now().UnixNano()-p.lastForeground.Load() < int64(foregroundWindow)
}

func (p *Pool) queued() int {
	n := 0
	for _, q := range p.queues {
		n += len(q)
	}
	return n
}

func (p *Pool) release() {
	p.mu.Lock()
	p.running--
	p.dispatch()
	p.mu.Unlock()
}

// dispatch hands free workers to waiters, one class at a time in turn.
// p.mu must be held.
func (p *Pool) dispatch() {
	for p.running < p.limit() {
		var w *waiter
		for i := range numClasses {
			c := (p.next + i) % numClasses
			if q := p.queues[c]; len(q) > 0 {
				w = q[0]
				q[0] = nil
				p.queues[c] = q[1:]
				p.next = (c + 1) % numClasses
				break
			}
		}
		if w == nil {
			return
		}
		w.granted = true
		p.running++
		close(w.ready)
	}
}
