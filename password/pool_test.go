package password_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jotauth/jot/password"
)

// gate is work for a Pool that records the order and concurrency of the
// calls it runs and holds each until released: no clocks involved.
type gate struct {
	mu      sync.Mutex
	order   []string
	running int
	most    int
	started chan struct{}
	release chan struct{}
}

func newGate() *gate {
	return &gate{started: make(chan struct{}, 1000), release: make(chan struct{}, 1000)}
}

func (g *gate) work(name string) func() {
	return func() {
		g.mu.Lock()
		g.order = append(g.order, name)
		g.running++
		g.most = max(g.most, g.running)
		g.mu.Unlock()
		g.started <- struct{}{}
		<-g.release
		g.mu.Lock()
		g.running--
		g.mu.Unlock()
	}
}

// run starts p.Run(ctx of class c, work) in a goroutine.
func (g *gate) run(t *testing.T, wg *sync.WaitGroup, p *password.Pool, c password.Class, name string) {
	wg.Go(func() {
		if err := p.Run(password.WithClass(context.Background(), c), g.work(name)); err != nil {
			t.Errorf("Run(%s): %v", name, err)
		}
	})
}

// heldPool is a pool of one worker that a call of class c, named "first",
// holds until the gate releases it.
func heldPool(t *testing.T, c password.Class) (*password.Pool, *gate, *sync.WaitGroup) {
	p := password.NewPool(1)
	g := newGate()
	wg := &sync.WaitGroup{}
	g.run(t, wg, p, c, "first")
	<-g.started
	return p, g, wg
}

// waitPending waits until p has n calls queued or running.
func waitPending(p *password.Pool, n int) {
	for p.Pending() != n {
		runtime.Gosched()
	}
}

// TestPoolRoundRobin: with one worker held, ten signups queue and then one
// login and one password change arrive; the login and the change run
// after at most one signup each, not after the ten.
func TestPoolRoundRobin(t *testing.T) {
	t.Parallel()
	p, g, wg := heldPool(t, password.Signup)
	for i := range 10 {
		g.run(t, wg, p, password.Signup, "signup")
		waitPending(p, 2+i)
	}
	g.run(t, wg, p, password.Login, "login")
	waitPending(p, 12)
	g.run(t, wg, p, password.Change, "change")
	waitPending(p, 13)
	for range 13 {
		g.release <- struct{}{}
	}
	wg.Wait()
	want := []string{"first", "login", "signup", "change"}
	if len(g.order) != 13 {
		t.Fatalf("ran %d, want 13", len(g.order))
	}
	for i, w := range want {
		if g.order[i] != w {
			t.Fatalf("order %v, want it to start with %v", g.order, want)
		}
	}
	if g.most != 1 {
		t.Errorf("%d ran at once on one worker", g.most)
	}
}

// TestPoolTakesTurns: logins queued behind a signup flood get every other
// free worker, on a pool of several workers.
func TestPoolTakesTurns(t *testing.T) {
	t.Parallel()
	p := password.NewPool(2)
	g := newGate()
	var wg sync.WaitGroup
	for i := range 2 {
		g.run(t, &wg, p, password.Signup, "first")
		waitPending(p, i+1)
	}
	<-g.started
	<-g.started
	for i := range 6 {
		g.run(t, &wg, p, password.Signup, "signup")
		waitPending(p, 3+i)
	}
	for i := range 3 {
		g.run(t, &wg, p, password.Login, "login")
		waitPending(p, 9+i)
	}
	// Free one worker at a time and see who gets it.
	for range 9 {
		g.release <- struct{}{}
		<-g.started
	}
	g.release <- struct{}{}
	g.release <- struct{}{}
	wg.Wait()
	want := []string{"first", "first", "login", "signup", "login", "signup", "login", "signup", "signup", "signup", "signup"}
	if !slices.Equal(g.order, want) {
		t.Fatalf("order %v, want %v", g.order, want)
	}
}

// TestPoolShare: while foreground work is in flight, hashing takes only
// half the workers (at least one); once it ends, all of them.
func TestPoolShare(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ workers, share int }{{1, 1}, {2, 1}, {4, 2}, {5, 2}} {
		p := password.NewPool(tt.workers)
		if all, share := p.Workers(); all != tt.workers || share != tt.share {
			t.Fatalf("NewPool(%d).Workers() = %d, %d; want %d, %d", tt.workers, all, share, tt.workers, tt.share)
		}
		g := newGate()
		var wg sync.WaitGroup
		done := p.Foreground()
		other := p.Foreground()
		n := 2 * tt.workers
		for i := range n {
			g.run(t, &wg, p, password.Login, "login")
			waitPending(p, i+1)
		}
		for range tt.share {
			<-g.started
		}
		if got := p.Running(); got != tt.share {
			t.Errorf("workers %d, foreground in flight: %d running, want %d", tt.workers, got, tt.share)
		}
		// One of two foreground requests ends: still the share.
		done()
		done() // a second call is harmless
		if got := p.Running(); got != tt.share {
			t.Errorf("workers %d, one foreground left: %d running, want %d", tt.workers, got, tt.share)
		}
		// The last ends: every worker takes work at once.
		other()
		for range tt.workers - tt.share {
			<-g.started
		}
		if got := p.Running(); got != tt.workers {
			t.Errorf("workers %d, idle: %d running, want all", tt.workers, got)
		}
		// Foreground work arriving while all run stops nothing running,
		// but freed workers are refilled only up to the share.
		again := p.Foreground()
		k := tt.workers - tt.share + 1
		for range k {
			g.release <- struct{}{}
		}
		waitPending(p, n-k)
		<-g.started
		if got := p.Running(); got != tt.share {
			t.Errorf("workers %d, %d freed under foreground work: %d running, want %d", tt.workers, k, got, tt.share)
		}
		for range n - k {
			g.release <- struct{}{}
		}
		again()
		wg.Wait()
		if g.most != tt.workers {
			t.Errorf("workers %d: at most %d ran at once, want %d", tt.workers, g.most, tt.workers)
		}
	}
}

// TestPoolCanceledWaiter: a waiter whose ctx ends leaves the queue and
// gets ErrBusy; the work behind it still runs.
func TestPoolCanceledWaiter(t *testing.T) {
	t.Parallel()
	p, g, wg := heldPool(t, password.Login)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- p.Run(password.WithClass(ctx, password.Signup), g.work("canceled")) }()
	waitPending(p, 2)
	g.run(t, wg, p, password.Login, "second")
	waitPending(p, 3)
	cancel()
	if err := <-errc; !errors.Is(err, password.ErrBusy) {
		t.Fatalf("canceled waiter: %v, want ErrBusy", err)
	}
	g.release <- struct{}{}
	g.release <- struct{}{}
	wg.Wait()
	if len(g.order) != 2 || g.order[1] != "second" || p.Pending() != 0 || p.Running() != 0 {
		t.Errorf("order %v, pending %d, running %d; want [first second], 0, 0", g.order, p.Pending(), p.Running())
	}
}

// TestPoolRest: with a rest set, a worker that hashed while foreground
// work was in flight stays taken after its caller has the answer, then
// frees itself; idle, it is free at once. The pool's clock is the fake
// one of a synctest bubble.
func TestPoolRest(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testPoolRest)
}

func testPoolRest(t *testing.T) {
	p := password.NewPool(1)
	p.SetRest(1)
	// A hash takes 40 ms of the bubble's time, and so does the rest after it.
	hash := func() { time.Sleep(40 * time.Millisecond) }
	done := p.Foreground()
	if err := p.Run(t.Context(), hash); err != nil {
		t.Fatal(err)
	}
	if got := p.Running(); got != 1 {
		t.Fatalf("right after a hash under foreground work: %d running, want 1 (resting)", got)
	}
	// The resting worker takes nothing: a caller that cannot wait as long
	// as the rest is turned away.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Millisecond)
	defer cancel()
	if err := p.Run(ctx, func() {}); !errors.Is(err, password.ErrBusy) {
		t.Fatalf("Run during the rest: %v, want ErrBusy", err)
	}
	time.Sleep(40 * time.Millisecond)
	synctest.Wait()
	if got := p.Running(); got != 0 {
		t.Fatalf("a rest as long as the hash later: %d running, want 0", got)
	}
	done()
	// Foreground work counts for a short window after it ends.
	time.Sleep(100 * time.Millisecond)
	if err := p.Run(t.Context(), hash); err != nil {
		t.Fatal(err)
	}
	if got := p.Running(); got != 0 {
		t.Fatalf("after a hash with nothing else in flight: %d running, want 0", got)
	}
}

func TestPoolThreadPriority(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	base, err := password.ThreadNice()
	if err != nil {
		t.Skip("this system cannot set one thread's priority:", err)
	}
	p := password.NewPool(2)
	p.SetThreadPriority(base + 7)
	var got []int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := p.Run(context.Background(), func() {
				n, err := password.ThreadNice()
				if err != nil {
					t.Error(err)
				}
				if password.IsMainThread() {
					// The main thread keeps the process's priority.
					n += 7
				}
				mu.Lock()
				got = append(got, n)
				mu.Unlock()
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(got) != 4 {
		t.Fatalf("ran %d of 4", len(got))
	}
	for _, n := range got {
		if n != base+7 {
			t.Errorf("hash ran at nice %d, want %d", n, base+7)
		}
	}
	// The caller's own thread keeps its priority.
	if n, _ := password.ThreadNice(); n != base {
		t.Errorf("caller's thread at nice %d, want %d", n, base)
	}
}

func TestPoolThreadPanicReachesCaller(t *testing.T) {
	p := password.NewPool(1)
	p.SetThreadPriority(5)
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want boom", r)
			}
		}()
		_ = p.Run(context.Background(), func() { panic("boom") })
		t.Error("Run returned after a panic")
	}()
	// The worker was given back: the next call runs.
	ran := false
	if err := p.Run(context.Background(), func() { ran = true }); err != nil || !ran {
		t.Errorf("after a panic: ran %v, err %v", ran, err)
	}
}

func TestPoolOnActive(t *testing.T) {
	p := password.NewPool(2)
	var mu sync.Mutex
	var events []string
	p.OnActive(func(hashing bool) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, map[bool]string{true: "start", false: "end"}[hashing])
	})
	err := p.Run(context.Background(), func() {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, "hash")
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"start", "hash", "end"}; !slices.Equal(events, want) {
		t.Errorf("events %v, want %v", events, want)
	}
	// A call refused before it hashes says nothing.
	events = nil
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Run(ctx, func() {}); !errors.Is(err, password.ErrBusy) {
		t.Fatalf("Run with an ended context: %v", err)
	}
	if len(events) != 0 {
		t.Errorf("events %v for a refused call, want none", events)
	}
}
