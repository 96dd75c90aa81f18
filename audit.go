package jot

import (
	"context"
	"slices"
	"time"
)

// The audit events. Each names what happened to an account, a session or
// the server's keys; the audit API filters by these names.
const (
	AuditSignup      = "signup"
	AuditLogin       = "login"
	AuditLoginFailed = "login_failed"
	AuditRefresh     = "refresh"
	// AuditRefreshReuse: a used refresh token came back; its session ended.
	AuditRefreshReuse = "refresh_reuse"
	AuditLogout       = "logout"
	// AuditSessionEnded: a session ended for another reason than its own
	// logout; the detail's "why" says which (see the AuditWhy values).
	AuditSessionEnded         = "session_ended"
	AuditPasswordChanged      = "password_changed"
	AuditPasswordResetRequest = "password_reset_requested"
	AuditPasswordReset        = "password_reset"
	AuditEmailVerified        = "email_verified"
	AuditEmailChanged         = "email_changed"
	AuditUserUpdated          = "user_updated"
	AuditUserDeleted          = "user_deleted"
	AuditRateLimited          = "rate_limited"
	AuditKeyRotated           = "key_rotated"
	AuditKeyRevoked           = "key_revoked"
)

// auditEvents lists every audit event name, in the order of the contract.
var auditEvents = []string{
	AuditSignup, AuditLogin, AuditLoginFailed, AuditRefresh, AuditRefreshReuse,
	AuditLogout, AuditSessionEnded, AuditPasswordChanged, AuditPasswordResetRequest,
	AuditPasswordReset, AuditEmailVerified, AuditEmailChanged, AuditUserUpdated,
	AuditUserDeleted, AuditRateLimited, AuditKeyRotated, AuditKeyRevoked,
}

// AuditEventNames returns every audit event name, in the contract's order.
func AuditEventNames() []string { return slices.Clone(auditEvents) }

// ValidAuditEvent reports whether name is an audit event name.
func ValidAuditEvent(name string) bool { return slices.Contains(auditEvents, name) }

// Reasons given as the detail's "why" of session_ended and login_failed.
const (
	WhyMaxSessions    = "max_sessions"
	WhyAdminChange    = "admin_change"
	WhyPasswordChange = "password_change"
	WhyPasswordReset  = "password_reset"
	// WhyEmailChange: a confirmed email change ends every other session.
	WhyEmailChange   = "email_change"
	WhyEndedByUser   = "ended_by_user"
	WhyUserDeleted   = "user_deleted"
	WhyUnknownEmail  = "unknown_email"
	WhyWrongPassword = "wrong_password"
	WhyDisabled      = "disabled"
	WhyUnusableHash  = "unusable_hash"
)

// AuditActorCLI is the actor_id of events caused by the `jot` command line
// (an operator at the server's shell, not a user of the API): it is not an
// id, so it can never be taken for a user.
const AuditActorCLI = "cli"

// AuditEvent is one entry of the audit trail. Empty strings are absent
// values. It never holds a password, a token or a hash.
type AuditEvent struct {
	// ID is a UUIDv7: events sort by it in the order they were made.
	ID    string
	Time  time.Time
	Event string
	// UserID is the account the event is about, SessionID its session.
	UserID    string
	SessionID string
	// ActorID is who caused it: the user themselves, an admin, or
	// AuditActorCLI.
	ActorID   string
	IP        string
	UserAgent string
	RequestID string
	// Detail says more, as a JSON object (nil: none).
	Detail map[string]any
}

// NewAuditEvent returns an event named event at now with a fresh id.
func NewAuditEvent(event string, now time.Time) *AuditEvent {
	return &AuditEvent{ID: NewID(), Time: now.UTC(), Event: event}
}

// Audit is the audit record a store write stores in the transaction of the
// change it records, so the trail holds an event exactly when its change
// committed: a write refused or rolled back leaves none. The write calls
// that change accounts or sessions take it as their optional last argument.
type Audit struct {
	// Events are stored as they are.
	Events []*AuditEvent
	// Ended, when set, is a template stored once for each session the
	// call ends, with SessionID set to that session's id. The store
	// appends those copies to Events, so after the call Events holds
	// every event stored (to log them, for instance).
	Ended *AuditEvent
}

// AddEnded appends to each audit's Events a copy of its Ended template
// for every session id in ended. Stores call it inside the transaction,
// with the sessions the call ended, before they store the events.
func AddEnded(audits []*Audit, ended []string) {
	for _, a := range audits {
		if a == nil || a.Ended == nil {
			continue
		}
		for _, id := range ended {
			e := *a.Ended
			e.ID = NewID()
			e.SessionID = id
			a.Events = append(a.Events, &e)
		}
	}
}

// AuditRows returns every event of audits, for a store to insert.
func AuditRows(audits []*Audit) []*AuditEvent {
	var out []*AuditEvent
	for _, a := range audits {
		if a != nil {
			out = append(out, a.Events...)
		}
	}
	return out
}

// AuditFilter narrows a listing of the audit trail; empty fields match all.
type AuditFilter struct {
	UserID string
	Event  string
}

// AuditStore keeps the audit trail. With PostgreSQL it is one table that
// every instance writes to and reads.
type AuditStore interface {
	// RecordAudit stores events that record no change of their own (a
	// failed login, a refused request), in one insert.
	RecordAudit(ctx context.Context, events ...*AuditEvent) error
	// ListAudit lists the events matching f, newest first by id: those
	// with an id below p.After (empty: from the newest), at most p.Limit
	// (0 or less: all).
	ListAudit(ctx context.Context, f AuditFilter, p Page) ([]*AuditEvent, error)
	// PruneAudit deletes the events made before `before` and returns how
	// many it deleted.
	PruneAudit(ctx context.Context, before time.Time) (int64, error)
	// CreateSigningKeyAudited is KeyStore.CreateSigningKey that stores
	// audit in the same transaction (`jot keys rotate`: key_rotated).
	CreateSigningKeyAudited(ctx context.Context, k *SigningKey, audit *Audit) error
}
