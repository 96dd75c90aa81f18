package jot

import "time"

// Session is one login: it lives from signup or login until logout, reuse
// detection, an admin action or its expiry. Its refresh tokens and the
// access tokens issued for it carry its id (the `sid` claim).
type Session struct {
	ID         string
	UserID     string
	CreatedAt  time.Time
	LastUsedAt time.Time
	// ExpiresAt is when the session's current refresh token stops working;
	// every rotation moves it to now + the refresh TTL.
	ExpiresAt time.Time
	UserAgent string
	IP        string
	// AccessExp is the latest `exp` of the access tokens issued for the
	// session: after an end, verifiers must refuse its tokens until then.
	AccessExp time.Time
	// EndedAt is zero while the session is live.
	EndedAt time.Time
}

// Live reports whether the session has neither ended nor expired at now.
func (s *Session) Live(now time.Time) bool {
	return s.EndedAt.IsZero() && now.Before(s.ExpiresAt)
}

// Revocation records an ended session whose access tokens may still be
// unexpired. Seq increases with every revocation, so it serves as a cursor.
type Revocation struct {
	Seq       int64
	SessionID string
	// Exp is the session's AccessExp when it ended.
	Exp     time.Time
	EndedAt time.Time
}

// RotateOutcome says what a refresh-token rotation did.
type RotateOutcome int

// The outcomes of RotateRefresh.
const (
	// RotateInvalid: the token is unknown, or its session ended or expired.
	RotateInvalid RotateOutcome = iota
	// RotateOK: the token was live; it is now used and its successor is live.
	RotateOK
	// RotateGrace: the token was used within the grace window and its
	// successor is still the session's live token; nothing changed but the
	// session's AccessExp and LastUsedAt.
	RotateGrace
	// RotateReused: the token was used before and the grace does not apply;
	// the whole session has been ended.
	RotateReused
)

// RotateRequest asks the store to consume a refresh token, atomically.
type RotateRequest struct {
	// Hash is the SHA-256 of the presented refresh token.
	Hash []byte
	// SuccessorHash is the SHA-256 of its successor, derived from the
	// presented token, so a replay within the grace finds the same one.
	SuccessorHash []byte
	Now           time.Time
	Grace         time.Duration
	// ExpiresAt becomes the session's ExpiresAt on RotateOK.
	ExpiresAt time.Time
	// MaxAge, when positive, is the session's absolute lifetime: ExpiresAt
	// is cut to the session's CreatedAt + MaxAge, and a session that old
	// is RotateInvalid however recently it was refreshed.
	MaxAge time.Duration
	// AccessExp is the exp of the access token that will be issued; the
	// session's AccessExp becomes the later of it and the stored one.
	AccessExp time.Time
	UserAgent string
	IP        string
	// Audit, when set, is stored in the rotating transaction on every
	// outcome but RotateInvalid, with Event set to AuditRefresh (RotateOK,
	// RotateGrace) or AuditRefreshReuse (RotateReused) and UserID and
	// SessionID to the session's.
	Audit *AuditEvent
}

// RotateResult is what RotateRefresh found. Session and User are set for
// RotateOK and RotateGrace, and Session for RotateReused.
type RotateResult struct {
	Outcome RotateOutcome
	Session *Session
	User    *User
}

// ExpiryFor returns the ExpiresAt that a rotation of s at req.Now sets:
// req.ExpiresAt, cut to s.CreatedAt + req.MaxAge. ok is false when s has
// reached that absolute end, so the rotation must be refused. Stores call
// it inside the rotating transaction.
func (req *RotateRequest) ExpiryFor(s *Session) (exp time.Time, ok bool) {
	if req.MaxAge <= 0 {
		return req.ExpiresAt, true
	}
	end := s.CreatedAt.Add(req.MaxAge)
	if !req.Now.Before(end) {
		return time.Time{}, false
	}
	if req.ExpiresAt.After(end) {
		return end, true
	}
	return req.ExpiresAt, true
}

// AuditFor returns req.Audit completed for the outcome res, or nil when
// there is nothing to record (no Audit, or RotateInvalid). Stores call it
// inside the rotating transaction and store what it returns there.
func (req *RotateRequest) AuditFor(res *RotateResult) *AuditEvent {
	if req.Audit == nil || res == nil || res.Session == nil {
		return nil
	}
	switch res.Outcome {
	case RotateOK, RotateGrace:
		req.Audit.Event = AuditRefresh
	case RotateReused:
		req.Audit.Event = AuditRefreshReuse
	default:
		return nil
	}
	req.Audit.UserID = res.Session.UserID
	req.Audit.SessionID = res.Session.ID
	if res.Outcome == RotateGrace {
		req.Audit.Detail = map[string]any{"grace": true}
	}
	// The holder of a live refresh token acts as its user; who replayed a
	// used one is unknown.
	if res.Outcome != RotateReused && req.Audit.ActorID == "" {
		req.Audit.ActorID = res.Session.UserID
	}
	return req.Audit
}
