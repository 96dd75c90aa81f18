package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/config"
	"github.com/jotauth/jot/sqlite"
)

// auditPage is one page of GET /v1/audit.
type auditPage struct {
	Events     []map[string]any `json:"events"`
	NextCursor *string          `json:"next_cursor"`
}

func (e *env) audit(bearer, query string) auditPage {
	e.t.Helper()
	r := e.do("GET", "/v1/audit"+query, bearer, nil)
	if r.StatusCode != http.StatusOK {
		e.t.Fatalf("GET /v1/audit%s: %d %s", query, r.StatusCode, r.body)
	}
	var p auditPage
	if err := json.Unmarshal(r.body, &p); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// events returns the audit events named name about the user, newest first.
func (e *env) events(admin, userID, name string) []map[string]any {
	e.t.Helper()
	q := url.Values{"event": {name}, "limit": {"100"}}
	if userID != "" {
		q.Set("user_id", userID)
	}
	return e.audit(admin, "?"+q.Encode()).Events
}

// wantEvent checks that the newest event named name about the user has
// the fields in want (nil: null) and returns it.
func wantEvent(t *testing.T, events []map[string]any, name string, want map[string]any) map[string]any {
	t.Helper()
	if len(events) == 0 {
		t.Fatalf("no %s event", name)
	}
	ev := events[0]
	for k, v := range want {
		if k == "detail" {
			got, _ := json.Marshal(ev[k])
			exp, _ := json.Marshal(v)
			if string(got) != string(exp) {
				t.Errorf("%s: detail %s, want %s", name, got, exp)
			}
			continue
		}
		if ev[k] != v {
			t.Errorf("%s: %s = %v, want %v (event %v)", name, k, ev[k], v, ev)
		}
	}
	for _, k := range []string{"id", "time", "event", "user_id", "session_id", "actor_id", "ip", "user_agent", "request_id", "detail"} {
		if _, ok := ev[k]; !ok {
			t.Errorf("%s: field %q missing", name, k)
		}
	}
	if _, ok := ev["detail"].(map[string]any); !ok {
		t.Errorf("%s: detail %v is not an object", name, ev["detail"])
	}
	return ev
}

func TestAuditRecordsEveryFlow(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.RefreshGrace = 0 })
	admin := e.makeAdmin("root@example.com")
	ua := []string{"User-Agent", "audit-test/1"}
	hdr := func(id string) []string { return append([]string{"X-Request-Id", id}, ua...) }

	// Signup: the user is the actor; a session starts with it.
	u := e.tokensOf(e.do("POST", "/v1/auth/signup", "", map[string]string{"email": "ann@example.com", "password": "pass-phrase-1"}, hdr("req-signup")...), http.StatusCreated)
	wantEvent(t, e.events(admin.Access, u.User.ID, "signup"), "signup", map[string]any{
		"user_id": u.User.ID, "actor_id": u.User.ID, "session_id": nil, "ip": "127.0.0.1",
		"user_agent": "audit-test/1", "request_id": "req-signup", "detail": map[string]any{},
	})

	// Failed logins say why; an unknown email names no one.
	wantError(t, e.do("POST", "/v1/auth/login", "", map[string]string{"email": "ann@example.com", "password": "wrong-pass"}, hdr("req-bad")...), http.StatusUnauthorized, "invalid_credentials")
	wantEvent(t, e.events(admin.Access, u.User.ID, "login_failed"), "login_failed", map[string]any{
		"user_id": u.User.ID, "actor_id": nil, "request_id": "req-bad", "detail": map[string]any{"why": "wrong_password"},
	})
	wantError(t, e.do("POST", "/v1/auth/login", "", map[string]string{"email": "nobody@example.com", "password": "wrong-pass"}, hdr("req-nobody")...), http.StatusUnauthorized, "invalid_credentials")
	wantEvent(t, e.events(admin.Access, "", "login_failed"), "login_failed", map[string]any{
		"user_id": nil, "request_id": "req-nobody", "detail": map[string]any{"why": "unknown_email"},
	})

	// Login, refresh, reuse.
	l := e.tokensOf(e.do("POST", "/v1/auth/login", "", map[string]string{"email": "ann@example.com", "password": "pass-phrase-1"}, hdr("req-login")...), http.StatusOK)
	login := wantEvent(t, e.events(admin.Access, u.User.ID, "login"), "login", map[string]any{
		"user_id": u.User.ID, "actor_id": u.User.ID, "request_id": "req-login",
	})
	sid, _ := login["session_id"].(string)
	if !jot.ValidID(sid) {
		t.Fatalf("login session_id %v", login["session_id"])
	}
	r1 := e.tokensOf(e.do("POST", "/v1/auth/token", "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {l.Refresh}}, hdr("req-refresh")...), http.StatusOK)
	wantEvent(t, e.events(admin.Access, u.User.ID, "refresh"), "refresh", map[string]any{
		"user_id": u.User.ID, "session_id": sid, "actor_id": u.User.ID, "request_id": "req-refresh",
	})
	wantError(t, e.do("POST", "/v1/auth/token", "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {l.Refresh}}, hdr("req-reuse")...), http.StatusBadRequest, "invalid_grant")
	wantEvent(t, e.events(admin.Access, u.User.ID, "refresh_reuse"), "refresh_reuse", map[string]any{
		"user_id": u.User.ID, "session_id": sid, "actor_id": nil, "request_id": "req-reuse",
	})
	_ = r1

	// Logout of the signup session.
	wantStatus(t, e.do("POST", "/v1/auth/logout", u.Access, nil, hdr("req-logout")...), http.StatusNoContent)
	wantEvent(t, e.events(admin.Access, u.User.ID, "logout"), "logout", map[string]any{
		"user_id": u.User.ID, "actor_id": u.User.ID, "request_id": "req-logout", "detail": map[string]any{"scope": "session"},
	})

	// A password change ends the other sessions.
	keep := e.login("ann@example.com", "pass-phrase-1")
	other := e.login("ann@example.com", "pass-phrase-1")
	wantStatus(t, e.do("POST", "/v1/users/me/password", keep.Access, map[string]string{"current_password": "pass-phrase-1", "new_password": "pass-phrase-2"}, hdr("req-pw")...), http.StatusNoContent)
	wantEvent(t, e.events(admin.Access, u.User.ID, "password_changed"), "password_changed", map[string]any{
		"user_id": u.User.ID, "actor_id": u.User.ID, "request_id": "req-pw", "detail": map[string]any{},
	})
	ended := e.events(admin.Access, u.User.ID, "session_ended")
	wantEvent(t, ended, "session_ended", map[string]any{
		"user_id": u.User.ID, "actor_id": u.User.ID, "request_id": "req-pw", "detail": map[string]any{"why": "password_change"},
	})
	if len(ended) != 1 || ended[0]["session_id"] == nil {
		t.Fatalf("session_ended after the password change: %v", ended)
	}
	_ = other

	// An admin's role change: old and new role; the sessions it ends.
	wantStatus(t, e.do("PATCH", "/v1/users/"+u.User.ID, admin.Access, map[string]any{"role": "admin"}, hdr("req-promote")...), http.StatusOK)
	wantEvent(t, e.events(admin.Access, u.User.ID, "user_updated"), "user_updated", map[string]any{
		"user_id": u.User.ID, "actor_id": admin.User.ID, "request_id": "req-promote",
		"detail": map[string]any{"fields": []string{"role"}, "role": map[string]any{"new": "admin", "old": "user"}},
	})
	wantEvent(t, e.events(admin.Access, u.User.ID, "session_ended"), "session_ended", map[string]any{
		"actor_id": admin.User.ID, "request_id": "req-promote", "detail": map[string]any{"why": "admin_change"},
	})
	// Disabling.
	e.login("ann@example.com", "pass-phrase-2")
	wantStatus(t, e.do("PATCH", "/v1/users/"+u.User.ID, admin.Access, map[string]any{"disabled": true}, hdr("req-disable")...), http.StatusOK)
	wantEvent(t, e.events(admin.Access, u.User.ID, "user_updated"), "user_updated", map[string]any{
		"request_id": "req-disable", "detail": map[string]any{"disabled": map[string]any{"new": true, "old": false}, "fields": []string{"disabled"}},
	})
	wantEvent(t, e.events(admin.Access, u.User.ID, "session_ended"), "session_ended", map[string]any{
		"request_id": "req-disable", "detail": map[string]any{"why": "admin_change"},
	})
	wantError(t, e.do("POST", "/v1/auth/login", "", map[string]string{"email": "ann@example.com", "password": "pass-phrase-2"}), http.StatusUnauthorized, "invalid_credentials")
	wantEvent(t, e.events(admin.Access, u.User.ID, "login_failed"), "login_failed", map[string]any{"detail": map[string]any{"why": "disabled"}})

	// Deletion; the events outlive the account.
	wantStatus(t, e.do("DELETE", "/v1/users/"+u.User.ID, admin.Access, nil, hdr("req-delete")...), http.StatusNoContent)
	wantEvent(t, e.events(admin.Access, u.User.ID, "user_deleted"), "user_deleted", map[string]any{
		"user_id": u.User.ID, "actor_id": admin.User.ID, "request_id": "req-delete",
		"detail": map[string]any{"email": "ann@example.com", "role": "admin"},
	})

	// Never a password, token or hash.
	all := string(e.do("GET", "/v1/audit?limit=100", admin.Access, nil).body)
	for _, secret := range []string{"pass-phrase-1", "pass-phrase-2", "wrong-pass", "$2a$", l.Refresh, r1.Refresh, l.Access} {
		if strings.Contains(all, secret) {
			t.Errorf("the audit trail holds %q", secret)
		}
	}
}

func TestAuditRecordsRateLimitedOncePerWindow(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.LoginRate = config.Rate{N: 2, Per: time.Minute} })
	admin := e.makeAdmin("root@example.com")
	for i := range 5 {
		r := e.do("POST", "/v1/auth/login", "", map[string]string{"email": "x@example.com", "password": "wrong-pass"}, "X-Request-Id", "req-"+string(rune('a'+i)))
		if i >= 2 && r.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("attempt %d: %d", i, r.StatusCode)
		}
	}
	evs := e.events(admin.Access, "", "rate_limited")
	if len(evs) != 1 {
		t.Fatalf("%d rate_limited events, want 1 (one per network and path a minute): %v", len(evs), evs)
	}
	wantEvent(t, evs, "rate_limited", map[string]any{
		"request_id": "req-c", "ip": "127.0.0.1", "user_id": nil,
		"detail": map[string]any{"method": "POST", "path": "/v1/auth/login", "retry_after": evs[0]["detail"].(map[string]any)["retry_after"]},
	})
}

func TestAuditRefusedChangesLeaveNoEvent(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.makeAdmin("root@example.com")
	before := len(e.audit(admin.Access, "?limit=100").Events)
	// The last admin cannot demote themselves: 409, and nothing recorded.
	wantError(t, e.do("PATCH", "/v1/users/"+admin.User.ID, admin.Access, map[string]any{"role": "user"}), http.StatusConflict, "conflict")
	wantError(t, e.do("DELETE", "/v1/users/"+admin.User.ID, admin.Access, nil), http.StatusConflict, "conflict")
	// A taken email: no second signup event.
	e.signup("bob@example.com", "pass-phrase-1")
	wantError(t, e.do("POST", "/v1/auth/signup", "", map[string]string{"email": "bob@example.com", "password": "pass-phrase-1"}), http.StatusConflict, "conflict")
	after := e.audit(admin.Access, "?limit=100").Events
	// bob's signup and its login, nothing else.
	if len(after) != before+2 || after[0]["event"] != "login" || after[1]["event"] != "signup" {
		t.Fatalf("events after refused changes: %v", after[:len(after)-before])
	}
	if n := len(e.events(admin.Access, admin.User.ID, "user_updated")); n != 1 {
		// The one that made them admin.
		t.Fatalf("%d user_updated events of the admin, want 1", n)
	}
}

func TestAuditListFiltersPagesAndRefuses(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.makeAdmin("root@example.com")
	u := e.signup("cy@example.com", "pass-phrase-1")
	for range 4 {
		e.login("cy@example.com", "pass-phrase-1")
	}
	// Paging: 5 logins of cy, two a page, newest first, no gap or repeat.
	q := "?user_id=" + u.User.ID + "&event=login&limit=2"
	var ids []string
	cursor := ""
	for pages := 0; ; pages++ {
		p := e.audit(admin.Access, q+"&cursor="+url.QueryEscape(cursor))
		for _, ev := range p.Events {
			if ev["user_id"] != u.User.ID || ev["event"] != "login" {
				t.Fatalf("filter let through %v", ev)
			}
			ids = append(ids, ev["id"].(string))
		}
		if p.NextCursor == nil {
			break
		}
		cursor = *p.NextCursor
		if pages > 5 {
			t.Fatal("no end of pages")
		}
	}
	if len(ids) != 5 {
		t.Fatalf("%d logins paged, want 5", len(ids))
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] >= ids[i-1] {
			t.Fatalf("not newest first: %v", ids)
		}
	}
	// A cursor of one filter does not continue another.
	p := e.audit(admin.Access, q)
	wantError(t, e.do("GET", "/v1/audit?event=login&limit=2&cursor="+url.QueryEscape(*p.NextCursor), admin.Access, nil), http.StatusBadRequest, "invalid_request")
	for _, bad := range []string{"?event=nope", "?user_id=42", "?limit=0", "?limit=101", "?event=login&event=logout", "?cursor=abc"} {
		wantError(t, e.do("GET", "/v1/audit"+bad, admin.Access, nil), http.StatusBadRequest, "invalid_request")
	}
	wantForbidden(t, e.do("GET", "/v1/audit", u.Access, nil))
	wantInvalidToken(t, e.do("GET", "/v1/audit", "", nil), "missing")
}

func TestAuditRetentionPrunesOldEvents(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jot.db")
	e := newEnvAt(t, "sqlite://"+path, func(c *config.Config) { c.AuditRetention = time.Hour })
	admin := e.makeAdmin("root@example.com")
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	old := jot.NewAuditEvent(jot.AuditLoginFailed, time.Now().Add(-2*time.Hour))
	old.ID = "00000000-0000-7000-8000-000000000000"
	if err := st.RecordAudit(ctx, old); err != nil {
		t.Fatal(err)
	}
	if n := len(e.events(admin.Access, "", "login_failed")); n != 1 {
		t.Fatalf("%d login_failed before the prune", n)
	}
	e.app.PruneAudit(ctx)
	if n := len(e.events(admin.Access, "", "login_failed")); n != 0 {
		t.Fatalf("%d login_failed after the prune, want 0", n)
	}
	if n := len(e.events(admin.Access, admin.User.ID, "signup")); n != 1 {
		t.Fatalf("recent events pruned too: %d signups", n)
	}
}

func TestAuditIsOneTrailForAllInstancesOverPostgres(t *testing.T) {
	a, b := twoInstances(t)
	admin := b.makeAdmin("root@example.com")
	u := a.signup("dee@example.com", "pass-phrase-1")
	wantError(t, a.do("POST", "/v1/auth/login", "", map[string]string{"email": "dee@example.com", "password": "wrong-pass"}), http.StatusUnauthorized, "invalid_credentials")
	wantEvent(t, b.events(admin.Access, u.User.ID, "signup"), "signup", map[string]any{"user_id": u.User.ID})
	wantEvent(t, b.events(admin.Access, u.User.ID, "login_failed"), "login_failed", map[string]any{"detail": map[string]any{"why": "wrong_password"}})
	// The refused change leaves nothing on PostgreSQL either.
	wantError(t, b.do("DELETE", "/v1/users/"+admin.User.ID, admin.Access, nil), http.StatusConflict, "conflict")
	if n := len(a.events(admin.Access, admin.User.ID, "user_deleted")); n != 0 {
		t.Fatalf("%d user_deleted after a refused delete", n)
	}
}
