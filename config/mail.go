package config

import (
	"net/mail"
	"net/url"
	"os"
	"strings"
	"time"

	jotmail "github.com/jotauth/jot/mail"
)

// checkMail checks the mail settings of §3 Email; none of its messages
// quotes JOT_SMTP_URL, which may hold a password.
func (c *Config) checkMail() *SettingError {
	if c.PublicURL != "" {
		if msg := checkHTTPURL(c.PublicURL); msg != "" {
			return bad("JOT_PUBLIC_URL", "%s, got %q", msg, c.PublicURL)
		}
	}
	if c.SMTPURL != "" {
		if _, err := jotmail.ParseSMTPURL(c.SMTPURL); err != nil {
			return bad("JOT_SMTP_URL", "%v", err)
		}
		if c.MailFrom == "" {
			return bad("JOT_MAIL_FROM", "is required when JOT_SMTP_URL is set")
		}
	}
	if c.MailFrom != "" {
		if _, err := mail.ParseAddress(c.MailFrom); err != nil {
			return bad("JOT_MAIL_FROM", "must be an address such as noreply@example.com or \"jot <noreply@example.com>\", got %q", c.MailFrom)
		}
	}
	if c.MailTemplates != "" {
		if st, err := os.Stat(c.MailTemplates); err != nil || !st.IsDir() {
			return bad("JOT_MAIL_TEMPLATES", "must be a folder, got %q", c.MailTemplates)
		}
		if _, err := jotmail.LoadTemplates(c.MailTemplates); err != nil {
			return bad("JOT_MAIL_TEMPLATES", "%v", err)
		}
	}
	switch c.EmailVerification {
	case "optional", "required", "off":
	default:
		return bad("JOT_EMAIL_VERIFICATION", "must be optional, required or off, got %q", c.EmailVerification)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"JOT_RESET_TTL", c.ResetTTL}, {"JOT_VERIFY_TTL", c.VerifyTTL}, {"JOT_MAIL_RETRY_FOR", c.MailRetryFor}} {
		if d.v < time.Minute {
			return bad(d.name, "must be at least 1m, got %s", fmtDuration(d.v))
		}
	}
	for _, u := range []struct{ name, v string }{{"JOT_RESET_URL", c.ResetURL}, {"JOT_VERIFY_URL", c.VerifyURL}} {
		if u.v == "" {
			continue
		}
		if !strings.Contains(u.v, "{token}") {
			return bad(u.name, "must contain {token}, got %q", u.v)
		}
		if msg := checkHTTPURL(strings.ReplaceAll(u.v, "{token}", "t")); msg != "" {
			return bad(u.name, "%s, got %q", msg, u.v)
		}
	}
	return nil
}

// checkHTTPURL returns what is wrong with an absolute http(s) URL, or "".
func checkHTTPURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "must be an absolute http:// or https:// URL"
	}
	return ""
}
