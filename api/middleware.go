package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/accounts"
	"github.com/jotauth/jot/guard"
	"github.com/jotauth/jot/password"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	logInfoKey
)

// requestID returns the request id stored in ctx.
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// saneRequestID reports whether a client-sent request id may be reused:
// short, and only characters that cannot forge log lines or headers.
func saneRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.:+=/", c) >= 0) {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// logInfo carries what the access log learns during the request.
type logInfo struct {
	userID string
	// foreground ends this request's count as foreground work of the
	// hashing pool, and toHashing ends it when the request turns out to
	// hash a password; both nil without a pool.
	foreground, toHashing func()
}

// The classes of hashing requests, named here so handlers whose
// parameters are called password need no import.
const (
	classLogin  = password.Login
	classSignup = password.Signup
	classChange = password.Change
)

// hashes marks r as a request that hashes a password: it stops counting
// as foreground work for the hashing pool (whose share of the CPU it would
// otherwise shrink), and its hashing queues as class c.
func hashes(r *http.Request, c password.Class) *http.Request {
	if info, ok := r.Context().Value(logInfoKey).(*logInfo); ok && info.toHashing != nil {
		info.toHashing()
	}
	return r.WithContext(password.WithClass(r.Context(), c))
}

// statusWriter records the status and size of an answer.
type statusWriter struct {
	http.ResponseWriter
	status int
	size   int
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

// outer is the middleware every request passes, outermost first: request
// id, common headers, access log and metrics, panic recovery, body limit.
func (s *Server) outer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !saneRequestID(id) {
			id = newRequestID()
		}
		info := &logInfo{}
		origin := s.origin(r, id)
		if s.opts.Hashing != nil {
			// Until the handler says it hashes (see hashes), a request
			// counts as one the hashing pool must leave CPU to.
			info.foreground, info.toHashing = s.opts.Hashing.Request()
			defer info.foreground()
		}
		ctx := context.WithValue(r.Context(), requestIDKey, id)
		ctx = context.WithValue(ctx, logInfoKey, info)
		ctx = accounts.WithOrigin(ctx, origin)
		r = r.WithContext(ctx)

		h := w.Header()
		h.Set("X-Request-Id", id)
		h.Set("X-Content-Type-Options", "nosniff")
		if p := r.URL.Path; strings.HasPrefix(p, "/v1/auth/") || p == "/v1/users" || strings.HasPrefix(p, "/v1/users/") {
			h.Set("Cache-Control", "no-store")
			h.Set("Pragma", "no-cache")
		}
		sw := &statusWriter{ResponseWriter: w}
		var base http.Header
		defer func() {
			v := recover()
			if v == http.ErrAbortHandler {
				panic(v)
			}
			abort := false
			if v != nil {
				s.log.ErrorContext(ctx, "panic", "request_id", id, "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if sw.status == 0 {
					// Drop what the handler set before it panicked (a cookie,
					// a Location) so the 500 carries only the common headers.
					if base != nil {
						clear(h)
						for k, vs := range base {
							h[k] = vs
						}
					}
					guard.WriteRefusal(sw, guard.Refusal{Error: jot.EINTERNAL, Description: "internal error", Status: http.StatusInternalServerError})
				} else {
					// Part of the answer is out: only a broken connection
					// tells the client it is not the whole of it.
					abort = true
				}
			}
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			d := time.Since(start)
			s.metrics.observe(r, sw.status, d)
			// Room for user_id too, so an authenticated request does not
			// grow the slice.
			attrs := make([]slog.Attr, 0, 9)
			attrs = append(attrs,
				slog.String("request_id", id),
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", sw.status),
				slog.Duration("duration", d),
				slog.Int("bytes", sw.size),
				// The client as the trusted proxies name it.
				slog.String("ip", origin.IP),
				slog.String("user_agent", origin.UserAgent),
			)
			if info.userID != "" {
				attrs = append(attrs, slog.String("user_id", info.userID))
			}
			s.log.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
			if abort {
				panic(http.ErrAbortHandler)
			}
		}()
		if s.cors != nil && s.cors.handle(sw, r) {
			return
		}
		if s.csrf != nil {
			if err := s.csrf.Check(r); err != nil {
				s.writeError(sw, r, jot.Errorf(jot.EFORBIDDEN, "cross-origin request refused"))
				return
			}
		}
		base = h.Clone()
		r.Body = http.MaxBytesReader(sw, r.Body, maxBody)
		next.ServeHTTP(sw, r)
	})
}

// noteUser tells the access log who the caller is.
func noteUser(r *http.Request, userID string) {
	if info, ok := r.Context().Value(logInfoKey).(*logInfo); ok {
		info.userID = userID
	}
}

// principal returns the authenticated caller; routes that need one are
// always wrapped by the guard, so a missing principal is a wiring bug.
func principal(r *http.Request) *guard.Principal {
	p, ok := guard.FromContext(r.Context())
	if !ok {
		panic("api: protected handler without a principal")
	}
	noteUser(r, p.UserID)
	noteActor(r, p.UserID)
	return p
}

// RequestIDHandler wraps h so that every record logged with the context of
// a request carries that request's id: a line logged deep in a service can
// then be joined to the access log line of the request that caused it.
// Records that name a request_id themselves keep theirs.
func RequestIDHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(requestIDHandler); ok {
		return h
	}
	return requestIDHandler{h}
}

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := requestID(ctx); id != "" {
		has := false
		r.Attrs(func(a slog.Attr) bool {
			has = a.Key == "request_id"
			return !has
		})
		if !has {
			r = r.Clone()
			r.AddAttrs(slog.String("request_id", id))
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
