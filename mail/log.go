package mail

import (
	"context"
	"log/slog"
)

// LogSender is the development sender, used when no SMTP server is
// configured: each mail is written to the log, text part and link
// included, so a reset or verification can be finished by hand. It is the
// one place a mail token reaches a log.
type LogSender struct {
	Log *slog.Logger
}

// Send logs m.
func (l *LogSender) Send(ctx context.Context, m *Message) error {
	l.Log.InfoContext(ctx, "mail (not sent: JOT_SMTP_URL is not set)", "to", m.To, "subject", m.Subject, "link", m.Link, "text", m.Text)
	return nil
}
