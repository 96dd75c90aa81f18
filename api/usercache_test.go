package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/jotauth/jot/accounts"
)

// Reads by id are served from a short-lived cache; every change made
// through this instance is seen by the very next read.
func TestUserReadsSeeChangesAtOnce(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.makeAdmin("una@example.com")
	u := e.signup("uli@example.com", "pass-phrase-1")

	me := func(tok string) map[string]any {
		t.Helper()
		return wantStatus(t, e.do("GET", "/v1/users/me", tok, nil), http.StatusOK)
	}
	byID := func() *response { return e.do("GET", "/v1/users/"+u.User.ID, admin.Access, nil) }

	me(u.Access) // remembered now
	wantStatus(t, e.do("PATCH", "/v1/users/me", u.Access, map[string]any{"name": "Uli One"}), http.StatusOK)
	if got := me(u.Access)["name"]; got != "Uli One" {
		t.Fatalf("name after rename: %v", got)
	}

	// A password change keeps the caller's session (and what it reads).
	wantStatus(t, e.do("POST", "/v1/users/me/password", u.Access, map[string]any{
		"current_password": "pass-phrase-1", "new_password": "pass-phrase-2",
	}), http.StatusNoContent)
	if got := me(u.Access)["name"]; got != "Uli One" {
		t.Fatalf("name after a password change: %v", got)
	}

	// An admin's changes: name, role, disabling.
	wantStatus(t, byID(), http.StatusOK)
	wantStatus(t, e.do("PATCH", "/v1/users/"+u.User.ID, admin.Access, map[string]any{"name": "Uli Two"}), http.StatusOK)
	if got := wantStatus(t, byID(), http.StatusOK)["name"]; got != "Uli Two" {
		t.Fatalf("name after an admin's rename: %v", got)
	}
	wantStatus(t, e.do("PATCH", "/v1/users/"+u.User.ID, admin.Access, map[string]any{"role": "admin"}), http.StatusOK)
	if got := wantStatus(t, byID(), http.StatusOK)["role"]; got != "admin" {
		t.Fatalf("role after promotion: %v", got)
	}
	wantStatus(t, e.do("PATCH", "/v1/users/"+u.User.ID, admin.Access, map[string]any{"disabled": true}), http.StatusOK)
	if got := wantStatus(t, byID(), http.StatusOK)["disabled"]; got != true {
		t.Fatalf("disabled after disabling: %v", got)
	}

	// A deleted user is not found by the next read.
	wantStatus(t, e.do("DELETE", "/v1/users/"+u.User.ID, admin.Access, nil), http.StatusNoContent)
	wantError(t, byID(), http.StatusNotFound, "not_found")
}

// With PostgreSQL, a change made on another instance is seen within the
// cache's bound (DefaultUserCacheTTL), and at once, through the
// notification of ended sessions, when the change ends sessions.
func TestUserReadsSeeOtherInstancesChangesOverPostgres(t *testing.T) {
	a, b := twoInstances(t)
	admin := a.makeAdmin("ada@example.com")
	u := a.signup("ben@example.com", "pass-phrase-1")

	wantStatus(t, a.do("GET", "/v1/users/me", u.Access, nil), http.StatusOK) // remembered on A
	wantStatus(t, b.do("PATCH", "/v1/users/me", u.Access, map[string]any{"name": "Ben Elsewhere"}), http.StatusOK)
	t0 := time.Now()
	var seen time.Duration
	eventually(t, accounts.DefaultUserCacheTTL+2*time.Second, func() bool {
		r := a.do("GET", "/v1/users/me", u.Access, nil)
		seen = time.Since(t0)
		return r.StatusCode == 200 && r.json()["name"] == "Ben Elsewhere"
	})
	t.Logf("rename on B seen on A after %s (bound %s)", seen, accounts.DefaultUserCacheTTL)

	// Disabling ends the user's sessions: A forgets what it read as soon
	// as it hears of them.
	wantStatus(t, a.do("GET", "/v1/users/"+u.User.ID, admin.Access, nil), http.StatusOK)
	wantStatus(t, b.do("PATCH", "/v1/users/"+u.User.ID, admin.Access, map[string]any{"disabled": true}), http.StatusOK)
	eventually(t, accounts.DefaultUserCacheTTL+2*time.Second, func() bool {
		r := a.do("GET", "/v1/users/"+u.User.ID, admin.Access, nil)
		return r.StatusCode == 200 && r.json()["disabled"] == true
	})
}
