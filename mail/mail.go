// Package mail sends jot's mails: the outbox worker that claims queued
// mails from the store and sends them with retries and backoff, the SMTP
// sender (github.com/wneessen/go-mail), the development sender that writes
// mails to the log, and the text and HTML templates they are made from.
package mail

import "context"

// Message is one rendered mail.
type Message struct {
	// ID is the outbox id, stable across retries.
	ID      string
	From    string
	To      string
	Subject string
	Text    string
	HTML    string
	// Link is the link the mail carries, if any (for the development log).
	Link string
}

// Sender delivers a rendered message. An error means it was not sent and
// may be tried again.
type Sender interface {
	Send(ctx context.Context, m *Message) error
}
