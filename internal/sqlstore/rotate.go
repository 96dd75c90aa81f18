package sqlstore

import (
	"errors"
	"fmt"
	"time"

	"github.com/jotauth/jot"
)

// Rotation is what a store does, inside its transaction, to rotate one
// refresh token; Run takes the steps in the order every store shares and
// decides the outcome. The steps hold the store's SQL and locking.
type Rotation struct {
	// NoRows is the driver's error of a query that found no row.
	NoRows error
	// Token returns the id of the token's session.
	Token func() (sessionID string, err error)
	// Session reads (and, as the store needs, locks) a session; a missing
	// one is ENOTFOUND.
	Session func(id string) (*jot.Session, error)
	// Used returns when the token was used, nil when it was not.
	Used func() (*time.Time, error)
	// User reads a user; a missing one is ENOTFOUND.
	User func(id string) (*jot.User, error)
	// Use marks the token used, inserts its successor and moves s on to
	// expires, returning s as stored now.
	Use func(s *jot.Session, expires time.Time) (*jot.Session, error)
	// SuccessorLive reports whether the token's successor is unused.
	SuccessorLive func(s *jot.Session) (bool, error)
	// Grace records a use of s within the grace period, returning s as
	// stored now.
	Grace func(s *jot.Session) (*jot.Session, error)
	// End ends s, a session whose used token came back, returning s as
	// stored now.
	End func(s *jot.Session) (*jot.Session, error)
}

// Run rotates req's token; see jot.SessionStore.
func (r Rotation) Run(req jot.RotateRequest) (*jot.RotateResult, error) {
	invalid := &jot.RotateResult{Outcome: jot.RotateInvalid}
	sessionID, err := r.Token()
	if errors.Is(err, r.NoRows) {
		return invalid, nil
	} else if err != nil {
		return nil, fmt.Errorf("find token: %w", err)
	}
	s, err := r.Session(sessionID)
	if jot.ErrorCode(err) == jot.ENOTFOUND {
		return invalid, nil
	} else if err != nil {
		return nil, err
	}
	if !s.Live(req.Now) {
		return invalid, nil
	}
	expires, ok := req.ExpiryFor(s)
	if !ok {
		return invalid, nil
	}
	usedAt, err := r.Used()
	if errors.Is(err, r.NoRows) {
		return invalid, nil
	} else if err != nil {
		return nil, fmt.Errorf("find token: %w", err)
	}
	u, err := r.User(s.UserID)
	if jot.ErrorCode(err) == jot.ENOTFOUND {
		return invalid, nil
	} else if err != nil {
		return nil, err
	}
	if u.Disabled {
		return invalid, nil
	}
	if usedAt == nil {
		if s, err = r.Use(s, expires); err != nil {
			return nil, err
		}
		return &jot.RotateResult{Outcome: jot.RotateOK, Session: s, User: u}, nil
	}
	// Two tabs refreshing at once present the same token; the later one gets
	// the successor the earlier one got. A Now before used_at is such a race
	// too: the callers read their clocks before taking turns here.
	if req.Grace > 0 && req.Now.Sub(*usedAt) < req.Grace {
		live, err := r.SuccessorLive(s)
		if err != nil {
			return nil, fmt.Errorf("find successor token: %w", err)
		}
		if live {
			if s, err = r.Grace(s); err != nil {
				return nil, err
			}
			return &jot.RotateResult{Outcome: jot.RotateGrace, Session: s, User: u}, nil
		}
	}
	if s, err = r.End(s); err != nil {
		return nil, err
	}
	return &jot.RotateResult{Outcome: jot.RotateReused, Session: s}, nil
}
