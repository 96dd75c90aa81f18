package jot

import (
	"context"
	"time"
)

// The purposes of a mail token. A token works only for its own purpose.
const (
	// PurposeReset: set a new password (POST /v1/auth/password/reset).
	PurposeReset = "reset"
	// PurposeVerify: prove the user's current email is theirs.
	PurposeVerify = "verify"
	// PurposeEmailChange: make MailToken.Email the user's email.
	PurposeEmailChange = "email_change"
)

// MailToken is a single-use token sent by mail, stored only as the SHA-256
// of the token, bound to its purpose, its user and an address.
type MailToken struct {
	Hash    []byte
	Purpose string
	UserID  string
	// Email is the address the token was mailed to: the user's email for a
	// reset or a verification (a verification token of an address the user
	// no longer has is void), the new address for an email change.
	Email string
	// SessionID is, for an email change, the session that asked for it:
	// the one session the change leaves alive.
	SessionID string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Mail is a message waiting in the outbox. The sender renders it from the
// template Kind with Data when it sends it.
type Mail struct {
	ID   string
	Kind string
	To   string
	Data map[string]string
	// TokenHash, when set, ties the mail to its token: when the token is
	// used, replaced or ends, the mail leaves the outbox with it.
	TokenHash []byte
	CreatedAt time.Time
	// NextAt is when the mail is next due to be sent (or, while a sender
	// holds it, when its claim runs out).
	NextAt time.Time
	// ExpiresAt is when the mail is given up: its token's expiry, or the
	// end of the retry period.
	ExpiresAt time.Time
	// Attempts counts the claims so far, this one included.
	Attempts int
}

// MailStore keeps mail tokens (as hashes only) and the outbox of mails.
// A mail is queued in the same transaction as the change that causes it.
type MailStore interface {
	// CreateUserWithMail inserts u (as CreateUser does) together with a
	// token and the mail that carries it, in one transaction; t and m may
	// be nil.
	CreateUserWithMail(ctx context.Context, u *User, t *MailToken, m *Mail, audit ...*Audit) error
	// IssueMailToken stores t and queues mails in one transaction. The user
	// must exist (else ENOTFOUND). A reset token ends every other reset
	// token of the user, and their mails: only the newest works.
	IssueMailToken(ctx context.Context, t *MailToken, mails ...*Mail) error
	// IssueMailTokenAudited is IssueMailToken that stores audit (may be
	// nil) in the same transaction (password_reset_requested).
	IssueMailTokenAudited(ctx context.Context, t *MailToken, audit *Audit, mails ...*Mail) error
	// QueueMail queues mails that carry no token, in one transaction.
	QueueMail(ctx context.Context, mails ...*Mail) error
	// ConsumeMailToken uses a token of the purpose, in one transaction: an
	// unknown token, one of another purpose or one expired at now is
	// ENOTFOUND and nothing changes. Otherwise decide gets the user and
	// the token and returns the update to make (its error aborts, and the
	// token stays); the token is deleted and the update applied as
	// UserUpdate does. An email taken meanwhile is ECONFLICT. audit is
	// stored in the same transaction (see Audit), after decide returned, so
	// decide may fill in what only it sees (the user, the old email).
	ConsumeMailToken(ctx context.Context, hash []byte, purpose string, now time.Time,
		decide func(u *User, t *MailToken) (UserUpdate, error), audit ...*Audit) (*User, error)
	// ClaimMail hands out up to n mails due at now, oldest first, and makes
	// each due again only at now+lease, so a mail is sent by one sender at
	// a time however many instances run; Attempts counts the claim.
	ClaimMail(ctx context.Context, now time.Time, lease time.Duration, n int) ([]*Mail, error)
	// MailSent removes a sent mail from the outbox.
	MailSent(ctx context.Context, id string) error
	// RetryMail makes a mail due again at next.
	RetryMail(ctx context.Context, id string, next time.Time) error
	// PruneMail deletes tokens and mails that expired before now.
	PruneMail(ctx context.Context, now time.Time) error
}

// EndsResetTokens reports whether an update from before to after ends the
// user's reset tokens: a new password that ends sessions (a change or a
// reset, not a rehash of the same password), a disable, or a new email
// (the mail went to the old one).
func (upd UserUpdate) EndsResetTokens(before, after *User) bool {
	return upd.PasswordHash != nil && upd.EndSessions ||
		!before.Disabled && after.Disabled ||
		before.Email != after.Email
}
