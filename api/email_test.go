package api_test

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/config"
	"github.com/jotauth/jot/internal/jottest"
	"github.com/jotauth/jot/internal/mailpit"
	"github.com/jotauth/jot/internal/testlog"
)

// mailEnv is a running server that sends its mail to a real Mailpit, with
// JOT_PUBLIC_URL set to the server's own address so links can be followed.
type mailEnv struct {
	*env
	mp    *mailpit.Server
	store jot.Store
}

func newMailEnv(t *testing.T, edit func(*config.Config)) *mailEnv {
	t.Helper()
	mp := mailpit.Start(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := jottest.Config(t)
	cfg.PublicURL = "http://" + ln.Addr().String()
	cfg.SMTPURL = mp.SMTPURL()
	cfg.MailFrom = "jot <noreply@jot.test>"
	if edit != nil {
		edit(&cfg)
	}
	app, st := jottest.Start(t, cfg, nil)
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: app}}
	srv.Start()
	t.Cleanup(srv.Close)
	return &mailEnv{env: &env{t: t, srv: srv, app: app, cfg: &cfg, dsn: cfg.DatabaseURL}, mp: mp, store: st}
}

var linkRE = regexp.MustCompile(`https?://[^\s"<>]+token=[A-Za-z0-9_%-]+`)

// mails waits for n mails to the address and returns them, newest first.
func (e *mailEnv) mails(to string, n int) []*mailpit.Message {
	e.t.Helper()
	got, err := e.mp.WaitFor(to, n, 15*time.Second)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

// linkIn returns the one link of a mail, checking the HTML part has it too.
func linkIn(t *testing.T, m *mailpit.Message) string {
	t.Helper()
	link := linkRE.FindString(m.Text)
	if link == "" {
		t.Fatalf("no link in the text part:\n%s", m.Text)
	}
	if !strings.Contains(m.HTML, `href="`+link+`"`) {
		t.Fatalf("the HTML part lacks the link %s:\n%s", link, m.HTML)
	}
	return link
}

func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	tok := u.Query().Get("token")
	if raw, err := base64.RawURLEncoding.DecodeString(tok); err != nil || len(raw) < 16 {
		t.Fatalf("token %q is not at least 128 random bits", tok)
	}
	return tok
}

func TestSignupVerifyByMail(t *testing.T) {
	e := newMailEnv(t, nil)
	tk := e.signup("ann@example.com", "correct horse battery")
	if c := claims(t, tk.Access); c["email_verified"] != false {
		t.Errorf("email_verified claim %v, want false", c["email_verified"])
	}
	me := e.do("GET", "/v1/users/me", tk.Access, nil)
	if me.json()["email_verified"] != false {
		t.Errorf("user %s, want email_verified false", me.body)
	}
	m := e.mails("ann@example.com", 1)[0]
	if m.Subject != "Confirm your email address" || m.From.Address != "noreply@jot.test" {
		t.Errorf("mail %q from %+v", m.Subject, m.From)
	}
	if ct := strings.Join(m.Headers["Content-Type"], ""); !strings.HasPrefix(ct, "multipart/alternative") {
		t.Errorf("Content-Type %q", ct)
	}
	link := linkIn(t, m)
	if !strings.HasPrefix(link, e.cfg.PublicURL+"/account/verify-email?token=") {
		t.Fatalf("link %s does not point at the verify page under JOT_PUBLIC_URL", link)
	}
	// Following the link shows a form and consumes nothing, however often.
	for range 2 {
		res, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Referrer-Policy") != "no-referrer" || res.Header.Get("Cache-Control") != "no-store" ||
			!strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Fatalf("GET link: %d %v", res.StatusCode, res.Header)
		}
	}
	tok := tokenOf(t, link)
	r := e.do("POST", "/v1/auth/email/verify", "", map[string]string{"token": tok})
	if r.StatusCode != 200 || r.json()["email_verified"] != true || r.json()["email"] != "ann@example.com" {
		t.Fatalf("verify: %d %s", r.StatusCode, r.body)
	}
	wantError(t, e.do("POST", "/v1/auth/email/verify", "", map[string]string{"token": tok}), 400, "invalid_grant")
	wantError(t, e.do("POST", "/v1/auth/email/verify", "", url.Values{"token": {"nope"}}), 400, "invalid_grant")
	if c := claims(t, e.login("ann@example.com", "correct horse battery").Access); c["email_verified"] != true {
		t.Errorf("email_verified claim after verifying: %v", c["email_verified"])
	}
	// Verified: no new verification mail.
	wantError(t, e.do("POST", "/v1/users/me/email/verification", tk.Access, nil), 409, "conflict")
}

func TestResendVerification(t *testing.T) {
	e := newMailEnv(t, nil)
	tk := e.signup("bob@example.com", "correct horse battery")
	r := e.do("POST", "/v1/users/me/email/verification", tk.Access, nil)
	if r.StatusCode != 202 {
		t.Fatalf("resend: %d %s", r.StatusCode, r.body)
	}
	ms := e.mails("bob@example.com", 2)
	// Both links work (verification tokens are not limited to the newest);
	// the newest is used here.
	if r := e.do("POST", "/v1/auth/email/verify", "", map[string]string{"token": tokenOf(t, linkIn(t, ms[0]))}); r.StatusCode != 200 {
		t.Fatalf("verify with the resent link: %d %s", r.StatusCode, r.body)
	}
}

func TestForgotAndReset(t *testing.T) {
	e := newMailEnv(t, nil)
	tk := e.signup("cat@example.com", "correct horse battery")
	other := e.login("cat@example.com", "correct horse battery")
	var ms []*mailpit.Message
	for i, body := range []any{map[string]string{"email": "cat@example.com"}, url.Values{"email": {" CAT@example.com "}}} {
		r := e.do("POST", "/v1/auth/password/forgot", "", body)
		if r.StatusCode != 202 || strings.TrimSpace(string(r.body)) != "{}" {
			t.Fatalf("forgot: %d %s", r.StatusCode, r.body)
		}
		// Each reset mail is let out before the next forgot: a newer
		// reset token ends the older one, and an unsent mail with it.
		ms = e.mails("cat@example.com", 2+i) // the verification, then the resets
	}
	var resets []string
	for _, m := range ms {
		if m.Subject == "Reset your password" {
			resets = append(resets, tokenOf(t, linkIn(t, m)))
			if !strings.HasPrefix(linkIn(t, m), e.cfg.PublicURL+"/account/reset-password?token=") {
				t.Errorf("reset link %s", linkIn(t, m))
			}
		}
	}
	if len(resets) != 2 {
		t.Fatalf("%d reset mails, want 2", len(resets))
	}
	newest, older := resets[0], resets[1]
	r := e.do("POST", "/v1/auth/password/reset", "", map[string]string{"token": newest, "password": "short"})
	f := wantError(t, r, 422, "validation_failed")
	if fields, _ := f["fields"].(map[string]any); fields["password"] == nil {
		t.Errorf("weak password: %s", r.body)
	}
	wantError(t, e.do("POST", "/v1/auth/password/reset", "", map[string]string{"token": older, "password": "a new long password"}), 400, "invalid_grant")
	if r := e.do("POST", "/v1/auth/password/reset", "", url.Values{"token": {newest}, "password": {"a new long password"}}); r.StatusCode != 204 {
		t.Fatalf("reset: %d %s", r.StatusCode, r.body)
	}
	wantError(t, e.do("POST", "/v1/auth/password/reset", "", map[string]string{"token": newest, "password": "another long password"}), 400, "invalid_grant")
	// Every session ended; the new password works, the old one not.
	wantInvalidToken(t, e.do("GET", "/v1/users/me", tk.Access, nil), "revoked")
	wantInvalidToken(t, e.do("GET", "/v1/users/me", other.Access, nil), "revoked")
	wantError(t, e.refresh(other.Refresh), 400, "invalid_grant")
	wantError(t, e.do("POST", "/v1/auth/login", "", map[string]string{"email": "cat@example.com", "password": "correct horse battery"}), 401, "invalid_credentials")
	now := e.login("cat@example.com", "a new long password")
	if c := claims(t, now.Access); c["email_verified"] != true {
		t.Errorf("a reset did not verify the email: %v", c["email_verified"])
	}
}

func TestForgotUnknownEmailSendsNothing(t *testing.T) {
	e := newMailEnv(t, nil)
	e.signup("known@example.com", "correct horse battery")
	e.mails("known@example.com", 1)
	for _, email := range []string{"nobody@example.com", "not an email"} {
		r := e.do("POST", "/v1/auth/password/forgot", "", map[string]string{"email": email})
		if r.StatusCode != 202 || strings.TrimSpace(string(r.body)) != "{}" {
			t.Fatalf("forgot %q: %d %s", email, r.StatusCode, r.body)
		}
	}
	wantError(t, e.do("POST", "/v1/auth/password/forgot", "", map[string]string{}), 400, "invalid_request")
	wantError(t, e.do("POST", "/v1/auth/password/forgot", "", map[string]string{"email": "a@b.c", "extra": "x"}), 400, "invalid_request")
	// A mail for the known address afterwards arrives; none for the others.
	e.do("POST", "/v1/auth/password/forgot", "", map[string]string{"email": "known@example.com"})
	e.mails("known@example.com", 2)
	list, _ := e.mp.Messages()
	if len(list) != 2 {
		t.Errorf("%d mails, want 2 (none for unknown emails)", len(list))
	}
}

func TestResetTokenEndsOnPasswordChangeAndDisable(t *testing.T) {
	e := newMailEnv(t, nil)
	tk := e.signup("dan@example.com", "correct horse battery")
	e.do("POST", "/v1/auth/password/forgot", "", map[string]string{"email": "dan@example.com"})
	var tok string
	for _, m := range e.mails("dan@example.com", 2) {
		if m.Subject == "Reset your password" {
			tok = tokenOf(t, linkIn(t, m))
		}
	}
	r := e.do("POST", "/v1/users/me/password", tk.Access, map[string]string{"current_password": "correct horse battery", "new_password": "changed the usual way"})
	if r.StatusCode != 204 {
		t.Fatalf("password change: %d %s", r.StatusCode, r.body)
	}
	wantError(t, e.do("POST", "/v1/auth/password/reset", "", map[string]string{"token": tok, "password": "a new long password"}), 400, "invalid_grant")
}

func TestRequiredVerification(t *testing.T) {
	e := newMailEnv(t, func(c *config.Config) { c.EmailVerification = "required" })
	r := e.do("POST", "/v1/auth/signup", "", map[string]string{"email": "eve@example.com", "password": "correct horse battery"})
	if r.StatusCode != 201 {
		t.Fatalf("signup: %d %s", r.StatusCode, r.body)
	}
	body := r.json()
	if _, ok := body["user"]; !ok || len(body) != 1 {
		t.Fatalf("signup answered %s, want only the user", r.body)
	}
	wantError(t, e.do("POST", "/v1/auth/login", "", map[string]string{"email": "eve@example.com", "password": "wrong password here"}), 401, "invalid_credentials")
	wantError(t, e.do("POST", "/v1/auth/login", "", map[string]string{"email": "eve@example.com", "password": "correct horse battery"}), 403, "email_not_verified")
	wantError(t, e.do("POST", "/v1/auth/token", "", url.Values{"grant_type": {"password"}, "username": {"eve@example.com"}, "password": {"correct horse battery"}}), 403, "email_not_verified")
	link := linkIn(t, e.mails("eve@example.com", 1)[0])
	if r := e.do("POST", "/v1/auth/email/verify", "", map[string]string{"token": tokenOf(t, link)}); r.StatusCode != 200 {
		t.Fatalf("verify: %d %s", r.StatusCode, r.body)
	}
	e.login("eve@example.com", "correct horse battery")
}

func TestVerificationOff(t *testing.T) {
	e := newMailEnv(t, func(c *config.Config) { c.EmailVerification = "off" })
	tk := e.signup("fay@example.com", "correct horse battery")
	wantError(t, e.do("POST", "/v1/users/me/email/verification", tk.Access, nil), 404, "not_found")
	// A reset mail still goes; it is the only mail.
	e.do("POST", "/v1/auth/password/forgot", "", map[string]string{"email": "fay@example.com"})
	if ms := e.mails("fay@example.com", 1); ms[0].Subject != "Reset your password" {
		t.Errorf("mail %q", ms[0].Subject)
	}
}

func TestEmailChange(t *testing.T) {
	e := newMailEnv(t, nil)
	tk := e.signup("gil@example.com", "correct horse battery")
	other := e.login("gil@example.com", "correct horse battery")
	e.signup("taken@example.com", "correct horse battery")
	r := e.do("POST", "/v1/users/me/email", tk.Access, map[string]string{"email": "gil@example.org", "current_password": "wrong password"})
	wantError(t, r, 403, "invalid_credentials")
	r = e.do("POST", "/v1/users/me/email", tk.Access, map[string]string{"email": "gil@example.org", "current_password": "correct horse battery"})
	if r.StatusCode != 202 {
		t.Fatalf("change: %d %s", r.StatusCode, r.body)
	}
	m := e.mails("gil@example.org", 1)[0]
	if m.Subject != "Confirm your new email address" {
		t.Errorf("new address got %q", m.Subject)
	}
	var notice bool
	for _, om := range e.mails("gil@example.com", 2) {
		notice = notice || om.Subject == "Your email address is about to change"
	}
	if !notice {
		t.Error("the old address got no notice")
	}
	// A registered address gets a notice, never a link.
	r = e.do("POST", "/v1/users/me/email", tk.Access, map[string]string{"email": "TAKEN@example.com", "current_password": "correct horse battery"})
	if r.StatusCode != 202 {
		t.Fatalf("change to a taken address: %d %s", r.StatusCode, r.body)
	}
	for _, tm := range e.mails("taken@example.com", 2) {
		if tm.Subject != "Confirm your email address" && (tm.Subject != "Someone tried to move an account to this address" || linkRE.MatchString(tm.Text)) {
			t.Errorf("taken address got %q:\n%s", tm.Subject, tm.Text)
		}
	}
	r = e.do("POST", "/v1/auth/email/verify", "", map[string]string{"token": tokenOf(t, linkIn(t, m))})
	if r.StatusCode != 200 || r.json()["email"] != "gil@example.org" || r.json()["email_verified"] != true {
		t.Fatalf("verify change: %d %s", r.StatusCode, r.body)
	}
	// The session that asked stays; every other ends.
	if me := e.do("GET", "/v1/users/me", tk.Access, nil); me.StatusCode != 200 || me.json()["email"] != "gil@example.org" {
		t.Errorf("asking session: %d %s", me.StatusCode, me.body)
	}
	wantInvalidToken(t, e.do("GET", "/v1/users/me", other.Access, nil), "revoked")
	e.login("gil@example.org", "correct horse battery")
	wantError(t, e.do("POST", "/v1/auth/login", "", map[string]string{"email": "gil@example.com", "password": "correct horse battery"}), 401, "invalid_credentials")
}

func TestAdminPasswordReset(t *testing.T) {
	e := newMailEnv(t, nil)
	admin := e.signup("root@example.com", "correct horse battery")
	role := jot.RoleAdmin
	if _, err := e.store.UpdateUser(t.Context(), admin.User.ID, jot.UserUpdate{Role: &role, EndSessions: true}, time.Now()); err != nil {
		t.Fatal(err)
	}
	admin = e.login("root@example.com", "correct horse battery")
	user := e.signup("hal@example.com", "correct horse battery")
	wantError(t, e.do("POST", "/v1/users/"+admin.User.ID+"/password-reset", user.Access, nil), 403, "insufficient_scope")
	wantError(t, e.do("POST", "/v1/users/"+jot.NewID()+"/password-reset", admin.Access, nil), 404, "not_found")
	r := e.do("POST", "/v1/users/"+user.User.ID+"/password-reset", admin.Access, nil)
	if r.StatusCode != 202 {
		t.Fatalf("admin reset: %d %s", r.StatusCode, r.body)
	}
	var tok string
	for _, m := range e.mails("hal@example.com", 2) {
		if m.Subject == "Reset your password" {
			tok = tokenOf(t, linkIn(t, m))
		}
	}
	if r := e.do("POST", "/v1/auth/password/reset", "", map[string]string{"token": tok, "password": "set by the owner"}); r.StatusCode != 204 {
		t.Fatalf("reset: %d %s", r.StatusCode, r.body)
	}
}

func TestMailRateLimits(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} })
	forgot := func(email, ip string) *response {
		return e.do("POST", "/v1/auth/password/forgot", "", map[string]string{"email": email}, "X-Forwarded-For", ip)
	}
	// Per address, from networks all different: the sixth is refused.
	for i := range 5 {
		if r := forgot("ivy@example.com", fmt.Sprintf("203.0.113.%d", i+1)); r.StatusCode != 202 {
			t.Fatalf("forgot %d: %d %s", i, r.StatusCode, r.body)
		}
	}
	r := forgot("IVY@example.com", "203.0.113.99")
	wantError(t, r, 429, "rate_limited")
	if r.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// Per client network, with addresses all different: 20 an hour.
	for i := range 20 {
		if r := forgot(fmt.Sprintf("u%d@example.com", i), "198.51.100.7"); r.StatusCode != 202 {
			t.Fatalf("forgot from one network %d: %d", i, r.StatusCode)
		}
	}
	wantError(t, forgot("last@example.com", "198.51.100.7"), 429, "rate_limited")
	// Resending verification is limited per user.
	tk := e.signup("jon@example.com", "correct horse battery")
	for i := range 5 {
		if r := e.do("POST", "/v1/users/me/email/verification", tk.Access, nil, "X-Forwarded-For", fmt.Sprintf("192.0.2.%d", i+1)); r.StatusCode != 202 {
			t.Fatalf("resend %d: %d %s", i, r.StatusCode, r.body)
		}
	}
	wantError(t, e.do("POST", "/v1/users/me/email/verification", tk.Access, nil, "X-Forwarded-For", "192.0.2.77"), 429, "rate_limited")
}

// TestForgotTiming writes down how long forgot takes for registered and
// for unknown emails (medians of 50 each, interleaved); it asserts
// nothing about speed.
func TestForgotTiming(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		c.SignupRate = config.Rate{N: 1000, Per: time.Hour} // 50 signups from one network
	})
	const n = 50
	for i := range n {
		e.signup(fmt.Sprintf("reg%02d@example.com", i), "correct horse battery")
	}
	var known, unknown []time.Duration
	for i := range n {
		for _, k := range []bool{true, false} {
			email := fmt.Sprintf("reg%02d@example.com", i)
			if !k {
				email = fmt.Sprintf("none%02d@example.com", i)
			}
			start := time.Now()
			r := e.do("POST", "/v1/auth/password/forgot", "", map[string]string{"email": email}, "X-Forwarded-For", fmt.Sprintf("10.%d.%d.1", i, btoi(k)))
			d := time.Since(start)
			if r.StatusCode != 202 {
				t.Fatalf("forgot: %d %s", r.StatusCode, r.body)
			}
			if k {
				known = append(known, d)
			} else {
				unknown = append(unknown, d)
			}
		}
	}
	t.Logf("forgot, median of %d: registered %v, unknown %v", n, median(known), median(unknown))
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// TestDevModeMailToLog: without JOT_SMTP_URL the mail, link included, is
// a log line, and the link works.
func TestDevModeMailToLog(t *testing.T) {
	var logs testlog.Buffer
	cfg := jottest.Config(t)
	cfg.DatabaseURL = "sqlite://" + filepath.Join(t.TempDir(), "jot.db")
	app, _ := jottest.Start(t, cfg, logs.Text())
	if !app.MailToLog {
		t.Fatal("MailToLog is false without JOT_SMTP_URL")
	}
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv, app: app, cfg: &cfg}
	e.signup("kim@example.com", "correct horse battery")
	e.do("POST", "/v1/auth/password/forgot", "", map[string]string{"email": "kim@example.com"})
	var link string
	eventually(t, 5*time.Second, func() bool {
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, "Reset your password") {
				link = regexp.MustCompile(`link="?http://127\.0\.0\.1:8080(/account/reset-password\?token=[A-Za-z0-9_-]+)`).FindStringSubmatch(line)[1]
				return true
			}
		}
		return false
	})
	tok := tokenOf(t, "http://x"+link)
	if r := e.do("POST", "/v1/auth/password/reset", "", map[string]string{"token": tok, "password": "from the log line"}); r.StatusCode != 204 {
		t.Fatalf("reset from the logged link: %d %s", r.StatusCode, r.body)
	}
	// Apart from the mail line itself, no log line holds the token.
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, tok) && !strings.Contains(line, "not sent") {
			t.Errorf("a log line holds the token: %s", line)
		}
	}
}
