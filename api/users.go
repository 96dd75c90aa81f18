package api

import (
	"errors"
	"net/http"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/guard"
	"github.com/jotauth/jot/token"
)

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	u, err := s.opts.Accounts.User(r.Context(), p.UserID)
	if jot.ErrorCode(err) == jot.ENOTFOUND {
		// A verified token whose user is gone: the session went with it.
		guard.WriteUnauthorized(w, realm, token.ReasonRevoked, "the access token's user no longer exists")
		return nil
	} else if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

type updateMeRequest struct {
	Name *string `json:"name"`
}

func (s *Server) updateMe(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var req updateMeRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Name == nil {
		return jot.Errorf(jot.EINVALID, "missing field \"name\"")
	}
	u, err := s.opts.Accounts.Rename(r.Context(), caller(p), *req.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

type changePasswordRequest struct {
	Current *string `json:"current_password"`
	New     *string `json:"new_password"`
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var req changePasswordRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Current == nil {
		return jot.Errorf(jot.EINVALID, "missing field \"current_password\"")
	}
	if req.New == nil {
		return jot.Errorf(jot.EINVALID, "missing field \"new_password\"")
	}
	// A stolen access token must not become an oracle for the password:
	// wrong current passwords count against the account like failed logins.
	key := accountKey("password-change:", p.UserID)
	if ok, after := s.loginByAccount.take(key); !ok {
		return tooMany(after)
	}
	r = hashes(r, classChange)
	err := s.opts.Accounts.ChangePassword(r.Context(), caller(p), *req.Current, *req.New)
	var je *jot.Error
	if !errors.As(err, &je) || je.Code != jot.EINVALIDCREDENTIALS {
		s.loginByAccount.refund(key)
	}
	if je != nil && je.Code == jot.EINVALIDCREDENTIALS {
		// 403, not 401: the caller's token is fine and must not be dropped.
		return &statusError{err: je, status: http.StatusForbidden}
	} else if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
