package accounts

import (
	"context"
	"fmt"
	"time"

	"github.com/jotauth/jot"
)

// SyncRevocations adds the sessions ended since the last call (by this
// process, another instance or the CLI) to the in-memory revocation set.
// A failure (other than ctx ending) marks the set stale until a sync
// succeeds again; see RevocationsCurrent.
func (s *Service) SyncRevocations(ctx context.Context) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	began := s.fresh.Load()
	now := s.opts.Now()
	scan, _ := s.raw.(jot.RevocationScanner)
	for {
		var (
			revs   []jot.Revocation
			n      int
			cursor int64
			more   bool
			err    error
		)
		if scan != nil {
			// No value per row: a start after a mass logout reads a
			// million of these.
			cursor, more, err = scan.ScanRevocations(ctx, s.cursor, now.Add(-s.opts.Leeway), syncPage, func(id []byte, exp time.Time) {
				s.revoked.AddBytes(id, exp.Add(s.opts.Leeway))
				n++
			})
		} else {
			revs, cursor, more, err = s.store.Revocations(ctx, s.cursor, now.Add(-s.opts.Leeway), syncPage)
			n = len(revs)
		}
		if err != nil {
			if ctx.Err() == nil && s.miss() {
				s.opts.Logger.Warn("revocation sync failed; protected routes answer 503 until it succeeds", "err", err)
			}
			return fmt.Errorf("load revocations: %w", err)
		}
		for _, r := range revs {
			s.revoked.Add(r.SessionID, r.Exp.Add(s.opts.Leeway))
		}
		if n > 0 {
			// Sessions end when a user is disabled, deleted, demoted or
			// changes password, here or on another instance: forget the
			// users read, rather than serve such a change late.
			s.users.clear()
		}
		s.cursor = cursor
		if !more {
			break
		}
	}
	// Only if nothing was missed since this sync began: a miss during it
	// may hide a session ended after its read.
	if began&1 == 1 && s.fresh.CompareAndSwap(began, began&^1) {
		s.opts.Logger.Info("revocation sync works again; ended sessions re-read")
	}
	return nil
}

// syncPage is how many revocations SyncRevocations reads at a time, so a
// start after a mass logout never holds them all in one result.
const syncPage = 10000

// miss marks the revocation set stale in a new epoch, and reports whether
// it was current until then.
func (s *Service) miss() (wasCurrent bool) {
	for {
		old := s.fresh.Load()
		if s.fresh.CompareAndSwap(old, (old>>1+1)<<1|1) {
			return old&1 == 0
		}
	}
}

// RevocationsCurrent reports whether the last revocation sync succeeded,
// so the revocation set holds every session ended up to then. While it
// does not (the database was out of reach), a token whose session ended
// meanwhile would pass: the server answers 503 instead. It is one atomic
// load, cheap enough for every protected request.
func (s *Service) RevocationsCurrent() bool { return s.fresh.Load()&1 == 0 }

// RevocationsMissed records that the database was found out of reach
// (by a request or a readiness check), so sessions may end there unseen:
// protected routes refuse until the next successful sync, rather than wait
// for a sync to fail first.
func (s *Service) RevocationsMissed() {
	if s.miss() {
		s.opts.Logger.Warn("database out of reach; protected routes answer 503 until the ended sessions are re-read")
	}
}

// RunSync keeps the revocation set in step with the store until ctx ends,
// so sessions ended elsewhere are refused here within `every`.
func (s *Service) RunSync(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// A failure is logged by SyncRevocations, once per outage.
			_ = s.SyncRevocations(ctx)
			s.revoked.Prune(s.opts.Now())
		}
	}
}

// afterEnd brings the revocation set up to date at once after this process
// ended sessions, so their access tokens are refused by the next request.
func (s *Service) afterEnd(ctx context.Context) {
	s.opts.Events(EventSessionEnded)
	if err := s.SyncRevocations(ctx); err != nil {
		s.opts.Logger.WarnContext(ctx, "revocation sync after session end failed", "err", err)
	}
}
