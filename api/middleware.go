package api

import (
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/guard"
)

// middleware puts h behind the chain every request passes, outermost
// first. The order matters: the access log sees the answer whatever the
// inner ones do, the CORS headers are on every answer (a 500 included), and
// what the handler set before a panic is dropped from the 500.
func (s *Server) middleware(h http.Handler) http.Handler {
	chain := []func(http.Handler) http.Handler{
		s.requestNotes,     // X-Request-Id, client origin, the access log's note
		s.hashingShare,     // the hashing pool leaves CPU to other requests
		commonHeaders,      // nosniff; no-store on auth and account answers
		s.accessLog,        // one line and the metrics of every request
		s.corsHandler,      // CORS headers; preflights answered here
		s.crossOrigin,      // cross-origin browser writes refused
		s.recoverPanics,    // a panic becomes a 500, or a cut connection
		limitBody(maxBody), // the body limit of docs/api.md §1
	}
	for i := len(chain) - 1; i >= 0; i-- {
		h = chain[i](h)
	}
	return h
}

// commonHeaders sets the headers of every answer: nosniff, and no-store on
// the answers that carry tokens or account details.
func commonHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		if p := r.URL.Path; strings.HasPrefix(p, "/v1/auth/") || p == "/v1/users" || strings.HasPrefix(p, "/v1/users/") {
			h.Set("Cache-Control", "no-store")
			h.Set("Pragma", "no-cache")
		}
		next.ServeHTTP(w, r)
	})
}

// corsHandler answers cross-origin requests for the configured origins
// (JOT_CORS_ORIGINS); without any it is not in the chain.
func (s *Server) corsHandler(next http.Handler) http.Handler {
	if s.cors == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cors.handle(w, r) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// crossOrigin refuses state-changing cross-origin browser requests when
// tokens may ride in cookies, which a browser sends on its own
// (http.CrossOriginProtection); without a token cookie it is not in the
// chain.
func (s *Server) crossOrigin(next http.Handler) http.Handler {
	if s.csrf == nil {
		return next
	}
	return s.csrf.Handler(next)
}

// errCrossOrigin answers what crossOrigin refuses.
var errCrossOrigin = jot.Errorf(jot.EFORBIDDEN, "cross-origin request refused")

// recoverPanics turns a handler's panic into a logged 500 with nothing of
// the panic in it, or, once part of the answer is out, into a broken
// connection: only that tells the client the answer is not whole.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw, ok := w.(*statusWriter)
		if !ok {
			sw = &statusWriter{ResponseWriter: w}
		}
		h := w.Header()
		base := h.Clone()
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "panic", "request_id", requestID(r.Context()), "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if sw.status != 0 {
				sw.aborted = true
				panic(http.ErrAbortHandler)
			}
			// Drop what the handler set before it panicked (a cookie, a
			// Location) so the 500 carries only the common headers.
			clear(h)
			for k, vs := range base {
				h[k] = vs
			}
			guard.WriteRefusal(sw, guard.Refusal{Error: jot.EINTERNAL, Description: "internal error", Status: http.StatusInternalServerError})
		}()
		next.ServeHTTP(sw, r)
	})
}

// limitBody refuses to read more than n bytes of a request body: past
// them, the body's Read fails (http.MaxBytesHandler). A request without a
// body, as most protected reads are, goes on as it is: MaxBytesHandler
// copies the request.
func limitBody(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		limited := http.MaxBytesHandler(next, n)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body == nil || r.Body == http.NoBody {
				next.ServeHTTP(w, r)
				return
			}
			limited.ServeHTTP(w, r)
		})
	}
}
