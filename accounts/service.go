// Package accounts is the account service: signup, login, refresh-token
// rotation with reuse detection, logout, sessions and password changes. It
// ties the store, the password hasher and the token issuer together, and
// keeps the in-memory set of ended sessions that the guard consults. It
// knows nothing of the guard's types: callers are named by their ids
// (Caller), and the set is any Revocations.
package accounts

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/password"
	"github.com/jotauth/jot/token"
)

// Options configure a Service.
type Options struct {
	AccessTTL    time.Duration
	RefreshTTL   time.Duration
	RefreshGrace time.Duration
	// Leeway is the verifiers' clock leeway: an ended session stays in the
	// revocation set until its last access token's exp plus Leeway.
	Leeway time.Duration
	Now    func() time.Time
	// HashWait bounds how long a request waits for a free hashing worker
	// before it is answered 503 (default 10s): a flood of logins queues,
	// then is turned away, instead of piling up without end.
	HashWait time.Duration
	Logger   *slog.Logger
	// Events, if set, is told of security events (for metrics).
	Events func(event string)
	// MaxSessions bounds a user's live sessions: a session start past it
	// ends the least recently used ones (0: no bound).
	MaxSessions int
	// SessionMaxAge is a session's absolute lifetime from its start,
	// however often it is refreshed (0: none beyond RefreshTTL).
	SessionMaxAge time.Duration

	// Mail configures the mail flows (verification, reset, email change).
	Mail MailOptions

	// UserCacheTTL is how long User trusts a user it read
	// (DefaultUserCacheTTL when zero; negative: no cache); UserCacheSize
	// bounds how many it remembers (DefaultUserCacheSize when zero).
	UserCacheTTL  time.Duration
	UserCacheSize int
}

// Events reported through Options.Events.
const (
	EventLoginOK      = "login_ok"
	EventLoginFailed  = "login_failed"
	EventSignup       = "signup"
	EventRefresh      = "refresh"
	EventReuse        = "reuse_detected"
	EventSessionEnded = "session_ended"
)

// Revocations is the in-memory set of ended sessions that a Service keeps
// in step with the store and that verifiers consult; *guard.RevocationSet
// is one. Add records a session ended until exp (its last access token's
// expiry plus the leeway); Prune drops what has expired by now.
type Revocations interface {
	Add(sessionID string, exp time.Time)
	// AddBytes is Add with the id as bytes, so a sync that reads many
	// ids need not make a string of each.
	AddBytes(sessionID []byte, exp time.Time)
	Prune(now time.Time)
}

// Caller names the authenticated user a request acts for, and the session
// it came with ("" when it came with none).
type Caller struct {
	UserID    string
	SessionID string
}

// Service is the account service. Create it with New.
type Service struct {
	store jot.Store
	// raw is the store as given, store the same wrapped so that writes
	// to users invalidate users.
	raw     jot.Store
	users   *userCache
	hasher  *password.Hasher
	issuer  *token.Issuer
	revoked Revocations
	opts    Options
	// successorKey derives a refresh token's successor from the token, so
	// a replay within the grace window answers with the same successor
	// without any plaintext token being stored.
	successorKey []byte

	syncMu sync.Mutex
	cursor int64
	// fresh is an epoch shifted left once, with the low bit set while the
	// revocation set may be stale: a sync failed, or the database was
	// found out of reach, so sessions may have ended meanwhile that the
	// set does not hold (see RevocationsCurrent). Each such miss moves the
	// epoch on, so a sync that began before it cannot clear it.
	fresh atomic.Uint64

	signups keyLock

	// ceiling caches the highest bcrypt cost stored (see hashCeiling).
	ceilMu sync.Mutex
	ceil   int
	ceilAt time.Time
}

// New returns a Service. It loads the refresh-token key and the ended
// sessions that are still relevant from the store.
func New(ctx context.Context, store jot.Store, hasher *password.Hasher, issuer *token.Issuer, revoked Revocations, opts Options) (*Service, error) {
	if opts.Now == nil {
		opts.Now = utcNow
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Events == nil {
		opts.Events = func(string) {}
	}
	if opts.HashWait <= 0 {
		opts.HashWait = 10 * time.Second
	}
	opts.Mail.defaults()
	key, err := store.Secret(ctx, "refresh-successor", func() ([]byte, error) {
		b := make([]byte, 32)
		_, err := rand.Read(b)
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("load refresh key: %w", err)
	}
	s := &Service{store: store, hasher: hasher, issuer: issuer, revoked: revoked, opts: opts, successorKey: key}
	s.raw, s.users = store, newUserCache(opts.UserCacheTTL, opts.UserCacheSize)
	s.store = userWrites{Store: store, users: s.users}
	if err := s.SyncRevocations(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// utcNow is the default clock: every timestamp the API shows is UTC.
func utcNow() time.Time { return time.Now().UTC() }

// hashing bounds the wait for a hashing worker; the hash itself, once
// started, always completes.
func (s *Service) hashing(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.opts.HashWait)
}

// busy turns a hashing pool that could not take the work in time into
// EUNAVAILABLE, so a flood of logins is answered 503 rather than queued
// without bound.
func busy(err error) error {
	if errors.Is(err, password.ErrBusy) || errors.Is(err, context.DeadlineExceeded) {
		return &jot.Error{Code: jot.EUNAVAILABLE, Message: "server busy, try again", Err: err}
	}
	return err
}
