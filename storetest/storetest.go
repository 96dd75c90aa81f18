// Package storetest is the contract test suite that every jot.Store passes.
// A store package calls Run from its own tests:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) jot.Store {
//			s := openFresh(t) // a new, empty database
//			if err := s.Migrate(t.Context()); err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
//
// What the suite requires beyond the doc comments of jot.Store:
//   - times are kept to at least the microsecond and come back in UTC (the
//     suite's times are whole microseconds and are compared with time.Equal);
//   - a call to a write method with an unknown id (ExtendAccess, UpdateTask,
//     DeleteTask, UpdateRecipe, DeleteRecipe) is ENOTFOUND;
//   - a duplicate signing key id is an error;
//   - Secret does not call gen when a value is stored already.
package storetest

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/jotauth/jot"
)

// Run runs the suite. Each subtest calls open for a fresh, migrated, empty
// store of its own and closes it when it ends (Close may be called again by
// cleanups that open registers).
func Run(t *testing.T, open func(t *testing.T) jot.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s jot.Store)
	}{
		{"Ping", testPing},
		{"MigrateAgain", testMigrateAgain},

		{"CreateUser", testCreateUser},
		{"CreateUserDuplicateEmail", testCreateUserDuplicateEmail},
		{"CreateUserConcurrent", testCreateUserConcurrent},
		{"CreateUsers", testCreateUsers},
		{"UserNotFound", testUserNotFound},
		{"UpdateUser", testUpdateUser},
		{"UpdateUserLastAdmin", testUpdateUserLastAdmin},
		{"UpdateUserEndSessions", testUpdateUserEndSessions},
		{"UpdateUserIfPasswordHash", testUpdateUserIfPasswordHash},
		{"DeleteUser", testDeleteUser},
		{"DeleteUserLastAdmin", testDeleteUserLastAdmin},
		{"ListUsers", testListUsers},
		{"MaxBcryptCost", testMaxBcryptCost},

		{"CreateSession", testCreateSession},
		{"CreateSessionPin", testCreateSessionPin},
		{"CreateSessionPinConcurrent", testCreateSessionPinConcurrent},
		{"ListSessions", testListSessions},
		{"ExtendAccess", testExtendAccess},
		{"EndSession", testEndSession},
		{"EndUserSessions", testEndUserSessions},
		{"Revocations", testRevocations},
		{"RevocationsLimit", testRevocationsLimit},
		{"ScanRevocations", testScanRevocations},
		{"Prune", testPrune},
		{"CreateSessionWithin", testCreateSessionWithin},
		{"CreateSessionWithinConcurrent", testCreateSessionWithinConcurrent},
		{"ListSessionsPage", testListSessionsPage},
		{"RotateMaxAge", testRotateMaxAge},
		{"ResourceQuota", testResourceQuota},
		{"ResourceQuotaConcurrent", testResourceQuotaConcurrent},

		{"RotateOK", testRotateOK},
		{"RotateInvalid", testRotateInvalid},
		{"RotateGrace", testRotateGrace},
		{"RotateGraceBoundary", testRotateGraceBoundary},
		{"RotateGraceSuccessorUsed", testRotateGraceSuccessorUsed},
		{"RotateGraceWrongSuccessor", testRotateGraceWrongSuccessor},
		{"RotateReusedAfterGrace", testRotateReusedAfterGrace},
		{"RotateReusedNoGrace", testRotateReusedNoGrace},
		{"RotateConcurrentGrace", testRotateConcurrentGrace},
		{"RotateConcurrentNoGrace", testRotateConcurrentNoGrace},

		{"Tasks", testTasks},
		{"ListTasks", testListTasks},
		{"Recipes", testRecipes},
		{"ListRecipes", testListRecipes},

		{"SigningKeys", testSigningKeys},
		{"CreateFirstSigningKey", testCreateFirstSigningKey},
		{"CreateFirstSigningKeyConcurrent", testCreateFirstSigningKeyConcurrent},
		{"DeleteSigningKey", testDeleteSigningKey},
		{"RevokeSigningKey", testRevokeSigningKey},
		{"RewriteSigningKeys", testRewriteSigningKeys},
		{"KeyServers", testKeyServers},
		{"Secret", testSecret},
		{"SecretConcurrent", testSecretConcurrent},

		{"EmailVerifiedField", testEmailVerifiedField},
		{"MailTokenConsume", testMailTokenConsume},
		{"MailTokenConsumeConcurrent", testMailTokenConsumeConcurrent},
		{"MailTokenNewestReset", testMailTokenNewestReset},
		{"MailTokenEndedByUpdate", testMailTokenEndedByUpdate},
		{"MailTokenEmailChange", testMailTokenEmailChange},
		{"CreateUserWithMail", testCreateUserWithMail},
		{"ClaimMail", testClaimMail},
		{"ClaimMailConcurrent", testClaimMailConcurrent},
		{"PruneMail", testPruneMail},
		{"AuditWrites", testAuditWrites},
		{"AuditRotate", testAuditRotate},
		{"AuditListAndPrune", testAuditListAndPrune},
		{"AuditSigningKey", testAuditSigningKey},
		{"AuditMailToken", testAuditMailToken},
		{"AuditRevokeSigningKey", testAuditRevokeSigningKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// concurrency is how many goroutines the race tests start at once.
const concurrency = 20

// base is the suite's clock: a fixed instant with a microsecond part, so a
// store that drops sub-second precision fails.
func base() time.Time {
	return time.Date(2026, 11, 24, 10, 0, 0, 123456000, time.UTC)
}

// Lifetimes of the fixtures, like the server's defaults.
const (
	accessTTL  = 15 * time.Minute
	refreshTTL = 720 * time.Hour
)

func testPing(t *testing.T, s jot.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testMigrateAgain(t *testing.T, s jot.Store) {
	u := mustUser(t, s, "keep@example.com", jot.RoleUser)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	got := mustUserByID(t, s, u.ID)
	checkUser(t, got, u)
}

// newUser returns a user that is not stored yet.
func newUser(email string, role jot.Role) *jot.User {
	return &jot.User{
		ID:           jot.NewID(),
		Email:        email,
		Name:         "Name of " + email,
		Role:         role,
		PasswordHash: "$2a$10$" + email,
		CreatedAt:    base(),
		UpdatedAt:    base(),
	}
}

// mustUser stores a new user.
func mustUser(t *testing.T, s jot.Store, email string, role jot.Role) *jot.User {
	t.Helper()
	u := newUser(email, role)
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser(%s): %v", email, err)
	}
	return u
}

func mustUserByID(t *testing.T, s jot.Store, id string) *jot.User {
	t.Helper()
	u, err := s.UserByID(t.Context(), id)
	if err != nil {
		t.Fatalf("UserByID(%s): %v", id, err)
	}
	return u
}

// newHash returns the SHA-256 of a fresh random refresh token.
func newHash(t *testing.T) []byte {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return h[:]
}

// mustSession stores a new session of u created at created, and returns it
// with the hash of its refresh token.
func mustSession(t *testing.T, s jot.Store, u *jot.User, created time.Time) (*jot.Session, []byte) {
	t.Helper()
	ss := &jot.Session{
		ID:         jot.NewID(),
		UserID:     u.ID,
		CreatedAt:  created,
		LastUsedAt: created,
		ExpiresAt:  created.Add(refreshTTL),
		UserAgent:  "agent/1.0",
		IP:         "192.0.2.1",
		AccessExp:  created.Add(accessTTL),
	}
	h := newHash(t)
	if err := s.CreateSession(t.Context(), ss, h, nil); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	return ss, h
}

func mustSessionByID(t *testing.T, s jot.Store, id string) *jot.Session {
	t.Helper()
	ss, err := s.SessionByID(t.Context(), id)
	if err != nil {
		t.Fatalf("SessionByID(%s): %v", id, err)
	}
	return ss
}

// wantCode fails the test unless err carries the error code.
func wantCode(t *testing.T, err error, code, what string) {
	t.Helper()
	if got := jot.ErrorCode(err); got != code {
		t.Fatalf("%s: error code %q (err %v), want %q", what, got, err, code)
	}
}

func checkTime(t *testing.T, field string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", field, got, want)
	}
	if !got.IsZero() && got.Location() != time.UTC {
		t.Errorf("%s = %v is not in UTC", field, got)
	}
}

func checkUser(t *testing.T, got, want *jot.User) {
	t.Helper()
	if got == nil {
		t.Fatalf("user is nil, want %s", want.ID)
	}
	if got.ID != want.ID || got.Email != want.Email || got.Name != want.Name || got.Role != want.Role ||
		got.Disabled != want.Disabled || got.PasswordHash != want.PasswordHash {
		t.Errorf("user = %+v, want %+v", *got, *want)
	}
	checkTime(t, "user CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "user UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func checkSession(t *testing.T, got, want *jot.Session) {
	t.Helper()
	if got == nil {
		t.Fatalf("session is nil, want %s", want.ID)
	}
	if got.ID != want.ID || got.UserID != want.UserID || got.UserAgent != want.UserAgent || got.IP != want.IP {
		t.Errorf("session = %+v, want %+v", *got, *want)
	}
	checkTime(t, "session CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "session LastUsedAt", got.LastUsedAt, want.LastUsedAt)
	checkTime(t, "session ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	checkTime(t, "session AccessExp", got.AccessExp, want.AccessExp)
	checkTime(t, "session EndedAt", got.EndedAt, want.EndedAt)
}

// revocationsOf returns every revocation by session id, failing the test
// when a session has more than one.
func revocationsOf(t *testing.T, s jot.Store) map[string]jot.Revocation {
	t.Helper()
	revs, _, _, err := s.Revocations(t.Context(), 0, time.Time{}, 0)
	if err != nil {
		t.Fatalf("Revocations: %v", err)
	}
	m := map[string]jot.Revocation{}
	for _, r := range revs {
		if _, dup := m[r.SessionID]; dup {
			t.Errorf("session %s revoked twice", r.SessionID)
		}
		m[r.SessionID] = r
	}
	return m
}

// checkEnded checks that the session ended at now and has a revocation
// with its AccessExp.
func checkEnded(t *testing.T, s jot.Store, revs map[string]jot.Revocation, id string, now time.Time) {
	t.Helper()
	ss := mustSessionByID(t, s, id)
	checkTime(t, "EndedAt of "+id, ss.EndedAt, now)
	r, ok := revs[id]
	if !ok {
		t.Errorf("session %s ended without a revocation", id)
		return
	}
	checkTime(t, "revocation Exp of "+id, r.Exp, ss.AccessExp)
	checkTime(t, "revocation EndedAt of "+id, r.EndedAt, now)
}

// checkLive checks that the session has not ended and has no revocation.
func checkLive(t *testing.T, s jot.Store, revs map[string]jot.Revocation, id string) {
	t.Helper()
	ss := mustSessionByID(t, s, id)
	if !ss.EndedAt.IsZero() {
		t.Errorf("session %s ended at %v, want live", id, ss.EndedAt)
	}
	if _, ok := revs[id]; ok {
		t.Errorf("live session %s has a revocation", id)
	}
}

// walk reads a whole list page by page and returns the ids in the order
// given, checking that no page exceeds the limit.
func walk[T any](t *testing.T, limit int, list func(p jot.Page) ([]T, error), id func(T) string) []string {
	t.Helper()
	var ids []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatal("pagination does not end")
		}
		items, err := list(jot.Page{After: after, Limit: limit})
		if err != nil {
			t.Fatalf("list after %q: %v", after, err)
		}
		if len(items) > limit {
			t.Fatalf("page after %q has %d items, limit %d", after, len(items), limit)
		}
		for _, it := range items {
			ids = append(ids, id(it))
		}
		if len(items) < limit {
			return ids
		}
		after = id(items[len(items)-1])
	}
}

// checkIDs fails the test unless got lists exactly want, in order.
func checkIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d ids, want %d", what, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("%s: id %d is %s, want %s", what, i, got[i], want[i])
			return
		}
	}
}

// label numbers a fixture.
func label(prefix string, i int) string { return fmt.Sprintf("%s%03d", prefix, i) }
