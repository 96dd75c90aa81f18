// Package accounts is the account service: signup, login, refresh-token
// rotation with reuse detection, logout, sessions and password changes. It
// ties the store, the password hasher and the token issuer together, and
// keeps the in-memory set of ended sessions that the guard consults.
package accounts

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/guard"
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

// Service is the account service. Create it with New.
type Service struct {
	store jot.Store
	// raw is the store as given, store the same wrapped so that writes
	// to users invalidate users.
	raw     jot.Store
	users   *userCache
	hasher  *password.Hasher
	issuer  *token.Issuer
	revoked *guard.RevocationSet
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

// ceilingTTL is how long the highest stored cost is trusted before it is
// asked again: a hash imported at a dearer cost by another process is
// padded to within this long. The question is one index lookup.
const ceilingTTL = time.Second

// hashCeiling returns the bcrypt cost a failed login is padded to: the
// highest cost stored, which the hasher raises to its configured cost.
// When the store cannot answer, the last answer stands (or 0: the
// configured cost), as the login itself will need the store anyway.
func (s *Service) hashCeiling(ctx context.Context) int {
	hs, ok := s.raw.(jot.HashCostStore)
	if !ok {
		return 0
	}
	s.ceilMu.Lock()
	defer s.ceilMu.Unlock()
	if now := s.opts.Now(); now.Sub(s.ceilAt) >= ceilingTTL {
		c, err := hs.MaxBcryptCost(ctx)
		if err != nil {
			s.opts.Logger.WarnContext(ctx, "highest stored hash cost unknown", "err", err)
			return s.ceil
		}
		s.ceil, s.ceilAt = c, now
	}
	return s.ceil
}

// Client describes where a request comes from, recorded on the session.
type Client struct {
	UserAgent string
	IP        string
}

// TokenResponse is the answer of signup, login and the token endpoint
// (RFC 6749 §5.1).
type TokenResponse struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type"`
	ExpiresIn    int64     `json:"expires_in"`
	RefreshToken string    `json:"refresh_token"`
	User         *jot.User `json:"user"`
}

// New returns a Service. It loads the refresh-token key and the ended
// sessions that are still relevant from the store.
func New(ctx context.Context, store jot.Store, hasher *password.Hasher, issuer *token.Issuer, revoked *guard.RevocationSet, opts Options) (*Service, error) {
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

// utcNow is the default clock: every timestamp the API shows is UTC.
func utcNow() time.Time { return time.Now().UTC() }

// hashing bounds the wait for a hashing worker; the hash itself, once
// started, always completes.
func (s *Service) hashing(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.opts.HashWait)
}

// hashToken is how refresh tokens are stored: SHA-256, never the token.
func hashToken(t string) []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}

func (s *Service) successor(t string) string {
	m := hmac.New(sha256.New, s.successorKey)
	m.Write([]byte(t))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func newRefreshToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random refresh token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ValidateEmail checks an email's shape and returns what is wrong with it,
// or "" when nothing is. The value must already be normalized.
func ValidateEmail(email string) string {
	if email == "" {
		return "is required"
	}
	if len(email) > 254 {
		return "must be at most 254 characters"
	}
	if msg := emailLookAlike(email); msg != "" {
		return msg
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" {
		return "must be a valid email address"
	}
	at := strings.LastIndexByte(email, '@')
	if at < 1 || !strings.Contains(email[at+1:], ".") || strings.HasSuffix(email, ".") {
		return "must be a valid email address"
	}
	return ""
}

// ValidateName checks a display name and returns what is wrong with it, or
// "" when nothing is.
func ValidateName(name string) string {
	if !utf8.ValidString(name) {
		return "must be valid UTF-8"
	}
	if utf8.RuneCountInString(name) > 100 {
		return "must be at most 100 characters"
	}
	if strings.IndexFunc(name, refusedInName) >= 0 {
		return "must not contain control characters, bidi controls or zero-width spaces"
	}
	return ""
}

// accessExp is the exp of an access token issued at now, in whole
// seconds as the claim carries it, so the session records exactly the exp
// its tokens carry and the revocation feed can quote it.
func (s *Service) accessExp(now time.Time) time.Time {
	return now.Add(s.opts.AccessTTL).Truncate(time.Second)
}

// issue creates an access token for the user's session, expiring at exp.
func (s *Service) issue(u *jot.User, sessionID string, exp time.Time) (string, error) {
	raw, _, err := s.issuer.Issue(token.Claims{
		RegisteredClaims: jwt.RegisteredClaims{Subject: u.ID, ExpiresAt: jwt.NewNumericDate(exp)},
		SessionID:        sessionID,
		Role:             string(u.Role),
		Email:            u.Email,
		EmailVerified:    u.EmailVerified,
	})
	if err != nil {
		return "", fmt.Errorf("issue access token: %w", err)
	}
	return raw, nil
}

func (s *Service) response(access string, refresh string, u *jot.User) *TokenResponse {
	// expires_in is the configured lifetime: the exp claim is that much
	// after iat, whatever fraction of a second passed while answering.
	return &TokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: int64(s.opts.AccessTTL / time.Second), RefreshToken: refresh, User: u}
}

// StartSession creates a session for u, who has just authenticated, and
// returns its token response.
//
// The session is pinned to u as authenticated: the store creates it only
// while the user still has u's role and password hash and is not disabled,
// in one transaction with that check. A change that committed since u was
// read (the password hash runs for a while) is thus never outrun by the
// new session. Then the user is read again: disabled, deleted or a
// different password hash answers ErrBadCredentials, as a wrong password
// does; anything else (a new role) gets tokens issued from the user as
// stored now, under a new pin, once.
func (s *Service) StartSession(ctx context.Context, u *jot.User, c Client) (*TokenResponse, error) {
	if err := s.checkVerified(u); err != nil {
		return nil, err
	}
	now := s.opts.Now()
	refresh, err := newRefreshToken()
	if err != nil {
		return nil, err
	}
	sess := &jot.Session{
		ID:         jot.NewID(),
		UserID:     u.ID,
		CreatedAt:  now,
		LastUsedAt: now,
		ExpiresAt:  now.Add(s.opts.RefreshTTL),
		UserAgent:  truncate(c.UserAgent, 256),
		IP:         c.IP,
	}
	if s.opts.SessionMaxAge > 0 && s.opts.SessionMaxAge < s.opts.RefreshTTL {
		sess.ExpiresAt = now.Add(s.opts.SessionMaxAge)
	}
	sess.AccessExp = s.accessExp(now)
	for attempt := 0; ; attempt++ {
		access, err := s.issue(u, sess.ID, sess.AccessExp)
		if err != nil {
			return nil, err
		}
		pin := &jot.UserPin{Role: u.Role, PasswordHash: u.PasswordHash}
		audit := &jot.Audit{
			Events: []*jot.AuditEvent{s.selfEvent(ctx, jot.AuditLogin, u.ID, sess.ID, nil)},
			Ended:  s.selfEvent(ctx, jot.AuditSessionEnded, u.ID, "", why(jot.WhyMaxSessions)),
		}
		ended, err := s.store.CreateSessionWithin(ctx, sess, hashToken(refresh), pin, s.opts.MaxSessions, audit)
		if err == nil {
			s.LogAudit(ctx, audit)
			if ended > 0 {
				// The sessions pushed out end like any other: their
				// access tokens are refused from the next request on.
				s.opts.Logger.InfoContext(ctx, "session limit reached: least recently used sessions ended", "user_id", u.ID, "ended", ended)
				s.afterEnd(ctx)
			}
			return s.response(access, refresh, u), nil
		}
		switch jot.ErrorCode(err) {
		case jot.ENOTFOUND:
			// Deleted meanwhile.
			return nil, ErrBadCredentials
		case jot.ECONFLICT:
		default:
			return nil, fmt.Errorf("create session: %w", err)
		}
		if attempt > 0 {
			s.opts.Logger.WarnContext(ctx, "login refused: the account kept changing", "user_id", u.ID)
			return nil, ErrBadCredentials
		}
		cur, err := s.store.UserByID(ctx, u.ID)
		if jot.ErrorCode(err) == jot.ENOTFOUND {
			return nil, ErrBadCredentials
		} else if err != nil {
			return nil, err
		}
		if cur.Disabled || cur.PasswordHash != u.PasswordHash {
			s.opts.Logger.InfoContext(ctx, "login refused: the account was disabled or its password changed during the login", "user_id", u.ID)
			return nil, ErrBadCredentials
		}
		u = cur
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// NewUser validates a new account's fields and hashes its password; it
// does not store the user. Signup and the CLI share it.
func NewUser(ctx context.Context, hasher *password.Hasher, email, pw, name string, role jot.Role, now time.Time) (*jot.User, error) {
	email, name, err := validateNewUser(email, pw, name, role)
	if err != nil {
		return nil, err
	}
	hash, err := hasher.Hash(ctx, pw)
	if err != nil {
		return nil, busy(err)
	}
	return &jot.User{ID: jot.NewID(), Email: email, Name: name, Role: role, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}, nil
}

// validateNewUser checks a new account's fields and returns the email and
// name normalized.
func validateNewUser(email, pw, name string, role jot.Role) (string, string, error) {
	email = jot.NormalizeEmail(email)
	name = strings.TrimSpace(name)
	fields := map[string]string{}
	if msg := ValidateEmail(email); msg != "" {
		fields["email"] = msg
	}
	if err := password.Validate(pw); err != nil {
		var je *jot.Error
		if errors.As(err, &je) && len(je.Fields) > 0 {
			for k, v := range je.Fields {
				fields[k] = v
			}
		} else {
			fields["password"] = err.Error()
		}
	}
	if msg := ValidateName(name); msg != "" {
		fields["name"] = msg
	}
	if !role.Valid() {
		fields["role"] = "must be \"user\" or \"admin\""
	}
	if len(fields) > 0 {
		return "", "", jot.ValidationError(fields)
	}
	return email, name, nil
}

// Signup registers a user and starts a session.
func (s *Service) Signup(ctx context.Context, email, pw, name string, c Client) (*TokenResponse, error) {
	u, err := s.register(ctx, email, pw, name)
	if err != nil {
		return nil, err
	}
	s.opts.Events(EventSignup)
	if s.opts.Mail.Verification == VerificationRequired {
		// No tokens until the email is verified: only the user.
		return &TokenResponse{User: u}, nil
	}
	return s.StartSession(ctx, u, c)
}

// register validates, hashes and stores a new user account.
func (s *Service) register(ctx context.Context, email, pw, name string) (*jot.User, error) {
	email, _, err := validateNewUser(email, pw, name, jot.RoleUser)
	if err != nil {
		return nil, err
	}
	defer s.signups.lock(email)()
	// A cheap look-up first spares a hash for an email that is taken; the
	// unique index still decides races with other instances.
	if _, err := s.store.UserByEmail(ctx, email); err == nil {
		return nil, jot.Errorf(jot.ECONFLICT, "email already registered")
	} else if jot.ErrorCode(err) != jot.ENOTFOUND {
		return nil, err
	}
	hctx, cancel := s.hashing(ctx)
	u, err := NewUser(hctx, s.hasher, email, pw, name, jot.RoleUser, s.opts.Now())
	cancel()
	if err != nil {
		return nil, err
	}
	audit := &jot.Audit{Events: []*jot.AuditEvent{s.selfEvent(ctx, jot.AuditSignup, u.ID, "", nil)}}
	if err := s.createUser(ctx, u, audit); err != nil {
		if jot.ErrorCode(err) == jot.ECONFLICT {
			return nil, jot.Errorf(jot.ECONFLICT, "email already registered")
		}
		return nil, err
	}
	s.LogAudit(ctx, audit)
	return u, nil
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

// ErrBadCredentials is the one answer to a wrong email, a wrong password and
// a disabled account alike.
var ErrBadCredentials = jot.Errorf(jot.EINVALIDCREDENTIALS, "invalid email or password")

// Authenticate checks an email and password and returns the user. Unknown
// email, wrong password and disabled account all return ErrBadCredentials
// after the same work: one comparison at the highest bcrypt cost stored, or
// its equivalent (see password.Hasher.VerifyPadded).
func (s *Service) Authenticate(ctx context.Context, email, pw string) (*jot.User, error) {
	email = jot.NormalizeEmail(email)
	hctx, cancel := s.hashing(ctx)
	defer cancel()
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil {
		if jot.ErrorCode(err) != jot.ENOTFOUND {
			return nil, err
		}
		if err := s.hasher.VerifyDummyAt(hctx, pw, s.hashCeiling(ctx)); err != nil {
			return nil, busy(err)
		}
		s.opts.Events(EventLoginFailed)
		// The email tried is not recorded: people type passwords into
		// the email field, and an event never holds a password.
		s.Record(ctx, s.Event(ctx, jot.AuditLoginFailed, "", "", why(jot.WhyUnknownEmail)))
		return nil, ErrBadCredentials
	}
	// A failure is padded to the cost of the dearest stored hash, which is
	// what the unknown email above costs: neither a cheap imported hash nor
	// a changed JOT_BCRYPT_COST tells which emails have accounts.
	ok, err := s.hasher.VerifyPadded(hctx, u.PasswordHash, pw, s.hashCeiling(ctx), u.Disabled)
	if err != nil && !errors.Is(err, password.ErrBusy) && !errors.Is(err, context.DeadlineExceeded) {
		// An unreadable stored hash is a server fault, but the caller
		// learns no more than from a wrong password.
		s.opts.Logger.ErrorContext(ctx, "stored password hash unusable", "user_id", u.ID, "err", err)
		s.opts.Events(EventLoginFailed)
		s.Record(ctx, s.Event(ctx, jot.AuditLoginFailed, u.ID, "", why(jot.WhyUnusableHash)))
		return nil, ErrBadCredentials
	} else if err != nil {
		return nil, busy(err)
	}
	if !ok || u.Disabled {
		s.opts.Events(EventLoginFailed)
		reason := jot.WhyWrongPassword
		if ok {
			reason = jot.WhyDisabled
		}
		s.Record(ctx, s.Event(ctx, jot.AuditLoginFailed, u.ID, "", why(reason)))
		return nil, ErrBadCredentials
	}
	if s.hasher.NeedsRehash(u.PasswordHash) && !s.rehash(ctx, u, pw) {
		// The stored hash changed while this login checked it: a password
		// change, or another login upgrading the same password. Whatever
		// is stored now decides.
		if u, err = s.recheck(ctx, u.ID, pw); err != nil {
			return nil, err
		}
	}
	s.opts.Events(EventLoginOK)
	return u, nil
}

// recheck verifies pw against the user as stored now.
func (s *Service) recheck(ctx context.Context, id, pw string) (*jot.User, error) {
	cur, err := s.store.UserByID(ctx, id)
	if jot.ErrorCode(err) == jot.ENOTFOUND {
		return nil, ErrBadCredentials
	} else if err != nil {
		return nil, err
	}
	hctx, cancel := s.hashing(ctx)
	defer cancel()
	ok, err := s.hasher.Verify(hctx, cur.PasswordHash, pw)
	if err != nil && (errors.Is(err, password.ErrBusy) || errors.Is(err, context.DeadlineExceeded)) {
		return nil, busy(err)
	}
	if err != nil || !ok || cur.Disabled {
		s.opts.Events(EventLoginFailed)
		reason := jot.WhyWrongPassword
		if err == nil && ok {
			reason = jot.WhyDisabled
		}
		s.Record(ctx, s.Event(ctx, jot.AuditLoginFailed, cur.ID, "", why(reason)))
		return nil, ErrBadCredentials
	}
	return cur, nil
}

// rehash upgrades a hash made with weaker parameters; a failure only means
// the upgrade waits for the next login.
//
// It reports false only when the stored hash is no longer the one verified.
func (s *Service) rehash(ctx context.Context, u *jot.User, pw string) bool {
	// A wait of its own: the check before it may have used up the first.
	hctx, cancel := s.hashing(ctx)
	defer cancel()
	hash, err := s.hasher.Hash(hctx, pw)
	if err != nil {
		s.opts.Logger.WarnContext(ctx, "password rehash failed", "user_id", u.ID, "err", err)
		return true
	}
	// Only over the hash just verified: a password change that committed
	// since must not be undone by writing the old password back.
	_, err = s.store.UpdateUser(ctx, u.ID, jot.UserUpdate{PasswordHash: &hash, IfPasswordHash: &u.PasswordHash}, s.opts.Now())
	if jot.ErrorCode(err) == jot.ECONFLICT {
		s.opts.Logger.InfoContext(ctx, "password rehash skipped: the stored hash changed meanwhile", "user_id", u.ID)
		return false
	} else if err != nil {
		s.opts.Logger.WarnContext(ctx, "password rehash not saved", "user_id", u.ID, "err", err)
		return true
	}
	u.PasswordHash = hash
	return true
}

// Login checks the credentials and starts a session.
func (s *Service) Login(ctx context.Context, email, pw string, c Client) (*TokenResponse, error) {
	u, err := s.Authenticate(ctx, email, pw)
	if err != nil {
		return nil, err
	}
	return s.StartSession(ctx, u, c)
}

// ErrBadRefresh is the answer to any refresh token that cannot be used.
var ErrBadRefresh = jot.Errorf(jot.EINVALIDGRANT, "invalid or expired refresh token")

// Refresh rotates a refresh token: a new access token and a new refresh
// token for the same session. A used token ends the session, except within
// the grace window, where the answer carries the same successor again.
func (s *Service) Refresh(ctx context.Context, refresh string, c Client) (*TokenResponse, error) {
	if refresh == "" || len(refresh) > 512 {
		return nil, ErrBadRefresh
	}
	now := s.opts.Now()
	exp := s.accessExp(now)
	next := s.successor(refresh)
	req := jot.RotateRequest{
		Hash:          hashToken(refresh),
		SuccessorHash: hashToken(next),
		Now:           now,
		Grace:         s.opts.RefreshGrace,
		ExpiresAt:     now.Add(s.opts.RefreshTTL),
		MaxAge:        s.opts.SessionMaxAge,
		AccessExp:     exp,
		UserAgent:     truncate(c.UserAgent, 256),
		IP:            c.IP,
		// Event, user and session are the store's to fill in.
		Audit: s.Event(ctx, "", "", "", nil),
	}
	res, err := s.store.RotateRefresh(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("rotate refresh token: %w", err)
	}
	if res.Outcome != jot.RotateInvalid {
		s.logEvent(ctx, req.Audit)
	}
	switch res.Outcome {
	case jot.RotateOK, jot.RotateGrace:
	case jot.RotateReused:
		s.opts.Events(EventReuse)
		s.opts.Logger.WarnContext(ctx, "refresh token reuse: session ended", "session_id", res.Session.ID, "user_id", res.Session.UserID)
		s.afterEnd(ctx)
		return nil, ErrBadRefresh
	default:
		return nil, ErrBadRefresh
	}
	access, err := s.issue(res.User, res.Session.ID, exp)
	if err != nil {
		return nil, err
	}
	s.opts.Events(EventRefresh)
	return s.response(access, next, res.User), nil
}

// Logout ends the caller's session, or with all every session of theirs.
func (s *Service) Logout(ctx context.Context, p *guard.Principal, all bool) error {
	var err error
	scope := "session"
	if all {
		scope = "all"
	}
	// One logout event for each session the logout ends.
	audit := &jot.Audit{Ended: s.Event(ctx, jot.AuditLogout, p.UserID, "", map[string]any{"scope": scope})}
	if all {
		err = s.store.EndUserSessions(ctx, p.UserID, "", s.opts.Now(), audit)
	} else {
		err = s.store.EndSession(ctx, p.SessionID, s.opts.Now(), audit)
		if jot.ErrorCode(err) == jot.ENOTFOUND {
			// Already ended (a race with another logout): the goal holds.
			err = nil
		}
	}
	if err != nil {
		return err
	}
	s.LogAudit(ctx, audit)
	s.afterEnd(ctx)
	return nil
}

// Sessions lists the caller's live sessions.
func (s *Service) Sessions(ctx context.Context, p *guard.Principal) ([]*jot.Session, error) {
	return s.store.ListSessions(ctx, p.UserID, s.opts.Now())
}

// SessionsPage lists one page of the caller's live sessions, newest
// first; see jot.SessionStore.ListSessionsPage.
func (s *Service) SessionsPage(ctx context.Context, p *guard.Principal, page jot.Page) ([]*jot.Session, error) {
	return s.store.ListSessionsPage(ctx, p.UserID, s.opts.Now(), page)
}

// EndSession ends one of the caller's sessions; another user's session is
// ENOTFOUND, exactly like a missing one.
func (s *Service) EndSession(ctx context.Context, p *guard.Principal, id string) error {
	notFound := jot.Errorf(jot.ENOTFOUND, "session not found")
	if !jot.ValidID(id) {
		return notFound
	}
	sess, err := s.store.SessionByID(ctx, id)
	if err != nil {
		if jot.ErrorCode(err) == jot.ENOTFOUND {
			return notFound
		}
		return err
	}
	if sess.UserID != p.UserID || !sess.Live(s.opts.Now()) {
		return notFound
	}
	audit := &jot.Audit{Ended: s.Event(ctx, jot.AuditSessionEnded, p.UserID, "", why(jot.WhyEndedByUser))}
	if err := s.store.EndSession(ctx, id, s.opts.Now(), audit); err != nil {
		if jot.ErrorCode(err) == jot.ENOTFOUND {
			return notFound
		}
		return err
	}
	s.LogAudit(ctx, audit)
	s.afterEnd(ctx)
	return nil
}

// User returns a user by id, from a short-lived cache when it was read
// lately (see DefaultUserCacheTTL): for answers, never for decisions that
// need the stored password hash or role.
func (s *Service) User(ctx context.Context, id string) (*jot.User, error) {
	if !jot.ValidID(id) {
		return nil, jot.Errorf(jot.ENOTFOUND, "user not found")
	}
	if s.users.off() {
		return s.userByID(ctx, id)
	}
	u, gen := s.users.get(id)
	if u != nil {
		return u, nil
	}
	u, err := s.userByID(ctx, id)
	if err == nil {
		s.users.put(u, gen)
	}
	return u, err
}

func (s *Service) userByID(ctx context.Context, id string) (*jot.User, error) {
	u, err := s.store.UserByID(ctx, id)
	if jot.ErrorCode(err) == jot.ENOTFOUND {
		return nil, jot.Errorf(jot.ENOTFOUND, "user not found")
	}
	return u, err
}

// Rename changes the caller's display name.
func (s *Service) Rename(ctx context.Context, p *guard.Principal, name string) (*jot.User, error) {
	name = strings.TrimSpace(name)
	if msg := ValidateName(name); msg != "" {
		return nil, jot.ValidationError(map[string]string{"name": msg})
	}
	audit := &jot.Audit{Events: []*jot.AuditEvent{
		s.Event(ctx, jot.AuditUserUpdated, p.UserID, p.SessionID, map[string]any{"fields": []string{"name"}}),
	}}
	u, err := s.store.UpdateUser(ctx, p.UserID, jot.UserUpdate{Name: &name}, s.opts.Now(), audit)
	if err != nil {
		return nil, err
	}
	s.LogAudit(ctx, audit)
	return u, nil
}

// ChangePassword checks the caller's current password, stores the new one
// and ends every other session of the caller.
func (s *Service) ChangePassword(ctx context.Context, p *guard.Principal, current, next string) error {
	u, err := s.store.UserByID(ctx, p.UserID)
	if err != nil {
		return err
	}
	hctx, cancel := s.hashing(ctx)
	defer cancel()
	// The current password is checked first: whoever does not know it
	// learns nothing about the policy's verdict on the new one.
	ok, err := s.hasher.Verify(hctx, u.PasswordHash, current)
	if err != nil {
		return busy(err)
	}
	if !ok {
		return jot.Errorf(jot.EINVALIDCREDENTIALS, "current password is wrong")
	}
	if err := password.Validate(next); err != nil {
		var je *jot.Error
		if errors.As(err, &je) && len(je.Fields) > 0 {
			return jot.ValidationError(map[string]string{"new_password": je.Fields["password"]})
		}
		return jot.ValidationError(map[string]string{"new_password": err.Error()})
	}
	hash, err := s.hasher.Hash(hctx, next)
	if err != nil {
		return busy(err)
	}
	// Written only over the hash just checked: of two changes racing, the
	// second, checked against the old password, is refused. A login that
	// upgraded the same password's hash meanwhile is no reason to refuse:
	// then the current password is checked once more against what is
	// stored now.
	checked := u.PasswordHash
	for attempt := 0; ; attempt++ {
		audit := &jot.Audit{
			Events: []*jot.AuditEvent{s.Event(ctx, jot.AuditPasswordChanged, p.UserID, p.SessionID, nil)},
			Ended:  s.Event(ctx, jot.AuditSessionEnded, p.UserID, "", why(jot.WhyPasswordChange)),
		}
		_, err := s.store.UpdateUser(ctx, p.UserID, jot.UserUpdate{
			PasswordHash: &hash, IfPasswordHash: &checked,
			EndSessions: true, EndSessionsExcept: p.SessionID,
		}, s.opts.Now(), audit)
		if err == nil {
			s.LogAudit(ctx, audit)
			break
		} else if jot.ErrorCode(err) != jot.ECONFLICT || attempt > 0 {
			if jot.ErrorCode(err) == jot.ECONFLICT {
				return jot.Errorf(jot.EINVALIDCREDENTIALS, "current password is wrong")
			}
			return err
		}
		cur, err := s.store.UserByID(ctx, p.UserID)
		if err != nil {
			return err
		}
		if ok, err := s.hasher.Verify(hctx, cur.PasswordHash, current); err != nil {
			return busy(err)
		} else if !ok {
			return jot.Errorf(jot.EINVALIDCREDENTIALS, "current password is wrong")
		}
		checked = cur.PasswordHash
	}
	s.afterEnd(ctx)
	return nil
}
