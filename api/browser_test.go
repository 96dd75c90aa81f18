package api_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browser returns a headless Chromium context, or skips the test, saying
// why, where Chromium is missing (.ci/run installs it).
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed (apt-get install -y chromium): skipping the browser test")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.WindowSize(390, 844), // a phone
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	return ctx
}

// shot saves a screenshot of the page to the test's temp folder (and to
// JOT_SCREENSHOT_DIR when set) and logs where.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if d := os.Getenv("JOT_SCREENSHOT_DIR"); d != "" {
		dir = d
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
}

// text returns the text of the element with the id, once it is visible.
func text(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID(id))); err != nil {
		t.Fatalf("#%s: %v", id, err)
	}
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func TestBrowserResetFromMail(t *testing.T) {
	ctx := browser(t)
	e := newMailEnv(t, nil)
	e.signup("lea@example.com", "correct horse battery")
	e.do("POST", "/v1/auth/password/forgot", "", map[string]string{"email": "lea@example.com"})
	var link string
	for _, m := range e.mails("lea@example.com", 2) {
		if m.Subject == "Reset your password" {
			link = linkIn(t, m)
		}
	}
	do(t, ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("password")))
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	// A weak password first: the page says why beside the field.
	do(t, ctx, chromedp.SendKeys(chromedp.ID("password"), "short"), chromedp.Click(chromedp.ID("submit")))
	fieldErr := text(t, ctx, "password-error")
	if title != "Choose a new password" || !strings.Contains(fieldErr, "8") {
		t.Fatalf("title %q, field error %q", title, fieldErr)
	}
	shot(t, ctx, "reset-password-weak.png")
	do(t, ctx, chromedp.SendKeys(chromedp.ID("password"), "typed in a browser"), chromedp.Click(chromedp.ID("submit")))
	if done := text(t, ctx, "done"); !strings.Contains(done, "new password is set") {
		t.Fatalf("after submitting: %q", done)
	}
	shot(t, ctx, "reset-password.png")
	e.login("lea@example.com", "typed in a browser")
	// The link again: used.
	do(t, ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("password"), "yet another password"), chromedp.Click(chromedp.ID("submit")))
	if problem := text(t, ctx, "problem"); !strings.Contains(problem, "expired or has already been used") {
		t.Errorf("used link says %q", problem)
	}
}

func TestBrowserVerifyFromMail(t *testing.T) {
	ctx := browser(t)
	e := newMailEnv(t, nil)
	tk := e.signup("max@example.com", "correct horse battery")
	link := linkIn(t, e.mails("max@example.com", 1)[0])
	do(t, ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("submit")))
	// Opening the page verified nothing yet.
	if me := e.do("GET", "/v1/users/me", tk.Access, nil); me.json()["email_verified"] != false {
		t.Fatal("a GET of the link verified the email")
	}
	shot(t, ctx, "verify-email-form.png")
	do(t, ctx, chromedp.Click(chromedp.ID("submit")))
	if done := text(t, ctx, "done"); !strings.Contains(done, "max@example.com is confirmed") {
		t.Fatalf("page says %q", done)
	}
	shot(t, ctx, "verify-email.png")
	if me := e.do("GET", "/v1/users/me", tk.Access, nil); me.json()["email_verified"] != true {
		t.Fatal("email not verified after the form was sent")
	}
}
