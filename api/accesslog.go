package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/jotauth/jot/accounts"
	"github.com/jotauth/jot/password"
)

// logInfo carries what the access log learns during the request.
type logInfo struct {
	userID string
	// route is the pattern the request matched, "" for none.
	route string
	// foreground ends this request's count as foreground work of the
	// hashing pool, and toHashing ends it when the request turns out to
	// hash a password; both nil without a pool.
	foreground, toHashing func()
}

// requestNotes gives the request what handlers and the access log read,
// in one copy of the request: its id (the client's X-Request-Id when sane,
// a fresh one otherwise; see requestID), which also goes back in the
// X-Request-Id header; the client as the trusted proxies name it
// (accounts.Origin, for audit events); and the note the access log reads
// (logInfo).
func (s *Server) requestNotes(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := newID(r)
		w.Header().Set("X-Request-Id", id)
		ctx := context.WithValue(r.Context(), requestIDKey, id)
		ctx = context.WithValue(ctx, logInfoKey, &logInfo{})
		ctx = accounts.WithOrigin(ctx, s.origin(r, id))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func info(r *http.Request) *logInfo {
	i, _ := r.Context().Value(logInfoKey).(*logInfo)
	return i
}

// noteUser tells the access log who the caller is.
func noteUser(r *http.Request, userID string) {
	if i := info(r); i != nil {
		i.userID = userID
	}
}

// noteRoute tells the access log which route the request matched.
func noteRoute(r *http.Request, pattern string) {
	if i := info(r); i != nil {
		i.route = pattern
	}
}

// accessLog writes one log line per answered request, and its metrics.
// A request whose handler aborted it (http.ErrAbortHandler) is neither
// logged nor counted; one whose panic recoverPanics turned into a cut
// connection is.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		done := false
		defer func() {
			if !done && !sw.aborted {
				return
			}
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			d := time.Since(start)
			li, origin := info(r), accounts.OriginFrom(r.Context())
			s.metrics.observe(li.route, r.Method, sw.status, d)
			// Room for user_id too, so an authenticated request does not
			// grow the slice.
			attrs := make([]slog.Attr, 0, 9)
			attrs = append(attrs,
				slog.String("request_id", requestID(r.Context())),
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", sw.status),
				slog.Duration("duration", d),
				slog.Int("bytes", sw.size),
				// The client as the trusted proxies name it.
				slog.String("ip", origin.IP),
				slog.String("user_agent", origin.UserAgent),
			)
			if li.userID != "" {
				attrs = append(attrs, slog.String("user_id", li.userID))
			}
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
		}()
		next.ServeHTTP(sw, r)
		done = true
	})
}

// statusWriter records the status and size of an answer.
type statusWriter struct {
	http.ResponseWriter
	status int
	size   int
	// aborted is set when a panic cut the answer short.
	aborted bool
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.size += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// The classes of hashing requests, named here so handlers whose
// parameters are called password need no import.
const (
	classLogin  = password.Login
	classSignup = password.Signup
	classChange = password.Change
)

// hashingShare counts every request as foreground work of the hashing
// pool until the handler says it hashes (see hashes): while such requests
// are in flight, hashing leaves them part of the CPU.
func (s *Server) hashingShare(next http.Handler) http.Handler {
	if s.opts.Hashing == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		li := info(r)
		li.foreground, li.toHashing = s.opts.Hashing.Request()
		defer li.foreground()
		next.ServeHTTP(w, r)
	})
}

// hashes marks r as a request that hashes a password: it stops counting
// as foreground work for the hashing pool (whose share of the CPU it would
// otherwise shrink), and its hashing queues as class c.
func hashes(r *http.Request, c password.Class) *http.Request {
	if li := info(r); li != nil && li.toHashing != nil {
		li.toHashing()
	}
	return r.WithContext(password.WithClass(r.Context(), c))
}
