package postgres

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// The delays of the listener between attempts to connect: jittered and
// doubling, so instances that lost the database together do not come back
// in lockstep, and capped low, because while the listener is away
// logouts and rotations reach this instance only by the slower poll and
// key reload.
const (
	listenMinBackoff = 250 * time.Millisecond
	listenMaxBackoff = 2 * time.Second
)

// listenIdle is how long the listener waits for a notification before it
// checks that its connection still answers: a connection dropped without a
// word (a NAT or load balancer forgetting it, a silent network) would keep
// it waiting forever.
const listenIdle = 10 * time.Second

// listenerState is what the metrics show of the listener.
type listenerState struct {
	up         atomic.Bool
	reconnects atomic.Int64
}

// listenHub shares one listening connection among the subscribers of a
// DB (ListenRevocations, ListenKeys): an instance holds its pool plus one
// connection, however many channels it follows. The connection runs while
// anyone subscribes and stops with the last of them.
type listenHub struct {
	mu   sync.Mutex
	subs map[*listenSub]struct{}
	// stop ends the running connection loop (nil: none runs); done closes
	// when it has ended.
	stop context.CancelFunc
	done chan struct{}
	// up is whether the connection listens now (under mu, for a new
	// subscriber's catch-up call).
	up bool
}

// listenSub is one subscriber: kick is marked on each notification of its
// channel and each time listening starts.
type listenSub struct {
	channel string
	kick    chan struct{}
}

// ListenRevocations calls fn whenever a transaction that records
// revocations commits, on any instance using the DB's schema (this one
// included), until ctx ends or the DB closes. It blocks until then: run it
// in a goroutine.
//
// It listens on the DB's listening connection, outside the pool, which
// ListenKeys shares. Notifications sent while nothing listened are lost,
// so fn is also called when this call starts listening and each time the
// connection listens again; after an error it reconnects with backoff.
// Calls of fn never overlap, notifications that arrive while fn runs lead
// to one more call rather than one each, and fn is not called after
// ListenRevocations returns.
func (db *DB) ListenRevocations(ctx context.Context, fn func()) {
	db.subscribe(ctx, db.ch.revocations, fn)
}

// ListenKeys calls fn whenever a signing key is stored or revoked (`jot
// keys rotate` or `revoke`, another server's rotation or first key), on any
// instance using the DB's schema, until ctx ends or the DB closes. It blocks
// until then: run it in a goroutine. It shares the listening connection
// of ListenRevocations and behaves as it does.
func (db *DB) ListenKeys(ctx context.Context, fn func()) {
	db.subscribe(ctx, db.ch.keys, fn)
}

// subscribe runs fn for the notifications of channel until ctx ends or
// the DB closes, starting the listening connection if it is not running.
func (db *DB) subscribe(ctx context.Context, channel string, fn func()) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	select {
	case <-db.closed:
		return
	default:
	}
	sub := &listenSub{channel: channel, kick: make(chan struct{}, 1)}
	h := &db.hub
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[*listenSub]struct{}{}
	}
	h.subs[sub] = struct{}{}
	if h.stop == nil {
		lctx, stop := context.WithCancel(context.Background())
		prev := h.done
		h.stop, h.done = stop, make(chan struct{})
		go db.listenLoop(lctx, prev, h.done)
	} else if h.up {
		// Listening already: this subscriber catches up at once.
		signal(sub.kick)
	}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.subs, sub)
		if len(h.subs) == 0 && h.stop != nil {
			h.stop()
			h.stop = nil
		}
		h.mu.Unlock()
	}()

	// fn runs apart from the connection, so a slow fn neither delays
	// reading notifications nor misses any: they collapse into kick.
	for {
		select {
		case <-ctx.Done():
			return
		case <-db.closed:
			return
		case <-sub.kick:
			if ctx.Err() != nil {
				return
			}
			fn()
		}
	}
}

// dispatch marks the kick of every subscriber of channel ("" : all).
func (db *DB) dispatch(channel string) {
	h := &db.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if channel == "" || s.channel == channel {
			signal(s.kick)
		}
	}
}

// setUp records whether the connection listens.
func (db *DB) setUp(up bool) {
	db.hub.mu.Lock()
	db.hub.up = up
	db.hub.mu.Unlock()
	db.listener.up.Store(up)
}

// listenLoop keeps the listening connection until ctx ends or the DB
// closes, reconnecting with backoff; it first waits for the loop before
// it (prev) to end, so two never run at once. It closes done on return.
func (db *DB) listenLoop(ctx context.Context, prev <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-db.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	if prev != nil {
		select {
		case <-prev:
		case <-ctx.Done():
			return
		}
	}

	backoff := listenMinBackoff
	// down is when listening stopped (or first failed), zero while it
	// works: drop and return are logged once each, not every attempt.
	var down time.Time
	everListened := false
	for {
		listened, err := db.listen(ctx, func() {
			if everListened {
				db.listener.reconnects.Add(1)
			}
			if !down.IsZero() {
				db.log.Info("listener is back: ended sessions and key changes arrive at once again", "down_for", time.Since(down).Round(time.Millisecond).String())
				down = time.Time{}
			}
			everListened = true
		})
		if ctx.Err() != nil {
			return
		}
		if listened {
			backoff = listenMinBackoff
		}
		if down.IsZero() {
			down = time.Now()
			// Ended sessions still arrive by the server's poll meanwhile,
			// and key changes by its periodic reload.
			db.log.Warn("listener lost the database; retrying, ended sessions and key changes arrive by polling meanwhile", "err", err)
		}
		t := time.NewTimer(backoff/2 + rand.N(backoff/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, listenMaxBackoff)
	}
}

// listen connects, listens on every channel and marks every subscriber
// once, then the subscribers of each notification's channel, until ctx
// ends (nil) or the connection fails (the error). listened reports
// whether LISTEN succeeded; started is called when it does. Connecting,
// LISTEN and the idle check are each bounded by the DB's timeout.
func (db *DB) listen(ctx context.Context, started func()) (listened bool, err error) {
	bctx, cancel := db.bound(ctx)
	conn, err := pgx.ConnectConfig(bctx, db.pool.Config().ConnConfig)
	if err != nil {
		cancel()
		return false, err
	}
	defer func() {
		db.setUp(false)
		// ctx may have ended; closing still owes the server a goodbye, but
		// a silent server is not waited for.
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	// Quoted: a qualified name holds a colon, and a schema's name any case.
	for _, ch := range db.ch.all() {
		if _, err = conn.Exec(bctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			cancel()
			return false, err
		}
	}
	cancel()
	db.setUp(true)
	started()
	// Notifications sent while nothing listened are lost: everyone
	// catches up.
	db.dispatch("")
	for {
		wctx, cancel := context.WithTimeout(ctx, listenIdle)
		n, err := conn.WaitForNotification(wctx)
		idle := wctx.Err() != nil
		cancel()
		switch {
		case err == nil:
			db.dispatch(n.Channel)
		case ctx.Err() != nil:
			return true, nil
		case idle:
			// A timeout leaves a pgx connection usable.
			pctx, cancel := db.bound(ctx)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return true, err
			}
		default:
			return true, err
		}
	}
}

// signal marks kick without blocking: one pending mark stands for any number.
func signal(kick chan<- struct{}) {
	select {
	case kick <- struct{}{}:
	default:
	}
}
