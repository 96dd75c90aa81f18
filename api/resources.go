package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/guard"
	"github.com/jotauth/jot/policy"
)

// resources serves the example resources and the admin endpoints. It is
// the Server plus what only these endpoints need.
type resources struct {
	*Server
	cursors *cursorCodec
}

// resourceRoutes registers the example resources and the admin endpoints.
func (s *Server) resourceRoutes() {
	rs := &resources{Server: s, cursors: newCursorCodec(s.opts.Store)}
	m := s.mux
	// Tasks: private to their owner (and admins).
	m.Handle("GET /v1/tasks", s.protect(s.handle("listTasks", rs.listTasks)))
	m.Handle("POST /v1/tasks", s.protect(s.handle("createTask", rs.createTask)))
	m.Handle("GET /v1/tasks/{id}", s.protect(s.handle("getTask", rs.getTask)))
	m.Handle("PATCH /v1/tasks/{id}", s.protect(s.handle("patchTask", rs.patchTask)))
	m.Handle("DELETE /v1/tasks/{id}", s.protect(s.handle("deleteTask", rs.deleteTask)))
	// Recipes: public to read, so the reads are not behind the guard at
	// all; a stale token sent along must not turn a public read into 401.
	m.Handle("GET /v1/recipes", s.handle("listRecipes", rs.listRecipes))
	m.Handle("GET /v1/recipes/{id}", s.handle("getRecipe", rs.getRecipe))
	m.Handle("POST /v1/recipes", s.protect(s.handle("createRecipe", rs.createRecipe)))
	m.Handle("PUT /v1/recipes/{id}", s.protect(s.handle("putRecipe", rs.putRecipe)))
	m.Handle("PATCH /v1/recipes/{id}", s.protect(s.handle("patchRecipe", rs.patchRecipe)))
	m.Handle("DELETE /v1/recipes/{id}", s.protect(s.handle("deleteRecipe", rs.deleteRecipe)))
	// Users, for admins. "GET /v1/users/me" and the other /me routes are
	// more specific patterns, so ServeMux keeps them apart from {id}.
	m.Handle("GET /v1/users", s.protect(s.handle("listUsers", rs.listUsers)))
	m.Handle("GET /v1/users/{id}", s.protect(s.handle("getUser", rs.getUser)))
	m.Handle("PATCH /v1/users/{id}", s.protect(s.handle("patchUser", rs.patchUser)))
	m.Handle("DELETE /v1/users/{id}", s.protect(s.handle("deleteUser", rs.deleteUser)))
}

// subject returns the authenticated caller as the policy sees it. The
// role is the token's: every role change ends the user's sessions, so a
// live token's role is the stored one.
func subject(r *http.Request) policy.Subject {
	p := principal(r)
	return subjectOf(p)
}

func subjectOf(p *guard.Principal) policy.Subject {
	return policy.Subject{UserID: p.UserID, Role: jot.Role(p.Role)}
}

// forbidden is the 403 insufficient_scope answer; writeError adds its
// WWW-Authenticate challenge.
func forbidden(format string, args ...any) error {
	return jot.Errorf(jot.EFORBIDDEN, format, args...)
}

// field is a JSON field of a request body that remembers whether it was
// sent and whether it was null, which a pointer cannot tell apart: PATCH
// leaves absent fields alone, and a null is an invalid value, not a
// missing field.
type field[T any] struct {
	Set  bool
	Null bool
	V    T
}

// UnmarshalJSON implements json.Unmarshaler; it is only called for fields
// present in the body.
func (f *field[T]) UnmarshalJSON(b []byte) error {
	f.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		f.Null = true
		return nil
	}
	return json.Unmarshal(b, &f.V)
}

// missingField is the answer to a required field that was not sent: 400
// invalid_request, as docs/api.md has it for a missing field.
func missingField(name string) error {
	return jot.Errorf(jot.EINVALID, "missing field %q", name)
}

// Limits of resource fields, in characters.
const (
	maxTitle        = 200
	maxIngredient   = 200
	maxIngredients  = 100
	maxInstructions = 10000
)

// checkLine validates a one-line text: trimmed, 1 to max characters, no
// control characters. It returns the trimmed text and what is wrong, if
// anything.
func checkLine(s string, max int) (string, string) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return s, "must not be empty"
	case utf8.RuneCountInString(s) > max:
		return s, fmt.Sprintf("must be at most %d characters", max)
	case hasControl(s, false):
		return s, "must not contain control characters"
	}
	return s, ""
}

// hasControl reports whether s holds a control character; with multiline,
// line breaks and tabs are allowed.
func hasControl(s string, multiline bool) bool {
	for _, r := range s {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return true
		}
	}
	return false
}
