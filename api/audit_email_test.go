package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestAuditRecordsEmailFlows: forgot (registered only), the admin's
// reset request, a reset with the sessions it ends, a verification and
// an email change each leave their event, with the request's origin, in
// GET /v1/audit.
func TestAuditRecordsEmailFlows(t *testing.T) {
	e := newMailEnv(t, nil)
	admin := e.makeAdmin("root@example.com")
	ua := []string{"User-Agent", "audit-mail/1"}
	hdr := func(id string) []string { return append([]string{"X-Request-Id", id}, ua...) }
	mailTo := func(to, subject string, n int) string {
		t.Helper()
		for _, m := range e.mails(to, n) {
			if m.Subject == subject {
				return tokenOf(t, linkIn(t, m))
			}
		}
		t.Fatalf("no %q mail to %s", subject, to)
		return ""
	}

	// Verification: the user is the actor; the detail names the address.
	u := e.signup("kim@example.com", "correct horse battery")
	verify := mailTo("kim@example.com", "Confirm your email address", 1)
	wantStatus(t, e.do("POST", "/v1/auth/email/verify", "", map[string]string{"token": verify}, hdr("req-verify")...), http.StatusOK)
	wantEvent(t, e.events(admin.Access, u.User.ID, "email_verified"), "email_verified", map[string]any{
		"user_id": u.User.ID, "actor_id": u.User.ID, "session_id": nil, "ip": "127.0.0.1", "user_agent": "audit-mail/1",
		"request_id": "req-verify", "detail": map[string]any{"email": "kim@example.com"},
	})

	// Forgot: an event for the registered account; none for an unknown
	// email, which answers the same.
	for i, email := range []string{"kim@example.com", "nobody@example.com"} {
		r := e.do("POST", "/v1/auth/password/forgot", "", map[string]string{"email": email}, hdr(fmt.Sprintf("req-forgot-%d", i))...)
		if r.StatusCode != http.StatusAccepted || strings.TrimSpace(string(r.body)) != "{}" {
			t.Fatalf("forgot %s: %d %s", email, r.StatusCode, r.body)
		}
	}
	asked := e.events(admin.Access, "", "password_reset_requested")
	if len(asked) != 1 {
		t.Fatalf("%d password_reset_requested events, want 1 (none for an unknown email): %v", len(asked), asked)
	}
	wantEvent(t, asked, "password_reset_requested", map[string]any{
		"user_id": u.User.ID, "actor_id": u.User.ID, "session_id": nil, "ip": "127.0.0.1", "user_agent": "audit-mail/1",
		"request_id": "req-forgot-0", "detail": map[string]any{},
	})

	// The admin's request: the admin is the actor.
	wantStatus(t, e.do("POST", "/v1/users/"+u.User.ID+"/password-reset", admin.Access, nil, hdr("req-admin-reset")...), http.StatusAccepted)
	wantEvent(t, e.events(admin.Access, u.User.ID, "password_reset_requested"), "password_reset_requested", map[string]any{
		"user_id": u.User.ID, "actor_id": admin.User.ID, "request_id": "req-admin-reset", "detail": map[string]any{"by": "admin"},
	})

	// The reset ends both sessions: one session_ended each.
	other := e.login("kim@example.com", "correct horse battery")
	reset := mailTo("kim@example.com", "Reset your password", 3) // the verification and two resets; the newest first
	wantStatus(t, e.do("POST", "/v1/auth/password/reset", "", map[string]string{"token": reset, "password": "a brand new password"}, hdr("req-reset")...), http.StatusNoContent)
	wantEvent(t, e.events(admin.Access, u.User.ID, "password_reset"), "password_reset", map[string]any{
		"user_id": u.User.ID, "actor_id": u.User.ID, "session_id": nil, "user_agent": "audit-mail/1",
		"request_id": "req-reset", "detail": map[string]any{},
	})
	ended := e.events(admin.Access, u.User.ID, "session_ended")
	if len(ended) != 2 {
		t.Fatalf("%d session_ended events after the reset, want 2: %v", len(ended), ended)
	}
	sessions := map[any]bool{}
	for _, ev := range ended {
		wantEvent(t, []map[string]any{ev}, "session_ended", map[string]any{
			"user_id": u.User.ID, "actor_id": u.User.ID, "request_id": "req-reset", "detail": map[string]any{"why": "password_reset"},
		})
		sessions[ev["session_id"]] = true
	}
	if !sessions[claims(t, u.Access)["sid"]] || !sessions[claims(t, other.Access)["sid"]] {
		t.Errorf("session_ended names %v, want the signup's and the login's sessions", sessions)
	}
	if len(e.events(admin.Access, u.User.ID, "email_verified")) != 1 {
		t.Error("a reset of a verified email recorded email_verified again")
	}

	// A reset of an unverified email verifies it: recorded too.
	v := e.signup("lee@example.com", "correct horse battery")
	wantStatus(t, e.do("POST", "/v1/users/"+v.User.ID+"/password-reset", admin.Access, nil), http.StatusAccepted)
	tok := mailTo("lee@example.com", "Reset your password", 2)
	wantStatus(t, e.do("POST", "/v1/auth/password/reset", "", map[string]string{"token": tok, "password": "a brand new password"}, hdr("req-reset-lee")...), http.StatusNoContent)
	wantEvent(t, e.events(admin.Access, v.User.ID, "email_verified"), "email_verified", map[string]any{
		"user_id": v.User.ID, "actor_id": v.User.ID, "request_id": "req-reset-lee",
		"detail": map[string]any{"by": "password_reset", "email": "lee@example.com"},
	})

	// An email change: old and new address; the asking session stays,
	// the other ends.
	keep := e.login("kim@example.com", "a brand new password")
	gone := e.login("kim@example.com", "a brand new password")
	wantStatus(t, e.do("POST", "/v1/users/me/email", keep.Access, map[string]string{"email": "kim@example.org", "current_password": "a brand new password"}), http.StatusAccepted)
	change := mailTo("kim@example.org", "Confirm your new email address", 1)
	wantStatus(t, e.do("POST", "/v1/auth/email/verify", "", map[string]string{"token": change}, hdr("req-change")...), http.StatusOK)
	wantEvent(t, e.events(admin.Access, u.User.ID, "email_changed"), "email_changed", map[string]any{
		"user_id": u.User.ID, "actor_id": u.User.ID, "session_id": claims(t, keep.Access)["sid"], "request_id": "req-change",
		"detail": map[string]any{"new_email": "kim@example.org", "old_email": "kim@example.com"},
	})
	ended = e.events(admin.Access, u.User.ID, "session_ended")
	ev := wantEvent(t, ended, "session_ended", map[string]any{
		"user_id": u.User.ID, "request_id": "req-change", "detail": map[string]any{"why": "email_change"},
	})
	if ev["session_id"] != claims(t, gone.Access)["sid"] || len(ended) != 3 {
		t.Errorf("after the change: %d session_ended, newest for %v; want 3, the newest for the other session %v", len(ended), ev["session_id"], claims(t, gone.Access)["sid"])
	}

	// Never a token in the trail.
	all := string(e.do("GET", "/v1/audit?limit=100", admin.Access, nil).body)
	for _, secret := range []string{verify, reset, tok, change, "a brand new password"} {
		if strings.Contains(all, secret) {
			t.Errorf("the audit trail holds %q", secret)
		}
	}
}
