package accounts

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jotauth/jot"
)

// The modes of JOT_EMAIL_VERIFICATION.
const (
	// VerificationOptional: signup sends a verification mail; nothing is refused.
	VerificationOptional = "optional"
	// VerificationRequired: no tokens until the email is verified.
	VerificationRequired = "required"
	// VerificationOff: no verification mails.
	VerificationOff = "off"
)

// MailOptions configure the mail flows.
type MailOptions struct {
	// Verification is optional (the default), required or off.
	Verification string
	// PublicURL is where the links point (…/account/reset-password).
	PublicURL string
	// ResetURL and VerifyURL, when set, are templates with {token} for
	// links to an app's own pages instead.
	ResetURL, VerifyURL string
	// ResetTTL and VerifyTTL are the tokens' lifetimes (default 1h, 24h).
	ResetTTL, VerifyTTL time.Duration
	// RetryFor is how long a mail is retried (default 24h).
	RetryFor time.Duration
	// AppName is how mails name the service.
	AppName string
	// Wake, if set, is called once a mail is queued, so it goes at once.
	Wake func()
}

func (o *MailOptions) defaults() {
	if o.Verification == "" {
		o.Verification = VerificationOptional
	}
	if o.PublicURL == "" {
		o.PublicURL = "http://127.0.0.1:8080"
	}
	if o.ResetTTL <= 0 {
		o.ResetTTL = time.Hour
	}
	if o.VerifyTTL <= 0 {
		o.VerifyTTL = 24 * time.Hour
	}
	if o.RetryFor <= 0 {
		o.RetryFor = 24 * time.Hour
	}
	if o.AppName == "" {
		o.AppName = "jot"
	}
	if o.Wake == nil {
		o.Wake = func() {}
	}
}

// Mail kinds: the templates of the mail package.
const (
	mailReset             = "reset"
	mailVerify            = "verify"
	mailEmailChange       = "email_change"
	mailEmailChangeNotice = "email_change_notice"
	mailEmailTaken        = "email_taken"
)

// maxMailToken bounds what is hashed: a real token is 43 characters.
const maxMailToken = 256

// ErrBadMailToken is the one answer to an unknown, expired, used or
// superseded mail token.
var ErrBadMailToken = jot.Errorf(jot.EINVALIDGRANT, "invalid or expired link")

// newMailToken returns a token of 256 random bits and its stored form.
func newMailToken() (string, []byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("random mail token: %w", err)
	}
	t := base64.RawURLEncoding.EncodeToString(b)
	return t, hashToken(t), nil
}

// link is where a mail token is opened: the app's own page when its
// template is set, else the server's page under PublicURL.
func (o *MailOptions) link(purpose, token string) string {
	tmpl, page := o.VerifyURL, "/account/verify-email"
	if purpose == jot.PurposeReset {
		tmpl, page = o.ResetURL, "/account/reset-password"
	}
	if tmpl != "" {
		return strings.ReplaceAll(tmpl, "{token}", url.QueryEscape(token))
	}
	return strings.TrimRight(o.PublicURL, "/") + page + "?token=" + url.QueryEscape(token)
}

// humanDuration says a token lifetime in words: "1 hour", "30 minutes".
func humanDuration(d time.Duration) string {
	unit, n := "minute", int(d/time.Minute)
	if d >= time.Hour && d%time.Hour == 0 {
		unit, n = "hour", int(d/time.Hour)
	}
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// issued is a token ready to store, with the mail that carries it.
type issued struct {
	token string
	tok   *jot.MailToken
	mail  *jot.Mail
}

// prepare makes a token of the purpose for u, mailed to `to`, and the mail
// carrying its link. It does not store anything.
func (s *Service) prepare(u *jot.User, purpose, kind, to string, data map[string]string) (*issued, error) {
	o := &s.opts.Mail
	ttl := o.VerifyTTL
	if purpose == jot.PurposeReset {
		ttl = o.ResetTTL
	}
	raw, hash, err := newMailToken()
	if err != nil {
		return nil, err
	}
	now := s.opts.Now()
	tok := &jot.MailToken{Hash: hash, Purpose: purpose, UserID: u.ID, Email: to, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	d := s.mailData(u, data)
	d["link"] = o.link(purpose, raw)
	d["expires"] = humanDuration(ttl)
	m := s.newMail(kind, to, d)
	m.TokenHash = hash
	// Nothing in the outbox outlives its token.
	m.ExpiresAt = minTime(m.ExpiresAt, tok.ExpiresAt)
	return &issued{token: raw, tok: tok, mail: m}, nil
}

// newMail is a mail ready to queue, due now, retried for RetryFor.
func (s *Service) newMail(kind, to string, data map[string]string) *jot.Mail {
	now := s.opts.Now()
	return &jot.Mail{ID: jot.NewID(), Kind: kind, To: to, Data: data, CreatedAt: now, NextAt: now, ExpiresAt: now.Add(s.opts.Mail.RetryFor)}
}

func (s *Service) mailData(u *jot.User, extra map[string]string) map[string]string {
	d := map[string]string{"email": u.Email, "name": u.Name, "app": s.opts.Mail.AppName}
	for k, v := range extra {
		d[k] = v
	}
	return d
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// consume uses a mail token of the purpose; any token that cannot be used
// is ErrBadMailToken.
// audit is stored with the change (see jot.MailStore.ConsumeMailToken).
func (s *Service) consume(ctx context.Context, token, purpose string, decide func(u *jot.User, t *jot.MailToken) (jot.UserUpdate, error), audit *jot.Audit) (*jot.User, error) {
	if token == "" || len(token) > maxMailToken {
		return nil, ErrBadMailToken
	}
	u, err := s.store.ConsumeMailToken(ctx, hashToken(token), purpose, s.opts.Now(), decide, audit)
	if jot.ErrorCode(err) == jot.ENOTFOUND {
		return nil, ErrBadMailToken
	}
	return u, err
}

// checkVerified refuses a session to an unverified email when
// verification is required; the password has been checked already.
func (s *Service) checkVerified(u *jot.User) error {
	if s.opts.Mail.Verification == VerificationRequired && !u.EmailVerified {
		return jot.Errorf(jot.EEMAILNOTVERIFIED, "verify your email address first: follow the link in the mail sent to it")
	}
	return nil
}
