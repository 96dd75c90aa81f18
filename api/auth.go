package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/accounts"
)

func (s *Server) client(r *http.Request) accounts.Client {
	return accounts.Client{UserAgent: r.UserAgent(), IP: s.clientIP(r)}
}

type signupRequest struct {
	Email    *string `json:"email"`
	Password *string `json:"password"`
	Name     *string `json:"name"`
}

func (s *Server) signup(w http.ResponseWriter, r *http.Request) error {
	var req signupRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Email == nil {
		return jot.Errorf(jot.EINVALID, "missing field \"email\"")
	}
	if req.Password == nil {
		return jot.Errorf(jot.EINVALID, "missing field \"password\"")
	}
	name := ""
	if req.Name != nil {
		name = *req.Name
	}
	network := networkKey(s.clientIP(r))
	// Every signup counts, whatever its outcome: each costs a hash, and a
	// flood of them would create accounts without end.
	if ok, after, err := s.signups.take(r.Context(), network); err != nil {
		return err
	} else if !ok {
		return tooMany(after)
	}
	if ok, after := s.signupConflicts.take(network); !ok {
		return tooMany(after)
	}
	r = hashes(r, classSignup)
	resp, err := s.opts.Accounts.Signup(r.Context(), *req.Email, *req.Password, name, s.client(r))
	if jot.ErrorCode(err) != jot.ECONFLICT {
		// Only an answer that reveals a registered email counts.
		s.signupConflicts.refund(network)
	}
	if err != nil {
		return err
	}
	noteUser(r, resp.User.ID)
	if resp.AccessToken == "" {
		// JOT_EMAIL_VERIFICATION=required: no tokens until the email is
		// verified.
		writeJSON(w, http.StatusCreated, map[string]any{"user": resp.User})
		return nil
	}
	writeJSON(w, http.StatusCreated, resp)
	return nil
}

// tooMany is the answer to a client over its attempt budget.
func tooMany(after int) error {
	if after < 1 {
		after = 1
	}
	return &retryError{err: jot.Errorf(jot.ERATELIMITED, "too many attempts, retry in %d seconds", after), after: after}
}

// checkPassword authenticates an email and password under the login rate
// limits. An attempt takes its token from each budget before the password
// is checked, so a burst of concurrent guesses cannot all run before the
// first failure counts; a success, or a failure that says nothing about the
// password, gives them back. The budgets: the client network; the account
// from that network, so failures elsewhere never lock the owner out; and
// the account from every network, a looser ceiling on spread guessing.
func (s *Server) checkPassword(r *http.Request, email, password string) (*jot.User, error) {
	r = hashes(r, classLogin)
	network := networkKey(s.clientIP(r))
	account := accountKey("login:", email)
	draws := []draw{
		{s.loginNet, network},
		{s.loginAccountNet, account + "|" + network},
		{s.loginAccount, account},
	}
	if err := takeAll(r.Context(), draws); err != nil {
		return nil, err
	}
	u, err := s.opts.Accounts.Authenticate(r.Context(), email, password)
	if jot.ErrorCode(err) != jot.EINVALIDCREDENTIALS {
		// Success, or a failure that says nothing about the password.
		refundAll(r.Context(), draws)
	}
	if err != nil {
		return nil, err
	}
	noteUser(r, u.ID)
	return u, nil
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	p, err := params(r, []string{"email", "username", "password"}, true)
	if err != nil {
		return err
	}
	email, hasEmail := p["email"]
	username, hasUsername := p["username"]
	switch {
	case hasEmail && hasUsername:
		return jot.Errorf(jot.EINVALID, "send either \"email\" or \"username\", not both")
	case hasUsername:
		email = username
	case !hasEmail:
		return jot.Errorf(jot.EINVALID, "missing field \"email\"")
	}
	pw, ok := p["password"]
	if !ok {
		return jot.Errorf(jot.EINVALID, "missing field \"password\"")
	}
	u, err := s.checkPassword(r, email, pw)
	if err != nil {
		return err
	}
	resp, err := s.opts.Accounts.StartSession(r.Context(), u, s.client(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// tokenEndpoint is the OAuth2 token endpoint (RFC 6749 §3.2): unknown
// parameters are ignored, errors are 400 with an RFC 6749 §5.2 code.
func (s *Server) tokenEndpoint(w http.ResponseWriter, r *http.Request) error {
	p, err := params(r, []string{"grant_type", "username", "password", "refresh_token"}, false)
	if err != nil {
		return err
	}
	var resp *accounts.TokenResponse
	switch gt := p["grant_type"]; gt {
	case "":
		return jot.Errorf(jot.EINVALID, "missing parameter \"grant_type\"")
	case "password":
		username, ok1 := p["username"]
		pw, ok2 := p["password"]
		if !ok1 || !ok2 {
			return jot.Errorf(jot.EINVALID, "the password grant needs \"username\" and \"password\"")
		}
		u, err := s.checkPassword(r, username, pw)
		if err == nil {
			resp, err = s.opts.Accounts.StartSession(r.Context(), u, s.client(r))
		}
		if jot.ErrorCode(err) == jot.EINVALIDCREDENTIALS {
			// RFC 6749 §5.2: the token endpoint speaks invalid_grant.
			return jot.Errorf(jot.EINVALIDGRANT, "invalid email or password")
		} else if err != nil {
			return err
		}
	case "refresh_token":
		rt, ok := p["refresh_token"]
		if !ok || rt == "" {
			return jot.Errorf(jot.EINVALID, "missing parameter \"refresh_token\"")
		}
		if resp, err = s.opts.Accounts.Refresh(r.Context(), rt, s.client(r)); err != nil {
			return err
		}
		noteUser(r, resp.User.ID)
	default:
		return jot.Errorf(jot.EUNSUPPORTEDGRANT, "grant_type %q is not supported", truncateRunes(gt, 64))
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

type logoutRequest struct {
	Scope *string `json:"scope"`
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var req logoutRequest
	// The body is optional: no body means the default scope.
	if err := decodeOptionalJSON(r, &req); err != nil {
		return err
	}
	all := false
	if req.Scope != nil {
		switch *req.Scope {
		case "session":
		case "all":
			all = true
		default:
			return jot.Errorf(jot.EINVALID, "scope must be \"session\" or \"all\"")
		}
	}
	if err := s.opts.Accounts.Logout(r.Context(), caller(p), all); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type sessionJSON struct {
	ID         string `json:"id"`
	CreatedAt  string `json:"created_at"`
	LastUsedAt string `json:"last_used_at"`
	UserAgent  string `json:"user_agent"`
	IP         string `json:"ip"`
	Current    bool   `json:"current"`
}

// sessionsPageSize is the default page of the sessions list: the largest
// a page may be, so that most users see all their sessions at once.
const sessionsPageSize = 100

func (s *Server) sessions(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	// A cursor names the user it was issued to: it continues no one
	// else's list.
	listName := "sessions:" + p.UserID
	page, limit, err := s.sessionCursors.pageRequestOf(r, listName, sessionsPageSize)
	if err != nil {
		return err
	}
	list, err := s.opts.Accounts.SessionsPage(r.Context(), caller(p), page)
	if err != nil {
		return err
	}
	list, next, err := nextCursor(r.Context(), s.sessionCursors, listName, list, limit, func(x *jot.Session) string { return x.ID })
	if err != nil {
		return err
	}
	out := make([]sessionJSON, 0, len(list))
	for _, x := range list {
		out = append(out, sessionJSON{
			ID: x.ID, CreatedAt: jot.FormatTime(x.CreatedAt), LastUsedAt: jot.FormatTime(x.LastUsedAt),
			UserAgent: x.UserAgent, IP: x.IP, Current: x.ID == p.SessionID,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out, "next_cursor": next})
	return nil
}

func (s *Server) endSession(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if err := s.opts.Accounts.EndSession(r.Context(), caller(p), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	body := s.opts.Keys.KeySet().JWKS()
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(s.opts.JWKSMaxAge/time.Second)))
	_, _ = w.Write(body)
}
