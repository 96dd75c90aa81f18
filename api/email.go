package api

import (
	"bytes"
	"errors"
	"net/http"
	"time"

	"github.com/jotauth/jot"
)

// mailLimits bound the endpoints that send mail, so jot cannot be used to
// flood an inbox: every request counts, per address and per client
// network. Resets count failed attempts per client network.
type mailLimits struct {
	byAddress, byNetwork, resetByNetwork *limiter
}

// Defaults of the mail rate: per address, and four times that per client
// network (a household or an office shares one).
const (
	defaultMailRateN   = 5
	defaultMailRatePer = time.Hour
)

func (s *Server) newMailLimits() *mailLimits {
	n, per := s.opts.MailRateN, s.opts.MailRatePer
	if n <= 0 || per <= 0 {
		n, per = defaultMailRateN, defaultMailRatePer
	}
	return &mailLimits{
		byAddress:      newLimiter(n, per, s.opts.Now),
		byNetwork:      newLimiter(4*n, per, s.opts.Now),
		resetByNetwork: newLimiter(s.opts.LoginRateN, s.opts.LoginRatePer, s.opts.Now),
	}
}

// emailRoutes registers the endpoints and pages of email verification,
// password reset and email change.
func (s *Server) emailRoutes() {
	s.mail = s.newMailLimits()
	m := s.mux
	m.Handle("POST /v1/auth/password/forgot", s.handle("forgotPassword", s.forgotPassword))
	m.Handle("POST /v1/auth/password/reset", s.handle("resetPassword", s.resetPassword))
	m.Handle("POST /v1/auth/email/verify", s.handle("verifyEmail", s.verifyEmail))
	m.Handle("POST /v1/users/me/email/verification", s.protect(s.handle("resendVerification", s.resendVerification)))
	m.Handle("POST /v1/users/me/email", s.protect(s.handle("changeEmail", s.changeEmail)))
	m.Handle("POST /v1/users/{id}/password-reset", s.protect(s.handle("adminPasswordReset", s.adminPasswordReset)))
	s.pageRoutes()
}

// takeMail takes one mail from the budgets of the address and of the
// caller's network.
func (s *Server) takeMail(r *http.Request, address string) error {
	if ok, after := s.mail.byNetwork.take(networkKey(s.clientIP(r))); !ok {
		return tooMany(after)
	}
	if ok, after := s.mail.byAddress.take(accountKey("mail:", address)); !ok {
		return tooMany(after)
	}
	return nil
}

func (s *Server) forgotPassword(w http.ResponseWriter, r *http.Request) error {
	p, err := params(r, []string{"email"}, true)
	if err != nil {
		return err
	}
	email, ok := p["email"]
	if !ok {
		return jot.Errorf(jot.EINVALID, "missing field \"email\"")
	}
	// Every email, registered or not, counts alike: the limit reveals
	// nothing either.
	if err := s.takeMail(r, email); err != nil {
		return err
	}
	if err := s.opts.Accounts.ForgotPassword(r.Context(), email); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, struct{}{})
	return nil
}

func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) error {
	p, err := params(r, []string{"token", "password"}, true)
	if err != nil {
		return err
	}
	token, ok1 := p["token"]
	pw, ok2 := p["password"]
	if !ok1 {
		return jot.Errorf(jot.EINVALID, "missing field \"token\"")
	}
	if !ok2 {
		return jot.Errorf(jot.EINVALID, "missing field \"password\"")
	}
	if err := s.resetWith(r, token, pw); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// resetWith sets a password with a reset token under the per-network
// limit on failed attempts; the API and the page share it.
func (s *Server) resetWith(r *http.Request, token, pw string) error {
	network := networkKey(s.clientIP(r))
	if ok, after := s.mail.resetByNetwork.take(network); !ok {
		return tooMany(after)
	}
	err := s.opts.Accounts.ResetPassword(r.Context(), token, pw)
	if jot.ErrorCode(err) != jot.EINVALIDGRANT {
		s.mail.resetByNetwork.refund(network)
	}
	return err
}

func (s *Server) verifyEmail(w http.ResponseWriter, r *http.Request) error {
	p, err := params(r, []string{"token"}, true)
	if err != nil {
		return err
	}
	token, ok := p["token"]
	if !ok {
		return jot.Errorf(jot.EINVALID, "missing field \"token\"")
	}
	u, err := s.verifyWith(r, token)
	if err != nil {
		return err
	}
	noteUser(r, u.ID)
	writeJSON(w, http.StatusOK, u)
	return nil
}

// verifyWith uses a verification or email-change token under the same
// per-network limit on failures as resets.
func (s *Server) verifyWith(r *http.Request, token string) (*jot.User, error) {
	network := networkKey(s.clientIP(r))
	if ok, after := s.mail.resetByNetwork.take(network); !ok {
		return nil, tooMany(after)
	}
	u, err := s.opts.Accounts.VerifyEmail(r.Context(), token)
	if jot.ErrorCode(err) != jot.EINVALIDGRANT {
		s.mail.resetByNetwork.refund(network)
	}
	return u, err
}

// noBody refuses a body on an endpoint that takes none.
func noBody(r *http.Request) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	if b := bytes.TrimSpace(b); len(b) > 0 && string(b) != "{}" {
		return jot.Errorf(jot.EINVALID, "this endpoint takes no request body")
	}
	return nil
}

func (s *Server) resendVerification(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if err := noBody(r); err != nil {
		return err
	}
	if err := s.takeMail(r, "user:"+p.UserID); err != nil {
		return err
	}
	if err := s.opts.Accounts.ResendVerification(r.Context(), caller(p)); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, struct{}{})
	return nil
}

type changeEmailRequest struct {
	Email   *string `json:"email"`
	Current *string `json:"current_password"`
}

func (s *Server) changeEmail(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var req changeEmailRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Email == nil {
		return jot.Errorf(jot.EINVALID, "missing field \"email\"")
	}
	if req.Current == nil {
		return jot.Errorf(jot.EINVALID, "missing field \"current_password\"")
	}
	// Counted per user, so a stolen access token guesses the password no
	// faster than it sends mail, and per new address.
	if err := s.takeMail(r, "user:"+p.UserID); err != nil {
		return err
	}
	if ok, after := s.mail.byAddress.take(accountKey("mail:", *req.Email)); !ok {
		return tooMany(after)
	}
	err := s.opts.Accounts.ChangeEmail(r.Context(), caller(p), *req.Email, *req.Current)
	var je *jot.Error
	if errors.As(err, &je) && je.Code == jot.EINVALIDCREDENTIALS {
		// 403, not 401: the caller's token is fine and must not be dropped.
		return &statusError{err: je, status: http.StatusForbidden}
	} else if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, struct{}{})
	return nil
}

func (s *Server) adminPasswordReset(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	if ok, after := s.mail.byAddress.take(accountKey("mail:", "user:"+id)); !ok {
		return tooMany(after)
	}
	if err := noBody(r); err != nil {
		return err
	}
	if err := s.opts.Accounts.AdminPasswordReset(r.Context(), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, struct{}{})
	return nil
}
