package postgres

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// The delays of ListenRevocations between attempts to connect: jittered and
// doubling, so instances that lost the database together do not come back
// in lockstep, and capped low, because while the listener is away
// logouts reach this instance only by the slower poll.
const (
	listenMinBackoff = 250 * time.Millisecond
	listenMaxBackoff = 2 * time.Second
)

// listenIdle is how long the listener waits for a notification before it
// checks that its connection still answers: a connection dropped without a
// word (a NAT or load balancer forgetting it, a silent network) would keep
// it waiting forever.
const listenIdle = 10 * time.Second

// listenerState is what the metrics show of the revocation listener.
type listenerState struct {
	up         atomic.Bool
	reconnects atomic.Int64
}

// ListenRevocations calls fn whenever a transaction that records
// revocations commits, on any instance using the database (this one
// included), until ctx ends or the DB closes. It blocks until then: run it
// in a goroutine.
//
// It listens on a connection of its own, outside the pool. Notifications
// sent while nothing listened are lost, so fn is also called each time
// listening starts or starts again; after an error it reconnects with
// backoff. Calls of fn never overlap, notifications that arrive while fn
// runs lead to one more call rather than one each, and fn is not called
// after ListenRevocations returns.
func (db *DB) ListenRevocations(ctx context.Context, fn func()) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-db.closed:
			cancel()
		case <-ctx.Done():
		}
	}()

	// fn runs apart from the connection, so a slow fn neither delays
	// reading notifications nor misses any: they collapse into kick.
	kick := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-kick:
				if ctx.Err() != nil {
					return
				}
				fn()
			}
		}
	}()
	defer func() {
		cancel()
		<-done
	}()

	backoff := listenMinBackoff
	// down is when listening stopped (or first failed), zero while it
	// works: drop and return are logged once each, not every attempt.
	var down time.Time
	everListened := false
	for {
		listened, err := db.listen(ctx, kick, func() {
			if everListened {
				db.listener.reconnects.Add(1)
			}
			if !down.IsZero() {
				db.log.Info("revocation listener is back", "down_for", time.Since(down).Round(time.Millisecond).String())
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
			// Ended sessions still arrive by the server's poll meanwhile.
			db.log.Warn("revocation listener lost the database; retrying, ended sessions arrive by polling meanwhile", "err", err)
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

// listen connects, listens and signals kick once and then on every
// notification, until ctx ends (nil) or the connection fails (the error).
// listened reports whether LISTEN succeeded; started is called when it
// does. Connecting, LISTEN and the idle check are each bounded by the DB's
// timeout.
func (db *DB) listen(ctx context.Context, kick chan<- struct{}, started func()) (listened bool, err error) {
	bctx, cancel := db.bound(ctx)
	conn, err := pgx.ConnectConfig(bctx, db.pool.Config().ConnConfig)
	if err != nil {
		cancel()
		return false, err
	}
	defer func() {
		db.listener.up.Store(false)
		// ctx may have ended; closing still owes the server a goodbye, but
		// a silent server is not waited for.
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	_, err = conn.Exec(bctx, "LISTEN "+revocationChannel)
	cancel()
	if err != nil {
		return false, err
	}
	db.listener.up.Store(true)
	started()
	signal(kick)
	for {
		wctx, cancel := context.WithTimeout(ctx, listenIdle)
		_, err := conn.WaitForNotification(wctx)
		idle := wctx.Err() != nil
		cancel()
		switch {
		case err == nil:
			signal(kick)
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
