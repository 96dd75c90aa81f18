package mail

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SMTP sends mail to an SMTP server. Make one with NewSMTP.
type SMTP struct {
	host string
	opts []gomail.Option
}

// sendTimeout bounds one delivery, connecting included.
const sendTimeout = 30 * time.Second

// ParseSMTPURL checks an SMTP URL: smtp://[user:pass@]host:port, with
// ?starttls=off to accept a server that does not offer STARTTLS, or
// smtps://[user:pass@]host:port for TLS from the first byte. Its error
// never quotes the URL, which may hold a password.
func ParseSMTPURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("must be smtp://[user:pass@]host:port or smtps://..., and does not parse")
	}
	switch strings.ToLower(u.Scheme) {
	case "smtp", "smtps":
	default:
		return nil, fmt.Errorf("must start with smtp:// or smtps://, got scheme %q", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("has no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("port must be 1 to 65535, got %q", p)
		}
	}
	for k, v := range u.Query() {
		switch {
		case k == "starttls" && len(v) == 1 && (v[0] == "off" || v[0] == "on"):
		default:
			return nil, fmt.Errorf("unknown parameter %q (only starttls=off is known)", k)
		}
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("must not have a path")
	}
	return u, nil
}

// NewSMTP returns a sender for the server the URL names (see
// ParseSMTPURL). On smtp:// STARTTLS is used whenever the server offers
// it, and required unless the URL says ?starttls=off; smtps:// speaks TLS
// at once (port 465 by default). Credentials in the URL are used with the
// best mechanism the server offers.
func NewSMTP(raw string) (*SMTP, error) {
	u, err := ParseSMTPURL(raw)
	if err != nil {
		return nil, err
	}
	host := u.Hostname()
	opts := []gomail.Option{
		gomail.WithTimeout(sendTimeout),
		gomail.WithTLSConfig(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}),
	}
	implicit := strings.EqualFold(u.Scheme, "smtps")
	port := 587
	if implicit {
		port = 465
		opts = append(opts, gomail.WithSSL())
	} else if u.Query().Get("starttls") == "off" {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	} else {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if p := u.Port(); p != "" {
		port, _ = strconv.Atoi(p)
	}
	opts = append(opts, gomail.WithPort(port))
	if u.User != nil {
		pw, _ := u.User.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(u.User.Username()), gomail.WithPassword(pw))
	}
	return &SMTP{host: host, opts: opts}, nil
}

// Send delivers m: a multipart/alternative mail with a text and an HTML
// part.
func (s *SMTP) Send(ctx context.Context, m *Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(m.From); err != nil {
		return fmt.Errorf("from address: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("to address: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageIDWithValue(m.ID + "@" + domainOf(m.From))
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	c, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtp send: %w", err)
	}
	return nil
}

// domainOf returns the domain of an address, for Message-IDs.
func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.TrimRight(addr[i+1:], ">")
	}
	host, _, err := net.SplitHostPort(addr)
	if err == nil {
		return host
	}
	return "jot"
}
