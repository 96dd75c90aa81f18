package mail_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/internal/jottest"
	"github.com/jotauth/jot/internal/mailpit"
	"github.com/jotauth/jot/mail"
)

func queue(t *testing.T, st jot.MailStore, to, kind string) *jot.Mail {
	t.Helper()
	now := time.Now().UTC()
	m := &jot.Mail{ID: jot.NewID(), Kind: kind, To: to, CreatedAt: now, NextAt: now, ExpiresAt: now.Add(time.Hour),
		Data: map[string]string{"link": "http://127.0.0.1:8080/account/verify-email?token=abc", "email": to, "name": "Ann <&>", "expires": "24 hours", "app": "jot"}}
	if err := st.QueueMail(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	return m
}

func templates(t *testing.T, dir string) *mail.Templates {
	t.Helper()
	tp, err := mail.LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

// runWorker runs w until the test ends.
func runWorker(t *testing.T, w *mail.Worker) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func TestSMTPMultipartThroughMailpit(t *testing.T) {
	mp := mailpit.Start(t)
	st := jottest.SQLite(t)
	smtp, err := mail.NewSMTP(mp.SMTPURL())
	if err != nil {
		t.Fatal(err)
	}
	w := mail.NewWorker(mail.Worker{Store: st, Sender: smtp, Templates: templates(t, ""), From: "jot <noreply@jot.test>", Poll: 50 * time.Millisecond})
	m := queue(t, st, "ann@example.com", mail.KindVerify)
	runWorker(t, w)
	got, err := mp.WaitFor("ann@example.com", 1, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	msg := got[0]
	if msg.Subject != "Confirm your email address" {
		t.Errorf("Subject %q", msg.Subject)
	}
	if msg.From.Address != "noreply@jot.test" || msg.From.Name != "jot" {
		t.Errorf("From %+v", msg.From)
	}
	if !strings.Contains(msg.Text, "http://127.0.0.1:8080/account/verify-email?token=abc") || !strings.Contains(msg.Text, "Hello Ann <&>,") {
		t.Errorf("text part:\n%s", msg.Text)
	}
	// The HTML part escapes the data and carries the link in an href.
	if !strings.Contains(msg.HTML, `href="http://127.0.0.1:8080/account/verify-email?token=abc"`) || !strings.Contains(msg.HTML, "Ann &lt;&amp;&gt;") {
		t.Errorf("HTML part:\n%s", msg.HTML)
	}
	ct := strings.Join(msg.Headers["Content-Type"], ",")
	if !strings.HasPrefix(ct, "multipart/alternative") {
		t.Errorf("Content-Type %q, want multipart/alternative", ct)
	}
	if id := strings.Join(msg.Headers["Message-Id"], ""); id != "<"+m.ID+"@jot.test>" {
		t.Errorf("Message-Id %q, want the outbox id", id)
	}
	if len(msg.Headers["Date"]) != 1 {
		t.Errorf("Date header %v", msg.Headers["Date"])
	}
	// Sent mail leaves the outbox.
	if left, _ := st.ClaimMail(t.Context(), time.Now().Add(time.Hour), time.Minute, 10); len(left) != 0 {
		t.Errorf("outbox still holds %d mails", len(left))
	}
}

// stopper stops Mailpit just before the nth send and restarts it, from
// another goroutine, once `until` sends have failed, as an outage would
// come and go.
type stopper struct {
	mail.Sender
	mp       *mailpit.Server
	n        int32
	until    int32
	calls    atomic.Int32
	restart  sync.WaitGroup
	failures atomic.Int32
	over     chan struct{} // closed when the failures reach until
}

func (s *stopper) Send(ctx context.Context, m *mail.Message) error {
	if s.calls.Add(1) == s.n {
		s.mp.Stop()
		s.restart.Go(func() {
			<-s.over
			s.mp.Restart()
		})
	}
	err := s.Sender.Send(ctx, m)
	if err != nil && s.failures.Add(1) == s.until {
		close(s.over)
	}
	return err
}

// sentCounter counts the mails that leave the outbox.
type sentCounter struct {
	jot.MailStore
	sent atomic.Int32
}

func (c *sentCounter) MailSent(ctx context.Context, id string) error {
	err := c.MailStore.MailSent(ctx, id)
	if err == nil {
		c.sent.Add(1)
	}
	return err
}

func TestOutageLosesNothingAndSendsOnce(t *testing.T) {
	mp := mailpit.Start(t)
	st := jottest.SQLite(t)
	smtp, err := mail.NewSMTP(mp.SMTPURL())
	if err != nil {
		t.Fatal(err)
	}
	// The outage lasts until a mail has failed twice: mails 4 to 10 fail
	// once each, so the eighth failure is a retry.
	s := &stopper{Sender: smtp, mp: mp, n: 4, until: 8, over: make(chan struct{})}
	out := &sentCounter{MailStore: st}
	w := mail.NewWorker(mail.Worker{Store: out, Sender: s, Templates: templates(t, ""), From: "noreply@jot.test",
		Poll: 50 * time.Millisecond, Backoff: 100 * time.Millisecond, MaxBackoff: 300 * time.Millisecond, Batch: 1})
	const n = 10
	for i := range n {
		queue(t, st, fmt.Sprintf("u%02d@example.com", i), mail.KindReset)
	}
	runWorker(t, w)
	// Bounded polls on real SMTP and Mailpit's API: once every mail has
	// left the outbox nothing is sent again, so what Mailpit then holds
	// is final.
	deadline := time.Now().Add(20 * time.Second)
	var list []mailpit.Summary
	for {
		if out.sent.Load() == n {
			list, err = mp.Messages()
			if err == nil && len(list) >= n {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d mails sent, %d arrived (err %v)", out.sent.Load(), n, len(list), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.restart.Wait()
	seen := map[string]int{}
	for _, m := range list {
		seen[m.To[0].Address]++
	}
	for i := range n {
		if to := fmt.Sprintf("u%02d@example.com", i); seen[to] != 1 {
			t.Errorf("%s got %d mails, want exactly 1", to, seen[to])
		}
	}
	if s.failures.Load() == 0 {
		t.Error("no send failed: the outage did not happen mid-queue")
	}
	t.Logf("%d sends failed during the outage; %d mails arrived once each", s.failures.Load(), len(list))
}

type failing struct{ calls atomic.Int32 }

func (f *failing) Send(context.Context, *mail.Message) error {
	f.calls.Add(1)
	return fmt.Errorf("connection refused")
}

func TestGivenUpAtExpiry(t *testing.T) {
	st := jottest.SQLite(t)
	var logs bytes.Buffer
	f := &failing{}
	now := time.Now().UTC()
	w := mail.NewWorker(mail.Worker{Store: st, Sender: f, Templates: templates(t, ""), From: "noreply@jot.test",
		Backoff: time.Minute, Log: slog.New(slog.NewTextHandler(&logs, nil)), Now: func() time.Time { return now }})
	m := &jot.Mail{ID: jot.NewID(), Kind: mail.KindReset, To: "a@example.com", CreatedAt: now, NextAt: now, ExpiresAt: now.Add(30 * time.Second)}
	if err := st.QueueMail(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	if n, err := w.RunOnce(t.Context()); n != 1 || err != nil {
		t.Fatalf("RunOnce: %d, %v", n, err)
	}
	// The next try would be past the mail's expiry: it is dropped.
	if left, _ := st.ClaimMail(t.Context(), now.Add(10*time.Minute), time.Minute, 10); len(left) != 0 {
		t.Errorf("a mail past its retry period is still queued")
	}
	if !strings.Contains(logs.String(), "mail given up") {
		t.Errorf("log:\n%s", logs.String())
	}
}

func TestRetryBackoff(t *testing.T) {
	st := jottest.SQLite(t)
	f := &failing{}
	now := time.Now().UTC()
	clock := now.Add(time.Second)
	w := mail.NewWorker(mail.Worker{Store: st, Sender: f, Templates: templates(t, ""), From: "noreply@jot.test",
		Backoff: 10 * time.Second, MaxBackoff: time.Minute, Now: func() time.Time { return clock }})
	queue(t, st, "b@example.com", mail.KindVerify)
	for attempt, wait := range []time.Duration{0, 10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute, time.Minute} {
		clock = clock.Add(wait)
		// Just before the backoff (less its jitter of up to a fifth) the
		// mail is not due; at the full backoff it is.
		if n, _ := w.RunOnce(t.Context()); n != 1 {
			t.Fatalf("attempt %d (after %v): not due", attempt+1, wait)
		}
		if n, _ := w.RunOnce(t.Context()); n != 0 {
			t.Fatalf("attempt %d: due again at once", attempt+1)
		}
	}
	if f.calls.Load() != 6 {
		t.Errorf("%d sends, want 6", f.calls.Load())
	}
}

func TestLogSender(t *testing.T) {
	st := jottest.SQLite(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	w := mail.NewWorker(mail.Worker{Store: st, Sender: &mail.LogSender{Log: log}, Templates: templates(t, ""), From: "noreply@jot.test"})
	queue(t, st, "dev@example.com", mail.KindVerify)
	if n, err := w.RunOnce(t.Context()); n != 1 || err != nil {
		t.Fatalf("RunOnce: %d, %v", n, err)
	}
	out := logs.String()
	for _, want := range []string{"not sent: JOT_SMTP_URL is not set", "to=dev@example.com", `link="http://127.0.0.1:8080/account/verify-email?token=abc"`, `subject="Confirm your email address"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestTemplatesFromFolder(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "reset.txt"), []byte("Subject: New password for {{.email}}\n\nGo to {{.link}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tp := templates(t, dir)
	subject, text, html, err := tp.Render(mail.KindReset, map[string]string{"link": "https://x.test/r", "email": "a@b.test"})
	if err != nil {
		t.Fatal(err)
	}
	if subject != "New password for a@b.test" || text != "Go to https://x.test/r\n" {
		t.Errorf("replaced template: %q %q", subject, text)
	}
	if !strings.Contains(html, `href="https://x.test/r"`) {
		t.Errorf("built-in HTML not kept: %s", html)
	}
	for name, src := range map[string]string{
		"verify.txt":  "no subject line\n\nbody",
		"verify.html": "{{.nosuchkey}}",
		"reset.html":  "{{if}}",
	} {
		bad := t.TempDir()
		if err := os.WriteFile(filepath.Join(bad, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := mail.LoadTemplates(bad); err == nil {
			t.Errorf("a broken %s was accepted", name)
		}
	}
	if _, err := mail.LoadTemplates(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing folder was accepted")
	}
}

func TestParseSMTPURL(t *testing.T) {
	for _, ok := range []string{"smtp://mail.example.com:587", "smtp://u:p@127.0.0.1:25?starttls=off", "smtps://u:p@mail.example.com"} {
		if _, err := mail.NewSMTP(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://mail.example.com", "smtp://", "smtp://h:99999", "smtp://h:25?tls=no", "smtp://h:25/path", "::"} {
		_, err := mail.ParseSMTPURL(bad)
		if err == nil {
			t.Errorf("%s accepted", bad)
		} else if strings.Contains(err.Error(), "p@") {
			t.Errorf("error quotes the URL: %v", err)
		}
	}
}

// TestSTARTTLSRequired: by default a server that offers no STARTTLS gets no
// mail (no credentials or links in clear text); ?starttls=off accepts it.
func TestSTARTTLSRequired(t *testing.T) {
	mp := mailpit.Start(t)
	plain := strings.TrimSuffix(mp.SMTPURL(), "?starttls=off")
	s, err := mail.NewSMTP(plain)
	if err != nil {
		t.Fatal(err)
	}
	msg := &mail.Message{ID: jot.NewID(), From: "noreply@jot.test", To: "tls@example.com", Subject: "s", Text: "t", HTML: "<p>h</p>"}
	if err := s.Send(t.Context(), msg); err == nil {
		t.Fatal("sent without STARTTLS although it is required by default")
	}
	s, _ = mail.NewSMTP(mp.SMTPURL())
	if err := s.Send(t.Context(), msg); err != nil {
		t.Fatalf("with starttls=off: %v", err)
	}
}
