package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var mailNames = map[string]string{
	"public-url": "JOT_PUBLIC_URL", "smtp-url": "JOT_SMTP_URL", "mail-from": "JOT_MAIL_FROM",
	"mail-templates": "JOT_MAIL_TEMPLATES", "email-verification": "JOT_EMAIL_VERIFICATION",
	"reset-ttl": "JOT_RESET_TTL", "verify-ttl": "JOT_VERIFY_TTL", "reset-url": "JOT_RESET_URL",
	"verify-url": "JOT_VERIFY_URL", "mail-retry-for": "JOT_MAIL_RETRY_FOR",
}

var mailEnv = env{
	"JOT_PUBLIC_URL":         "https://auth.example.com",
	"JOT_SMTP_URL":           "smtps://u:secret@mail.example.com:465",
	"JOT_MAIL_FROM":          "jot <noreply@example.com>",
	"JOT_MAIL_TEMPLATES":     "/", // a folder that exists; it holds no templates
	"JOT_EMAIL_VERIFICATION": "required",
	"JOT_RESET_TTL":          "30m",
	"JOT_VERIFY_TTL":         "48h",
	"JOT_RESET_URL":          "https://app.example.com/reset#{token}",
	"JOT_VERIFY_URL":         "https://app.example.com/verify?t={token}",
	"JOT_MAIL_RETRY_FOR":     "2h",
}

func mailDefaults(c *Config) {
	c.EmailVerification = "optional"
	c.ResetTTL, c.VerifyTTL, c.MailRetryFor = time.Hour, 24*time.Hour, 24*time.Hour
}

func mailWant(c *Config) {
	c.PublicURL = "https://auth.example.com"
	c.SMTPURL = "smtps://u:secret@mail.example.com:465"
	c.MailFrom = "jot <noreply@example.com>"
	c.MailTemplates = "/"
	c.EmailVerification = "required"
	c.ResetTTL, c.VerifyTTL, c.MailRetryFor = 30*time.Minute, 48*time.Hour, 2*time.Hour
	c.ResetURL = "https://app.example.com/reset#{token}"
	c.VerifyURL = "https://app.example.com/verify?t={token}"
}

func TestValidateMail(t *testing.T) {
	tmpl := t.TempDir()
	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, "reset.txt"), []byte("{{if}}"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"public url", func(c *Config) { c.PublicURL = "auth.example.com" }, `JOT_PUBLIC_URL: must be an absolute http:// or https:// URL, got "auth.example.com"`},
		{"smtp scheme", func(c *Config) { c.SMTPURL = "http://u:secret@h:25" }, `JOT_SMTP_URL: must start with smtp:// or smtps://, got scheme "http"`},
		{"smtp param", func(c *Config) { c.SMTPURL = "smtp://h:25?tls=1"; c.MailFrom = "a@b.c" }, `JOT_SMTP_URL: unknown parameter "tls" (only starttls=off is known)`},
		{"from missing", func(c *Config) { c.SMTPURL = "smtp://h:25" }, "JOT_MAIL_FROM: is required when JOT_SMTP_URL is set"},
		{"from bad", func(c *Config) { c.MailFrom = "nobody" }, `JOT_MAIL_FROM: must be an address such as noreply@example.com or "jot <noreply@example.com>", got "nobody"`},
		{"templates missing", func(c *Config) { c.MailTemplates = filepath.Join(tmpl, "none") }, "JOT_MAIL_TEMPLATES: must be a folder"},
		{"templates broken", func(c *Config) { c.MailTemplates = broken }, "JOT_MAIL_TEMPLATES: template: reset.txt"},
		{"verification", func(c *Config) { c.EmailVerification = "yes" }, `JOT_EMAIL_VERIFICATION: must be optional, required or off, got "yes"`},
		{"reset ttl", func(c *Config) { c.ResetTTL = time.Second }, "JOT_RESET_TTL: must be at least 1m, got 1s"},
		{"retry for", func(c *Config) { c.MailRetryFor = 0 }, "JOT_MAIL_RETRY_FOR: must be at least 1m, got 0s"},
		{"reset url token", func(c *Config) { c.ResetURL = "https://app.example.com/reset" }, `JOT_RESET_URL: must contain {token}, got "https://app.example.com/reset"`},
		{"verify url", func(c *Config) { c.VerifyURL = "/verify/{token}" }, `JOT_VERIFY_URL: must be an absolute http:// or https:// URL, got "/verify/{token}"`},
	} {
		c := Default()
		tc.edit(&c)
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), ":secret@") {
			t.Errorf("%s: error quotes the SMTP password: %v", tc.name, err)
		}
	}
	c := Default()
	c.SMTPURL, c.MailFrom, c.MailTemplates = "smtp://u:secret@h:25", "a@b.c", tmpl
	if err := c.Validate(); err != nil {
		t.Errorf("good mail settings: %v", err)
	}
	if s := c.LogValue().String(); strings.Contains(s, ":secret@") {
		t.Errorf("the SMTP password reaches the log: %s", s)
	}
}
