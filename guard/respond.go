package guard

import (
	"net/http"
	"strings"

	"github.com/jotauth/jot/internal/httpio"
	"github.com/jotauth/jot/token"
)

// DefaultRealm is the realm of WWW-Authenticate when none is set.
const DefaultRealm = "jot"

// Refusal is jot's error shape, compatible with RFC 6749 §5.2 and RFC 6750
// §3: the answer a Guard gives instead of the handler, what a Guard.Render
// is given to write in the app's own shape, and, written by WriteRefusal,
// every error answer of the jot server.
type Refusal struct {
	// Status is the HTTP status: 400, 401, 403, 413, 500 or 503 from a
	// Guard.
	Status int `json:"status"`
	// Error is the code: invalid_token, invalid_credentials,
	// insufficient_scope, invalid_request, payload_too_large, unavailable
	// or server_error from a Guard.
	Error string `json:"error"`
	// Description is fixed text, safe to show; never a parser's message.
	Description string `json:"error_description"`
	// Reason says why a token was refused (invalid_token only).
	Reason token.Reason `json:"reason,omitempty"`
	// Fields says what is wrong with each field of a request body, for a
	// 422 validation_failed of the jot server; a Guard never sets it.
	Fields map[string]string `json:"fields,omitempty"`
}

// reasonText is what a client is told for each reason: fixed text, so that
// neither the token nor a parser's message ever reaches a response.
var reasonText = map[token.Reason]string{
	token.ReasonMissing:   "no access token was sent",
	token.ReasonMalformed: "the access token is malformed",
	token.ReasonExpired:   "the access token has expired",
	token.ReasonRevoked:   "the access token's session has ended",
	token.ReasonInvalid:   "the access token is invalid",
}

// WriteUnauthorized answers 401 invalid_token with reason. The
// WWW-Authenticate challenge names the error except when the token is
// missing (RFC 6750 §3.1: a request without credentials gets a bare
// challenge). An empty description gets the standard text of the reason; a
// reason outside token's list is written as token.ReasonInvalid.
func WriteUnauthorized(w http.ResponseWriter, realm string, reason token.Reason, description string) {
	WriteRefusal(w, unauthorized(w.Header(), realm, reason, description))
}

// unauthorized sets the challenge of a 401 invalid_token and returns its body.
func unauthorized(h http.Header, realm string, reason token.Reason, description string) Refusal {
	if _, ok := reasonText[reason]; !ok {
		reason = token.ReasonInvalid
	}
	if description == "" {
		description = reasonText[reason]
	}
	if reason == token.ReasonMissing {
		h.Set("WWW-Authenticate", Challenge(realm, ""))
	} else {
		h.Set("WWW-Authenticate", Challenge(realm, "invalid_token"))
	}
	return Refusal{Error: "invalid_token", Description: description, Status: http.StatusUnauthorized, Reason: reason}
}

// WriteForbidden answers 403 insufficient_scope: the caller is known, but
// may not do this. An empty description gets a standard text.
func WriteForbidden(w http.ResponseWriter, realm string, description string) {
	WriteRefusal(w, forbidden(w.Header(), realm, description))
}

func forbidden(h http.Header, realm string, description string) Refusal {
	if description == "" {
		description = "not allowed for this caller"
	}
	h.Set("WWW-Authenticate", Challenge(realm, "insufficient_scope"))
	return Refusal{Error: "insufficient_scope", Description: description, Status: http.StatusForbidden}
}

// WriteInvalidCredentials answers 401 invalid_credentials, for a wrong login.
// The challenge carries no error attribute: no token was at fault.
func WriteInvalidCredentials(w http.ResponseWriter, realm string) {
	WriteRefusal(w, invalidCredentials(w.Header(), realm))
}

func invalidCredentials(h http.Header, realm string) Refusal {
	h.Set("WWW-Authenticate", Challenge(realm, ""))
	return Refusal{Error: "invalid_credentials", Description: "invalid email or password", Status: http.StatusUnauthorized}
}

// Challenge returns the WWW-Authenticate value of a Bearer challenge (RFC
// 6750 §3) for realm (DefaultRealm when empty), naming errCode when it is
// not empty: invalid_token, insufficient_scope.
func Challenge(realm, errCode string) string {
	if realm == "" {
		realm = DefaultRealm
	}
	var b strings.Builder
	b.WriteString(`Bearer realm="`)
	// realm is a quoted-string (RFC 9110 §5.6.4): quote and backslash
	// need escaping, or a configured realm could break the header.
	for _, c := range []byte(realm) {
		if c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
	if errCode != "" {
		b.WriteString(`, error="`)
		b.WriteString(errCode)
		b.WriteByte('"')
	}
	return b.String()
}

// WriteRefusal writes f as the answer in jot's error shape (docs/api.md
// §1), its description held to what ErrorDescription allows. Headers the
// answer needs (WWW-Authenticate, Retry-After) are set before it is called.
func WriteRefusal(w http.ResponseWriter, f Refusal) {
	// Fields in the order of jot's error shape.
	body := struct {
		Error       string            `json:"error"`
		Description string            `json:"error_description"`
		Status      int               `json:"status"`
		Fields      map[string]string `json:"fields,omitempty"`
		Reason      token.Reason      `json:"reason,omitempty"`
	}{f.Error, ErrorDescription(f.Description), f.Status, f.Fields, f.Reason}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	httpio.WriteJSON(w, f.Status, body)
}

// ErrorDescription holds an error_description to the characters RFC 6749
// §5.2 allows (%x20-21 / %x23-5B / %x5D-7E), so that a description cannot
// break a client's parser, whatever a message quotes: a double quote
// becomes a single one, a backslash a slash, anything else outside
// printable ASCII (a control, a non-ASCII letter of a field name the
// client sent) a question mark. The guard's refusals and the jot server's
// error answers all go through it.
func ErrorDescription(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case r == '\\':
			return '/'
		case r < 0x20 || r > 0x7e:
			return '?'
		}
		return r
	}, s)
}
