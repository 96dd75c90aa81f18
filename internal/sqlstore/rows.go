package sqlstore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/jotauth/jot"
)

// Times is how a store keeps time columns: SQLite as Unix nanoseconds,
// PostgreSQL as timestamptz. The functions below take it as a type
// parameter (sqlstore.ScanUser[times]), so a store hands them around as
// plain functions.
type Times interface {
	// Dest returns a scan destination that sets *t from a NOT NULL column.
	Dest(t *time.Time) any
	// NullDest returns a scan destination that sets *t from a nullable
	// column, NULL as the zero time.
	NullDest(t *time.Time) any
	// Arg encodes t for a NOT NULL column.
	Arg(t time.Time) any
	// NullArg encodes t for a nullable column: the zero time as NULL.
	NullArg(t time.Time) any
}

// UserColumns are the columns ScanUser reads and UserArgs fills.
const UserColumns = `id, email, name, role, disabled, password_hash, created_at, updated_at, email_verified`

// ScanUser reads a row of UserColumns.
func ScanUser[T Times](s Scanner) (*jot.User, error) {
	var tm T
	var u jot.User
	if err := s.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Disabled, &u.PasswordHash,
		tm.Dest(&u.CreatedAt), tm.Dest(&u.UpdatedAt), &u.EmailVerified); err != nil {
		return nil, err
	}
	return &u, nil
}

// UserArgs are the values of u's UserColumns.
func UserArgs[T Times](u *jot.User) []any {
	var tm T
	return []any{u.ID, u.Email, u.Name, string(u.Role), u.Disabled, u.PasswordHash,
		tm.Arg(u.CreatedAt), tm.Arg(u.UpdatedAt), u.EmailVerified}
}

// SessionColumns are the columns ScanSession reads and SessionArgs fills.
const SessionColumns = `id, user_id, created_at, last_used_at, expires_at, user_agent, ip, access_exp, ended_at`

// ScanSession reads a row of SessionColumns.
func ScanSession[T Times](s Scanner) (*jot.Session, error) {
	var tm T
	var ss jot.Session
	if err := s.Scan(&ss.ID, &ss.UserID, tm.Dest(&ss.CreatedAt), tm.NullDest(&ss.LastUsedAt), tm.Dest(&ss.ExpiresAt),
		&ss.UserAgent, &ss.IP, tm.NullDest(&ss.AccessExp), tm.NullDest(&ss.EndedAt)); err != nil {
		return nil, err
	}
	return &ss, nil
}

// SessionArgs are the values of s's SessionColumns.
func SessionArgs[T Times](s *jot.Session) []any {
	var tm T
	return []any{s.ID, s.UserID, tm.Arg(s.CreatedAt), tm.NullArg(s.LastUsedAt), tm.Arg(s.ExpiresAt),
		s.UserAgent, s.IP, tm.NullArg(s.AccessExp), tm.NullArg(s.EndedAt)}
}

// TaskColumns are the columns ScanTask reads and TaskArgs fills.
const TaskColumns = `id, owner_id, title, done, created_at, updated_at`

// ScanTask reads a row of TaskColumns.
func ScanTask[T Times](s Scanner) (*jot.Task, error) {
	var tm T
	var t jot.Task
	if err := s.Scan(&t.ID, &t.OwnerID, &t.Title, &t.Done, tm.Dest(&t.CreatedAt), tm.Dest(&t.UpdatedAt)); err != nil {
		return nil, err
	}
	return &t, nil
}

// TaskArgs are the values of t's TaskColumns.
func TaskArgs[T Times](t *jot.Task) []any {
	var tm T
	return []any{t.ID, t.OwnerID, t.Title, t.Done, tm.Arg(t.CreatedAt), tm.Arg(t.UpdatedAt)}
}

// SigningKeyColumns are the columns ScanSigningKey reads.
const SigningKeyColumns = `kid, alg, private, created_at, activates_at, revoked_at`

// ScanSigningKey reads a row of SigningKeyColumns.
func ScanSigningKey[T Times](s Scanner) (*jot.SigningKey, error) {
	var tm T
	var k jot.SigningKey
	if err := s.Scan(&k.KID, &k.Alg, &k.Private, tm.Dest(&k.CreatedAt), tm.NullDest(&k.ActivatesAt), tm.NullDest(&k.RevokedAt)); err != nil {
		return nil, err
	}
	return &k, nil
}

// NewSigningKeyArgs are the values of a new key's columns: kid, alg,
// private, created_at, activates_at.
func NewSigningKeyArgs[T Times](k *jot.SigningKey) []any {
	var tm T
	return []any{k.KID, k.Alg, k.Private, tm.Arg(k.CreatedAt), tm.NullArg(k.ActivatesAt)}
}

// MailTokenColumns are the columns ScanMailToken reads and MailTokenArgs
// fills.
const MailTokenColumns = `hash, purpose, user_id, email, session_id, created_at, expires_at`

// ScanMailToken reads a row of MailTokenColumns.
func ScanMailToken[T Times](s Scanner) (*jot.MailToken, error) {
	var tm T
	var t jot.MailToken
	if err := s.Scan(&t.Hash, &t.Purpose, &t.UserID, &t.Email, &t.SessionID, tm.Dest(&t.CreatedAt), tm.Dest(&t.ExpiresAt)); err != nil {
		return nil, err
	}
	return &t, nil
}

// MailTokenArgs are the values of t's MailTokenColumns.
func MailTokenArgs[T Times](t *jot.MailToken) []any {
	var tm T
	return []any{t.Hash, t.Purpose, t.UserID, t.Email, t.SessionID, tm.Arg(t.CreatedAt), tm.Arg(t.ExpiresAt)}
}

// AuditColumns are the columns ScanAudit reads and AuditArgs fills.
const AuditColumns = `id, time, event, user_id, session_id, actor_id, ip, user_agent, request_id, detail`

// ScanAudit reads a row of AuditColumns; detail is JSON text.
func ScanAudit[T Times](s Scanner) (*jot.AuditEvent, error) {
	var tm T
	var e jot.AuditEvent
	var user, session, actor, ip, ua, req *string
	var detail []byte
	if err := s.Scan(&e.ID, tm.Dest(&e.Time), &e.Event, &user, &session, &actor, &ip, &ua, &req, &detail); err != nil {
		return nil, err
	}
	deref := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	e.UserID, e.SessionID, e.ActorID = deref(user), deref(session), deref(actor)
	e.IP, e.UserAgent, e.RequestID = deref(ip), deref(ua), deref(req)
	if detail != nil {
		if err := json.Unmarshal(detail, &e.Detail); err != nil {
			return nil, fmt.Errorf("audit detail: %w", err)
		}
	}
	return &e, nil
}

// AuditArgs are the values of e's AuditColumns: absent values as NULL,
// the detail as JSON text.
func AuditArgs[T Times](e *jot.AuditEvent) ([]any, error) {
	var tm T
	var detail any
	if len(e.Detail) > 0 {
		b, err := json.Marshal(e.Detail)
		if err != nil {
			return nil, fmt.Errorf("audit detail: %w", err)
		}
		detail = string(b)
	}
	return []any{e.ID, tm.Arg(e.Time), e.Event, NullString(e.UserID), NullString(e.SessionID), NullString(e.ActorID),
		NullString(e.IP), NullString(e.UserAgent), NullString(e.RequestID), detail}, nil
}
