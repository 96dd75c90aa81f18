package api

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/jotauth/jot"
)

// The account pages that links in mails open. A GET only shows a form;
// the token is used when the form is POSTed, so a mail scanner that
// fetches the link consumes nothing. No external assets and no script:
// one inline style, allowed by its hash in a strict CSP.

const pageStyle = `body{margin:0;padding:16px;background:#f4f4f5;font:16px/1.5 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#18181b}
main{max-width:420px;margin:8vh auto;background:#fff;border-radius:10px;padding:24px;box-shadow:0 1px 3px rgba(0,0,0,.1)}
h1{font-size:22px;margin:0 0 16px}
label{display:block;font-weight:600;margin:16px 0 4px}
input[type=password]{box-sizing:border-box;width:100%;font-size:16px;padding:10px;border:1px solid #a1a1aa;border-radius:6px}
input[aria-invalid=true]{border-color:#dc2626}
.err{color:#b91c1c;font-size:14px;margin:4px 0 0}
.note{padding:12px;border-radius:6px;background:#fef2f2;color:#991b1b}
.ok{padding:12px;border-radius:6px;background:#f0fdf4;color:#166534}
button{margin-top:20px;width:100%;font-size:16px;padding:12px;border:0;border-radius:6px;background:#2563eb;color:#fff}`

var pageCSP = func() string {
	sum := sha256.Sum256([]byte(pageStyle))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
		"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
}()

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}</title>
<style>{{.Style}}</style></head>
<body><main>
<h1>{{.Title}}</h1>
{{if .Problem}}<p class="note" id="problem">{{.Problem}}</p>{{end}}
{{if .Done}}<p class="ok" id="done">{{.Done}}</p>{{end}}
{{if .Form}}<form method="post" action="{{.Action}}">
<input type="hidden" name="token" value="{{.Token}}">
{{if .Password}}<label for="password">New password</label>
<input type="password" id="password" name="password" autocomplete="new-password" required{{if .FieldError}} aria-invalid="true" aria-describedby="password-error"{{end}}>
{{if .FieldError}}<p class="err" id="password-error">{{.FieldError}}</p>{{end}}
{{else}}<p>Confirm that this address is yours.</p>{{end}}
<button type="submit" id="submit">{{.Button}}</button>
</form>{{end}}
</main></body></html>
`))

type pageData struct {
	Title, Action, Token, Button string
	Style                        template.CSS
	Form, Password               bool
	Problem, Done, FieldError    string
}

const (
	resetPath  = "/account/reset-password"
	verifyPath = "/account/verify-email"
)

func (s *Server) pageRoutes() {
	m := s.mux
	m.Handle("GET "+resetPath, s.linkPage(resetForm))
	m.Handle("POST "+resetPath, http.HandlerFunc(s.resetPageSubmit))
	m.Handle("GET "+verifyPath, s.linkPage(verifyForm))
	m.Handle("POST "+verifyPath, http.HandlerFunc(s.verifyPageSubmit))
}

func (s *Server) writePage(w http.ResponseWriter, status int, d pageData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	d.Style = template.CSS(pageStyle)
	w.WriteHeader(status)
	if err := pageTemplate.Execute(w, d); err != nil {
		s.log.Error("page render failed", "err", err)
	}
}

const (
	linkIncomplete = "This link is incomplete. Copy the whole link from the mail, or ask for a new one."
	linkUsed       = "This link has expired or has already been used. Ask for a new one."
)

func resetForm(token string) pageData {
	return pageData{Title: "Choose a new password", Action: resetPath, Token: token, Button: "Set password", Form: true, Password: true}
}

func verifyForm(token string) pageData {
	return pageData{Title: "Confirm your email address", Action: verifyPath, Token: token, Button: "Confirm my address", Form: true}
}

// linkPage answers the GET of a mailed link: its form, or why the link
// cannot be used.
func (s *Server) linkPage(form func(token string) pageData) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token := r.URL.Query().Get("token")
		if token == "" {
			s.writePage(w, http.StatusBadRequest, pageData{Title: form("").Title, Problem: linkIncomplete})
			return
		}
		s.writePage(w, http.StatusOK, form(token))
	}
}

// pageProblem is what a page says, and answers, for an error other than a
// field's.
func pageProblem(err error) (int, string) {
	switch jot.ErrorCode(err) {
	case jot.EINVALIDGRANT:
		return http.StatusBadRequest, linkUsed
	case jot.ERATELIMITED:
		return http.StatusTooManyRequests, "Too many attempts. Wait a few minutes, then try again."
	case jot.ECONFLICT:
		return http.StatusConflict, "That email address belongs to another account now, so it cannot be yours here."
	case jot.EINVALID:
		return http.StatusBadRequest, linkIncomplete
	case jot.EUNAVAILABLE:
		return http.StatusServiceUnavailable, "The service is busy. Try again in a minute."
	default:
		return http.StatusInternalServerError, "Something went wrong on our side. Try again later."
	}
}

func (s *Server) resetPageSubmit(w http.ResponseWriter, r *http.Request) {
	p, err := params(r, []string{"token", "password"}, false)
	if err == nil && (p["token"] == "" || p["password"] == "") {
		if p["token"] != "" {
			d := resetForm(p["token"])
			d.FieldError = "Enter a new password."
			s.writePage(w, http.StatusUnprocessableEntity, d)
			return
		}
		err = jot.Errorf(jot.EINVALID, "missing token")
	}
	if err == nil {
		err = s.resetWith(r, p["token"], p["password"])
	}
	var je *jot.Error
	switch {
	case err == nil:
		s.writePage(w, http.StatusOK, pageData{Title: "Password changed", Done: "Your new password is set, and you were signed out everywhere. Sign in with the new password."})
	case jot.ErrorCode(err) == jot.EVALIDATION && asError(err, &je):
		d := resetForm(p["token"])
		d.FieldError = capitalize(je.Fields["password"])
		s.writePage(w, http.StatusUnprocessableEntity, d)
	default:
		s.pageError(w, r, "Choose a new password", err)
	}
}

func (s *Server) verifyPageSubmit(w http.ResponseWriter, r *http.Request) {
	p, err := params(r, []string{"token"}, false)
	if err == nil && p["token"] == "" {
		err = jot.Errorf(jot.EINVALID, "missing token")
	}
	var u *jot.User
	if err == nil {
		u, err = s.verifyWith(r, p["token"])
	}
	if err != nil {
		s.pageError(w, r, "Confirm your email address", err)
		return
	}
	noteUser(r, u.ID)
	s.writePage(w, http.StatusOK, pageData{Title: "Email address confirmed", Done: "Thank you: " + u.Email + " is confirmed."})
}

func (s *Server) pageError(w http.ResponseWriter, r *http.Request, title string, err error) {
	status, msg := pageProblem(err)
	if status >= 500 {
		s.log.ErrorContext(r.Context(), "account page failed", "path", r.URL.Path, "err", err)
	}
	var re *retryError
	if errors.As(err, &re) {
		w.Header().Set("Retry-After", strconv.Itoa(re.after))
	}
	s.writePage(w, status, pageData{Title: title, Problem: msg})
}

func asError(err error, target **jot.Error) bool {
	return errors.As(err, target) && len((*target).Fields) > 0
}

func capitalize(s string) string {
	if s == "" {
		return "This password cannot be used."
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}
