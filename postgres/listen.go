package postgres

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
)

// The delays of ListenRevocations between attempts to connect: jittered and
// doubling, so instances that lost the database together do not come back
// in lockstep.
const (
	listenMinBackoff = 250 * time.Millisecond
	listenMaxBackoff = 30 * time.Second
)

// listenIdle is how long the listener waits for a notification before it
// checks that its connection still answers: a connection dropped without a
// word (a NAT or load balancer forgetting it) would keep it waiting forever.
const listenIdle = 30 * time.Second

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
	for {
		// The error is not reported: the server polls the revocations
		// anyway, and its polling reports a database that fails.
		listened, _ := db.listen(ctx, kick)
		if ctx.Err() != nil {
			return
		}
		if listened {
			backoff = listenMinBackoff
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
// listened reports whether LISTEN succeeded.
func (db *DB) listen(ctx context.Context, kick chan<- struct{}) (listened bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig)
	if err != nil {
		return false, err
	}
	defer func() {
		// ctx may have ended; closing still owes the server a goodbye.
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+revocationChannel); err != nil {
		return false, err
	}
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
			if err := conn.Ping(ctx); err != nil {
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
