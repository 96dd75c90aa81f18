package main

import (
	"net/url"
	"strings"
	"testing"
)

// TestServeMailToLogAndResetLink: without JOT_SMTP_URL, jot serve says at
// start that mails go to the log; jot users reset-link prints a working,
// single-use link.
func TestServeMailToLogAndResetLink(t *testing.T) {
	t.Parallel()
	db := serveDB(t)
	p := serveStart(t, db)
	defer p.stop()
	p.waitLog("JOT_SMTP_URL is not set")
	if code, _ := p.post("/v1/auth/signup", "", map[string]string{"email": "op@example.com", "password": "correct horse battery"}); code != 201 {
		t.Fatalf("signup: %d", code)
	}
	code, out, errOut := binRun(t, "", db, "", "users", "reset-link", "--email", "OP@example.com")
	if code != 0 {
		t.Fatalf("reset-link: exit %d: %s", code, errOut)
	}
	link := strings.TrimSpace(out)
	u, err := url.Parse(link)
	if err != nil || u.Path != "/account/reset-password" || u.Query().Get("token") == "" {
		t.Fatalf("reset-link printed %q", out)
	}
	body := map[string]string{"token": u.Query().Get("token"), "password": "set from the cli link"}
	if code, _ := p.post("/v1/auth/password/reset", "", body); code != 204 {
		t.Fatalf("reset with the printed link: %d", code)
	}
	if code, _ := p.post("/v1/auth/password/reset", "", body); code != 400 {
		t.Fatalf("the link used twice: %d", code)
	}
	code, _, errOut = binRun(t, "", db, "", "users", "reset-link", "--email", "nobody@example.com")
	if code != 1 || strings.TrimSpace(errOut) != "jot: no user with email nobody@example.com" {
		t.Errorf("unknown email: exit %d, %q", code, errOut)
	}
	if code, _, errOut := binRun(t, "", db, "", "users", "reset-link"); code != 2 || !strings.Contains(errOut, "--email is required") {
		t.Errorf("no --email: exit %d, %q", code, errOut)
	}
}
