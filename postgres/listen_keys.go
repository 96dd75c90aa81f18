package postgres

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
)

// The delays of ListenKeys between attempts to connect: jittered and
// doubling, but short, because until it is back a rotation reaches this
// server only through its periodic reload.
const (
	keyListenMinBackoff = 100 * time.Millisecond
	keyListenMaxBackoff = 2 * time.Second
)

// keyListenIdle is how long ListenKeys waits for a notification before it
// checks that its connection still answers.
const keyListenIdle = 30 * time.Second

// ListenKeys calls fn whenever a signing key is stored or revoked (`jot
// keys rotate` or `revoke`, another server's rotation or first key), on any
// instance using the database, until ctx ends or the DB closes. It blocks
// until then: run it in a goroutine.
//
// It listens on a connection of its own, outside the pool. Notifications
// sent while nothing listened are lost, so fn is also called each time
// listening starts again after a failure. Calls of fn never overlap,
// notifications arriving while fn runs lead to one more call, and fn is
// not called after ListenKeys returns.
func (db *DB) ListenKeys(ctx context.Context, fn func()) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-db.closed:
			cancel()
		case <-ctx.Done():
		}
	}()

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

	backoff := keyListenMinBackoff
	first := true
	for {
		// Errors are not reported: the server reloads its keys every few
		// seconds anyway, and that reload reports a failing database.
		listened, _ := db.listenKeys(ctx, kick, !first)
		if ctx.Err() != nil {
			return
		}
		if listened {
			first = false
			backoff = keyListenMinBackoff
		}
		t := time.NewTimer(backoff/2 + rand.N(backoff/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, keyListenMaxBackoff)
	}
}

// listenKeys connects, listens and signals kick on every notification (and
// once on listening when again is set, for what was missed meanwhile)
// until ctx ends (nil) or the connection fails.
func (db *DB) listenKeys(ctx context.Context, kick chan<- struct{}, again bool) (listened bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig)
	if err != nil {
		return false, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+keyChannel); err != nil {
		return false, err
	}
	if again {
		kickKeys(kick)
	}
	for {
		wctx, cancel := context.WithTimeout(ctx, keyListenIdle)
		_, err := conn.WaitForNotification(wctx)
		idle := wctx.Err() != nil
		cancel()
		switch {
		case err == nil:
			kickKeys(kick)
		case ctx.Err() != nil:
			return true, nil
		case idle:
			if err := conn.Ping(ctx); err != nil {
				return true, err
			}
		default:
			return true, err
		}
	}
}

// kickKeys marks kick without blocking: one pending mark stands for any
// number.
func kickKeys(kick chan<- struct{}) {
	select {
	case kick <- struct{}{}:
	default:
	}
}
