package accounts_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/accounts"
	"github.com/jotauth/jot/guard"
	"github.com/jotauth/jot/internal/jottest"
	"github.com/jotauth/jot/password"
	"github.com/jotauth/jot/token"
)

// hookStore is a real store that runs a hook once, right after a user
// read, before the caller gets the (by then stale) user: the change a
// concurrent request commits while a login hashes the password.
type hookStore struct {
	jot.Store

	mu         sync.Mutex
	afterEmail func()
	afterByID  func()
}

func (h *hookStore) take(f *func()) func() {
	h.mu.Lock()
	defer h.mu.Unlock()
	fn := *f
	*f = nil
	return fn
}

// onUserByEmail runs fn once, after the next UserByEmail.
func (h *hookStore) onUserByEmail(fn func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.afterEmail = fn
}

// onUserByID runs fn once, after the next UserByID.
func (h *hookStore) onUserByID(fn func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.afterByID = fn
}

func (h *hookStore) UserByEmail(ctx context.Context, email string) (*jot.User, error) {
	u, err := h.Store.UserByEmail(ctx, email)
	if fn := h.take(&h.afterEmail); fn != nil {
		fn()
	}
	return u, err
}

func (h *hookStore) UserByID(ctx context.Context, id string) (*jot.User, error) {
	u, err := h.Store.UserByID(ctx, id)
	if fn := h.take(&h.afterByID); fn != nil {
		fn()
	}
	return u, err
}

const (
	issuer   = "https://jot.test"
	audience = "jot-test"
)

type fixture struct {
	t        *testing.T
	store    *hookStore
	svc      *accounts.Service
	hasher   *password.Hasher
	verifier *token.Verifier
}

// The server hands New a *guard.RevocationSet.
var _ accounts.Revocations = (*guard.RevocationSet)(nil)

// newFixture builds the account service over a fresh SQLite database.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := t.Context()
	db := jottest.SQLite(t)
	hasher, err := password.New(password.MinCost, 0)
	if err != nil {
		t.Fatal(err)
	}
	key, err := token.HMACKey(bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	const accessTTL = 15 * time.Minute
	keys := token.StaticKeys(token.NewKeySet(token.AlgHS256, []*token.Key{key}, time.Now(), accessTTL, token.DefaultLeeway))
	st := &hookStore{Store: db}
	svc, err := accounts.New(ctx, st, hasher,
		&token.Issuer{Keys: keys, Issuer: issuer, Audience: audience, TTL: accessTTL},
		guard.NewRevocationSet(),
		accounts.Options{AccessTTL: accessTTL, RefreshTTL: 24 * time.Hour, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, store: st, svc: svc, hasher: hasher,
		verifier: &token.Verifier{Keys: keys, Issuer: issuer, Audience: audience}}
}

// user stores a user with the password.
func (f *fixture) user(email, pw string, role jot.Role) *jot.User {
	f.t.Helper()
	u, err := accounts.NewUser(f.t.Context(), f.hasher, email, pw, "", role, time.Now().UTC())
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.store.CreateUser(f.t.Context(), u); err != nil {
		f.t.Fatal(err)
	}
	return u
}

// liveSessions counts the user's live sessions.
func (f *fixture) liveSessions(id string) int {
	f.t.Helper()
	list, err := f.store.ListSessions(f.t.Context(), id, time.Now().UTC())
	if err != nil {
		f.t.Fatal(err)
	}
	return len(list)
}

// wantBadCredentials fails unless a login was refused as a wrong password.
func (f *fixture) wantBadCredentials(resp *accounts.TokenResponse, err error, what string) {
	f.t.Helper()
	if resp != nil {
		f.t.Fatalf("%s: got tokens (role %q), want %s", what, f.role(resp.AccessToken), jot.EINVALIDCREDENTIALS)
	}
	if code := jot.ErrorCode(err); code != jot.EINVALIDCREDENTIALS {
		f.t.Fatalf("%s: %v, want %s", what, err, jot.EINVALIDCREDENTIALS)
	}
}

// wantLoginRefused fails unless a login was refused as a wrong password
// and the user has no live session.
func (f *fixture) wantLoginRefused(resp *accounts.TokenResponse, err error, what, userID string) {
	f.t.Helper()
	f.wantBadCredentials(resp, err, what)
	if n := f.liveSessions(userID); n != 0 {
		f.t.Errorf("%s: %d live sessions, want 0", what, n)
	}
}

// adminUpdate applies upd to the user, from within a store hook: a failure
// is reported, and the login under test goes on.
func (f *fixture) adminUpdate(userID string, upd accounts.AdminUpdate, what string) {
	f.t.Helper()
	if _, err := f.svc.AdminUpdateUser(f.t.Context(), userID, upd); err != nil {
		f.t.Errorf("%s: %v", what, err)
	}
}

// rehashFixture is a fixture with a user ada whose stored hash (of
// pass-phrase-1) needs a rehash.
func rehashFixture(t *testing.T) (*fixture, *jot.User) {
	t.Helper()
	f := newFixture(t)
	u := f.user("ada@example.com", "pass-phrase-1", jot.RoleUser)
	f.hasher.Cost = password.MinCost + 1
	return f, u
}

// innerLogin returns a store hook that logs u in with pass-phrase-1.
func (f *fixture) innerLogin(u *jot.User) func() {
	return func() {
		if _, err := f.svc.Login(f.t.Context(), u.Email, "pass-phrase-1", accounts.Client{}); err != nil {
			f.t.Errorf("inner Login: %v", err)
		}
	}
}

// role returns the role claim of an access token, checking it verifies.
func (f *fixture) role(access string) string {
	f.t.Helper()
	c, err := f.verifier.Verify(access)
	if err != nil {
		f.t.Fatalf("Verify: %v", err)
	}
	return c.Role
}

func (f *fixture) checkPassword(id, good, bad string) {
	f.t.Helper()
	ctx := f.t.Context()
	u, err := f.store.Store.UserByID(ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	if ok, err := f.hasher.Verify(ctx, u.PasswordHash, good); err != nil || !ok {
		f.t.Errorf("stored hash does not verify %q: %v, %v", good, ok, err)
	}
	if ok, err := f.hasher.Verify(ctx, u.PasswordHash, bad); err != nil || ok {
		f.t.Errorf("stored hash verifies %q: %v, %v", bad, ok, err)
	}
	if _, err := f.svc.Login(ctx, u.Email, good, accounts.Client{}); err != nil {
		f.t.Errorf("Login(%q): %v", good, err)
	}
	resp, err := f.svc.Login(ctx, u.Email, bad, accounts.Client{})
	f.wantBadCredentials(resp, err, "Login("+bad+")")
}

// An account disabled while its login checks the password gets no session:
// the login answers as for a wrong password.
func TestLoginDisabledDuringPasswordCheck(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	u := f.user("ada@example.com", "pass-phrase-1", jot.RoleUser)
	yes := true
	f.store.onUserByEmail(func() { f.adminUpdate(u.ID, accounts.AdminUpdate{Disabled: &yes}, "disable") })
	resp, err := f.svc.Login(ctx, u.Email, "pass-phrase-1", accounts.Client{})
	f.wantLoginRefused(resp, err, "Login during the disable", u.ID)
}

// The API authenticates and starts the session in two calls; a change in
// between is caught by the session's pin.
func TestStartSessionAfterChange(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(f *fixture, u *jot.User)
	}{
		{"disabled", func(f *fixture, u *jot.User) {
			yes := true
			if _, err := f.svc.AdminUpdateUser(f.t.Context(), u.ID, accounts.AdminUpdate{Disabled: &yes}); err != nil {
				f.t.Fatal(err)
			}
		}},
		{"password changed", func(f *fixture, u *jot.User) {
			p := accounts.Caller{UserID: u.ID}
			if err := f.svc.ChangePassword(f.t.Context(), p, "pass-phrase-1", "pass-phrase-2"); err != nil {
				f.t.Fatal(err)
			}
		}},
		{"deleted", func(f *fixture, u *jot.User) {
			if err := f.svc.AdminDeleteUser(f.t.Context(), u.ID); err != nil {
				f.t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := t.Context()
			f.user("admin@example.com", "pass-phrase-0", jot.RoleAdmin)
			u := f.user("ada@example.com", "pass-phrase-1", jot.RoleUser)
			authed, err := f.svc.Authenticate(ctx, u.Email, "pass-phrase-1")
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			tc.change(f, u)
			resp, err := f.svc.StartSession(ctx, authed, accounts.Client{})
			f.wantLoginRefused(resp, err, "StartSession after the change", u.ID)
		})
	}
}

// An admin demoted while their login checks the password gets a token that
// says "user", never "admin".
func TestLoginDemotedDuringPasswordCheck(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.user("other-admin@example.com", "pass-phrase-0", jot.RoleAdmin)
	a := f.user("ada@example.com", "pass-phrase-1", jot.RoleAdmin)
	demote := jot.RoleUser
	f.store.onUserByEmail(func() { f.adminUpdate(a.ID, accounts.AdminUpdate{Role: &demote}, "demote") })
	resp, err := f.svc.Login(ctx, a.Email, "pass-phrase-1", accounts.Client{})
	if err != nil {
		t.Fatalf("Login during the demotion: %v", err)
	}
	if got := f.role(resp.AccessToken); got != string(jot.RoleUser) {
		t.Errorf("token role %q, want %q", got, jot.RoleUser)
	}
	if resp.User.Role != jot.RoleUser {
		t.Errorf("response user role %q, want %q", resp.User.Role, jot.RoleUser)
	}
	if n := f.liveSessions(a.ID); n != 1 {
		t.Errorf("%d live sessions, want 1", n)
	}
	// The refresh token carries on with the session, under the new role.
	next, err := f.svc.Refresh(ctx, resp.RefreshToken, accounts.Client{})
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if got := f.role(next.AccessToken); got != string(jot.RoleUser) {
		t.Errorf("refreshed token role %q, want %q", got, jot.RoleUser)
	}
}

// A role that changes again while the login retries with the new one: the
// login gives up rather than loop, and leaves no session.
func TestLoginRoleChangesTwice(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.user("other-admin@example.com", "pass-phrase-0", jot.RoleAdmin)
	a := f.user("ada@example.com", "pass-phrase-1", jot.RoleAdmin)
	user, admin := jot.RoleUser, jot.RoleAdmin
	f.store.onUserByEmail(func() {
		f.adminUpdate(a.ID, accounts.AdminUpdate{Role: &user}, "demote")
		// The login's second read sees "user"; then the role changes back.
		f.store.onUserByID(func() {
			if _, err := f.store.Store.UpdateUser(ctx, a.ID, jot.UserUpdate{Role: &admin, EndSessions: true}, time.Now().UTC()); err != nil {
				t.Errorf("promote: %v", err)
			}
		})
	})
	resp, err := f.svc.Login(ctx, a.Email, "pass-phrase-1", accounts.Client{})
	f.wantLoginRefused(resp, err, "Login while the role keeps changing", a.ID)
}

// A password change that commits while a login with the old password is
// between its read and its rehash must stay: the rehash is skipped, the
// login refused, the new password works and the old one does not.
func TestRehashDoesNotUndoPasswordChange(t *testing.T) {
	f, u := rehashFixture(t)
	ctx := t.Context()
	f.store.onUserByEmail(func() {
		if err := f.svc.ChangePassword(ctx, accounts.Caller{UserID: u.ID}, "pass-phrase-1", "pass-phrase-2"); err != nil {
			t.Errorf("ChangePassword: %v", err)
		}
	})
	resp, err := f.svc.Login(ctx, u.Email, "pass-phrase-1", accounts.Client{})
	f.wantLoginRefused(resp, err, "Login with the password being changed", u.ID)
	f.checkPassword(u.ID, "pass-phrase-2", "pass-phrase-1")
}

// Without a race the rehash is stored, over the hash it verified.
func TestRehash(t *testing.T) {
	f, u := rehashFixture(t)
	ctx := t.Context()
	resp, err := f.svc.Login(ctx, u.Email, "pass-phrase-1", accounts.Client{})
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	stored, err := f.store.Store.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.PasswordHash == u.PasswordHash || f.hasher.NeedsRehash(stored.PasswordHash) {
		t.Errorf("hash not upgraded: %q", stored.PasswordHash)
	}
	if resp.User.PasswordHash != stored.PasswordHash {
		t.Error("the session was pinned to a hash other than the stored one")
	}
	f.checkPassword(u.ID, "pass-phrase-1", "pass-phrase-2")
}

// Two logins of the same user with the right password, the first upgrading
// the hash while the second is checking it: both get in.
func TestConcurrentLoginsWhileRehashing(t *testing.T) {
	f, u := rehashFixture(t)
	ctx := t.Context()
	f.store.onUserByEmail(f.innerLogin(u))
	if _, err := f.svc.Login(ctx, u.Email, "pass-phrase-1", accounts.Client{}); err != nil {
		t.Errorf("outer Login with the right password: %v", err)
	}
}

// A password change with the right current password while a login
// upgrades the same password's hash: the change goes through.
func TestChangePasswordWhileRehashing(t *testing.T) {
	f, u := rehashFixture(t)
	ctx := t.Context()
	f.store.onUserByID(f.innerLogin(u))
	if err := f.svc.ChangePassword(ctx, accounts.Caller{UserID: u.ID}, "pass-phrase-1", "pass-phrase-2"); err != nil {
		t.Fatalf("ChangePassword with the right current password: %v", err)
	}
	if _, err := f.svc.Login(ctx, u.Email, "pass-phrase-2", accounts.Client{}); err != nil {
		t.Errorf("login with the new password: %v", err)
	}
	if _, err := f.svc.Login(ctx, u.Email, "pass-phrase-1", accounts.Client{}); err == nil {
		t.Error("the old password still works")
	}
}
