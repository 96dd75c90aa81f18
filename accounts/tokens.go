package accounts

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/token"
)

// Client describes where a request comes from, recorded on the session.
type Client struct {
	UserAgent string
	IP        string
}

// TokenResponse is the answer of signup, login and the token endpoint
// (RFC 6749 §5.1).
type TokenResponse struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type"`
	ExpiresIn    int64     `json:"expires_in"`
	RefreshToken string    `json:"refresh_token"`
	User         *jot.User `json:"user"`
}

// hashToken is how refresh tokens are stored: SHA-256, never the token.
func hashToken(t string) []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}

func (s *Service) successor(t string) string {
	m := hmac.New(sha256.New, s.successorKey)
	m.Write([]byte(t))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func newRefreshToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random refresh token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// accessExp is the exp of an access token issued at now, in whole
// seconds as the claim carries it, so the session records exactly the exp
// its tokens carry and the revocation feed can quote it.
func (s *Service) accessExp(now time.Time) time.Time {
	return now.Add(s.opts.AccessTTL).Truncate(time.Second)
}

// issue creates an access token for the user's session, expiring at exp.
func (s *Service) issue(u *jot.User, sessionID string, exp time.Time) (string, error) {
	raw, _, err := s.issuer.Issue(token.Claims{
		RegisteredClaims: jwt.RegisteredClaims{Subject: u.ID, ExpiresAt: jwt.NewNumericDate(exp)},
		SessionID:        sessionID,
		Role:             string(u.Role),
		Email:            u.Email,
		EmailVerified:    u.EmailVerified,
	})
	if err != nil {
		return "", fmt.Errorf("issue access token: %w", err)
	}
	return raw, nil
}

func (s *Service) response(access string, refresh string, u *jot.User) *TokenResponse {
	// expires_in is the configured lifetime: the exp claim is that much
	// after iat, whatever fraction of a second passed while answering.
	return &TokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: int64(s.opts.AccessTTL / time.Second), RefreshToken: refresh, User: u}
}

// StartSession creates a session for u, who has just authenticated, and
// returns its token response.
//
// The session is pinned to u as authenticated: the store creates it only
// while the user still has u's role and password hash and is not disabled,
// in one transaction with that check. A change that committed since u was
// read (the password hash runs for a while) is thus never outrun by the
// new session. Then the user is read again: disabled, deleted or a
// different password hash answers ErrBadCredentials, as a wrong password
// does; anything else (a new role) gets tokens issued from the user as
// stored now, under a new pin, once.
func (s *Service) StartSession(ctx context.Context, u *jot.User, c Client) (*TokenResponse, error) {
	if err := s.checkVerified(u); err != nil {
		return nil, err
	}
	now := s.opts.Now()
	refresh, err := newRefreshToken()
	if err != nil {
		return nil, err
	}
	sess := &jot.Session{
		ID:         jot.NewID(),
		UserID:     u.ID,
		CreatedAt:  now,
		LastUsedAt: now,
		ExpiresAt:  now.Add(s.opts.RefreshTTL),
		UserAgent:  truncate(c.UserAgent, 256),
		IP:         c.IP,
	}
	if s.opts.SessionMaxAge > 0 && s.opts.SessionMaxAge < s.opts.RefreshTTL {
		sess.ExpiresAt = now.Add(s.opts.SessionMaxAge)
	}
	sess.AccessExp = s.accessExp(now)
	for attempt := 0; ; attempt++ {
		access, err := s.issue(u, sess.ID, sess.AccessExp)
		if err != nil {
			return nil, err
		}
		pin := &jot.UserPin{Role: u.Role, PasswordHash: u.PasswordHash}
		audit := &jot.Audit{
			Events: []*jot.AuditEvent{s.selfEvent(ctx, jot.AuditLogin, u.ID, sess.ID, nil)},
			Ended:  s.selfEvent(ctx, jot.AuditSessionEnded, u.ID, "", why(jot.WhyMaxSessions)),
		}
		ended, err := s.store.CreateSessionWithin(ctx, sess, hashToken(refresh), pin, s.opts.MaxSessions, audit)
		if err == nil {
			s.LogAudit(ctx, audit)
			if ended > 0 {
				// The sessions pushed out end like any other: their
				// access tokens are refused from the next request on.
				s.opts.Logger.InfoContext(ctx, "session limit reached: least recently used sessions ended", "user_id", u.ID, "ended", ended)
				s.afterEnd(ctx)
			}
			return s.response(access, refresh, u), nil
		}
		switch jot.ErrorCode(err) {
		case jot.ENOTFOUND:
			// Deleted meanwhile.
			return nil, ErrBadCredentials
		case jot.ECONFLICT:
		default:
			return nil, fmt.Errorf("create session: %w", err)
		}
		if attempt > 0 {
			s.opts.Logger.WarnContext(ctx, "login refused: the account kept changing", "user_id", u.ID)
			return nil, ErrBadCredentials
		}
		cur, err := s.store.UserByID(ctx, u.ID)
		if jot.ErrorCode(err) == jot.ENOTFOUND {
			return nil, ErrBadCredentials
		} else if err != nil {
			return nil, err
		}
		if cur.Disabled || cur.PasswordHash != u.PasswordHash {
			s.opts.Logger.InfoContext(ctx, "login refused: the account was disabled or its password changed during the login", "user_id", u.ID)
			return nil, ErrBadCredentials
		}
		u = cur
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ErrBadRefresh is the answer to any refresh token that cannot be used.
var ErrBadRefresh = jot.Errorf(jot.EINVALIDGRANT, "invalid or expired refresh token")

// Refresh rotates a refresh token: a new access token and a new refresh
// token for the same session. A used token ends the session, except within
// the grace window, where the answer carries the same successor again.
func (s *Service) Refresh(ctx context.Context, refresh string, c Client) (*TokenResponse, error) {
	if refresh == "" || len(refresh) > 512 {
		return nil, ErrBadRefresh
	}
	now := s.opts.Now()
	exp := s.accessExp(now)
	next := s.successor(refresh)
	req := jot.RotateRequest{
		Hash:          hashToken(refresh),
		SuccessorHash: hashToken(next),
		Now:           now,
		Grace:         s.opts.RefreshGrace,
		ExpiresAt:     now.Add(s.opts.RefreshTTL),
		MaxAge:        s.opts.SessionMaxAge,
		AccessExp:     exp,
		UserAgent:     truncate(c.UserAgent, 256),
		IP:            c.IP,
		// Event, user and session are the store's to fill in.
		Audit: s.Event(ctx, "", "", "", nil),
	}
	res, err := s.store.RotateRefresh(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("rotate refresh token: %w", err)
	}
	if res.Outcome != jot.RotateInvalid {
		s.logEvent(ctx, req.Audit)
	}
	switch res.Outcome {
	case jot.RotateOK, jot.RotateGrace:
	case jot.RotateReused:
		s.opts.Events(EventReuse)
		s.opts.Logger.WarnContext(ctx, "refresh token reuse: session ended", "session_id", res.Session.ID, "user_id", res.Session.UserID)
		s.afterEnd(ctx)
		return nil, ErrBadRefresh
	default:
		return nil, ErrBadRefresh
	}
	access, err := s.issue(res.User, res.Session.ID, exp)
	if err != nil {
		return nil, err
	}
	s.opts.Events(EventRefresh)
	return s.response(access, next, res.User), nil
}
