// Package api is jot's HTTP layer: routing, request decoding, the one error
// shape, middleware, and the handlers of every endpoint of docs/api.md. It is
// the only package that maps application error codes to HTTP statuses.
package api

import (
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/accounts"
	"github.com/jotauth/jot/guard"
	"github.com/jotauth/jot/password"
	"github.com/jotauth/jot/token"
)

// Options are what a Server is made of.
type Options struct {
	Store    jot.Store
	Accounts *accounts.Service
	// Keys publishes the JWKS.
	Keys     token.KeySource
	Verifier guard.TokenVerifier
	Revoked  *guard.RevocationSet
	Metrics  *Metrics

	TokenSchemes   []string
	TokenQuery     string
	TokenCookie    string
	CORSOrigins    []string
	LoginRateN     int
	LoginRatePer   time.Duration
	TrustedProxies []netip.Prefix
	JWKSMaxAge     time.Duration
	Leeway         time.Duration
	Logger         *slog.Logger
	Now            func() time.Time
	// MaxResources is the most tasks, and the most recipes, a user may
	// own (0: no bound).
	MaxResources int
	// WriteRateN resource writes per WriteRatePer are allowed per user
	// (0: 120 a minute).
	WriteRateN   int
	WriteRatePer time.Duration

	// SignupRateN signups per SignupRatePer are allowed per client
	// network (JOT_SIGNUP_RATE); 0 is 30 an hour.
	SignupRateN   int
	SignupRatePer time.Duration

	// MailRateN mails per MailRatePer are allowed per address, four times
	// that per client network (default 5 an hour).
	MailRateN   int
	MailRatePer time.Duration
	// MetricsElsewhere leaves /metrics off the routes: it is served on a
	// listener of its own (JOT_METRICS_ADDR; see Server.MetricsHandler).
	MetricsElsewhere bool
	// RevocationsSecret, when set, is the bearer token the revocation feed
	// requires (JOT_REVOCATIONS_SECRET).
	RevocationsSecret []byte
	// Hashing is the password hashing pool, told which requests are not
	// hashing ones so that a flood of logins leaves them most of the CPU.
	Hashing *password.Pool
	// AuditRetention is how long audit events are kept
	// (JOT_AUDIT_RETENTION); 0 is 2160h.
	AuditRetention time.Duration
}

// Server is the HTTP API. It is an http.Handler.
type Server struct {
	opts    Options
	log     *slog.Logger
	mux     *routeMux
	handler http.Handler
	metrics *Metrics
	cors    *cors
	// csrf refuses state-changing cross-origin browser requests when
	// tokens may ride in cookies, which a browser sends on its own.
	csrf  *http.CrossOriginProtection
	guard *guard.Guard
	// Failed login attempts, per account and per client IP.
	loginByAccount, loginByIP *limiter
	// Signups refused for a registered email, per client network: they
	// reveal which emails have accounts, so guessing is slowed. Five times
	// the login rate: a person retrying a form is never stopped, a script
	// walking a list of emails is.
	signupConflicts *limiter
	// Resource writes (creates, updates, deletes), per user.
	writes *limiter
	// sessionCursors issues the cursors of the sessions list.
	sessionCursors *cursorCodec
	// Login attempts, taken before the password is checked and given back
	// on success: per client network, per account and client network, and
	// per account across all networks (a looser ceiling). Shared by every
	// instance over PostgreSQL.
	loginNet, loginAccountNet, loginAccount budget
	// Signups per client network, every outcome counted.
	signups budget

	// mail limits the endpoints that send mail.
	mail *mailLimits
	// feed keeps the pages the revocation feed served last.
	feed feedCache
	// tokens remembers verified access tokens.
	tokens *guard.TokenCache
	// auditCursors issues the cursors of the audit trail.
	auditCursors *cursorCodec
	// rateLimitedSeen thins out the rate_limited audit events.
	rateLimitedSeen *limiter
}

// New returns a Server with every route of docs/api.md registered.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil)
	}
	if opts.LoginRateN <= 0 {
		opts.LoginRateN, opts.LoginRatePer = 10, time.Minute
	}
	if opts.SignupRateN <= 0 {
		opts.SignupRateN, opts.SignupRatePer = 30, time.Hour
	}
	if opts.Leeway == 0 {
		opts.Leeway = 30 * time.Second
	}
	if opts.WriteRateN <= 0 {
		opts.WriteRateN, opts.WriteRatePer = 120, time.Minute
	}
	if opts.AuditRetention <= 0 {
		opts.AuditRetention = 2160 * time.Hour
	}
	s := &Server{
		opts:            opts,
		log:             opts.Logger,
		mux:             &routeMux{ServeMux: http.NewServeMux()},
		metrics:         opts.Metrics,
		cors:            newCORS(opts.CORSOrigins, opts.TokenCookie != ""),
		loginByAccount:  newLimiter(opts.LoginRateN, opts.LoginRatePer, opts.Now),
		loginByIP:       newLimiter(opts.LoginRateN, opts.LoginRatePer, opts.Now),
		signupConflicts: newLimiter(5*opts.LoginRateN, opts.LoginRatePer, opts.Now),
		writes:          newLimiter(opts.WriteRateN, opts.WriteRatePer, opts.Now),
		sessionCursors:  newCursorCodec(opts.Store),
		auditCursors:    newCursorCodec(opts.Store),
		rateLimitedSeen: newLimiter(1, rateLimitedEvery, opts.Now),
	}
	if st, ok := opts.Store.(bucketStore); ok {
		s.loginNet = newSharedBudget(st, "login-net", opts.LoginRateN, opts.LoginRatePer, opts.Now)
	} else {
		s.loginNet = memBudget{s.loginByIP}
	}
	s.loginAccountNet = s.newBudget("login-account-net", opts.LoginRateN, opts.LoginRatePer)
	s.loginAccount = s.newBudget("login-account", accountCeilingFactor*opts.LoginRateN, opts.LoginRatePer)
	s.signups = s.newBudget("signup-net", opts.SignupRateN, opts.SignupRatePer)
	if opts.TokenCookie != "" {
		s.csrf = http.NewCrossOriginProtection()
		for _, o := range opts.CORSOrigins {
			if o != "*" {
				// The configured origins are validated at start.
				_ = s.csrf.AddTrustedOrigin(o)
			}
		}
		s.csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.writeError(w, r, errCrossOrigin)
		}))
	}
	// Verified tokens are remembered, so a client's repeated requests pay
	// for one signature check; every hit is still checked against the
	// ended sessions and the keyring's trusted keys.
	s.tokens = guard.NewTokenCache(guard.TokenCacheOptions{Now: opts.Now})
	s.metrics.watchTokenCache(s.tokens)
	s.guard = &guard.Guard{
		Strategies: []guard.Strategy{guard.JWT(opts.Verifier, guard.JWTOptions{
			// docs/api.md §2's lookup order, as guard defines it.
			Extractor:   guard.Standard(opts.TokenSchemes, opts.TokenQuery, opts.TokenCookie),
			Revocations: opts.Revoked,
			Cache:       s.tokens,
		})},
		Realm: realm,
		OnRefuse: func(r *http.Request, status int, reason token.Reason) {
			// Only token refusals carry a reason; 403s and the like do not.
			if reason != "" {
				s.metrics.tokenRefused(reason)
			}
		},
	}
	s.routes()
	s.handler = s.middleware(http.HandlerFunc(s.dispatch))
	return s
}

// AuditRetention is how long audit events are kept (Options.AuditRetention,
// with its default).
func (s *Server) AuditRetention() time.Duration { return s.opts.AuditRetention }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// dispatch routes a request, answering unknown routes and wrong methods in
// the API's error shape rather than ServeMux's plain text.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	noteRoute(r, pattern)
	if pattern != "" {
		// ServeMux itself sets r.Pattern and the path values.
		s.mux.ServeHTTP(w, r)
		return
	}
	// ServeMux answers itself: find out whether it is 404 or 405, and
	// which methods it would allow, without letting it write the body.
	probe := &probeWriter{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if probe.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", probe.header.Get("Allow"))
		s.writeError(w, r, jot.Errorf(codeMethodNotAllowed, "method %s not allowed", r.Method))
		return
	}
	s.writeError(w, r, jot.Errorf(jot.ENOTFOUND, "no such route"))
}

// probeWriter captures what ServeMux's own 404/405 handler would answer.
type probeWriter struct {
	header http.Header
	status int
}

func (p *probeWriter) Header() http.Header         { return p.header }
func (p *probeWriter) Write(b []byte) (int, error) { return len(b), nil }
func (p *probeWriter) WriteHeader(code int)        { p.status = code }

// protect wraps h with the bearer guard. While the ended sessions could
// not be re-read (the database was out of reach), a token whose session
// ended meanwhile would pass the guard: the route answers 503 instead,
// at the cost of one atomic load when all is well.
func (s *Server) protect(h http.HandlerFunc) http.Handler {
	g := s.guard.Require(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.opts.Accounts != nil && !s.opts.Accounts.RevocationsCurrent() {
			s.writeError(w, r, &retryError{err: errRevocationsStale, after: dbRetryAfter})
			return
		}
		g.ServeHTTP(w, r)
	})
}

// errRevocationsStale answers protected routes until the ended sessions
// have been re-read since the database came back.
var errRevocationsStale = jot.Errorf(jot.EUNAVAILABLE, "ended sessions not yet re-read since the database came back, retry shortly")

// handle registers a handler whose errors are written in the error shape.
func (s *Server) handle(pattern string, h func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
}

// routes registers every endpoint. Patterns carry the method, so ServeMux
// answers a wrong method with 405 and the Allow header.
func (s *Server) routes() {
	m := s.mux
	// Auth.
	m.Handle("POST /v1/auth/signup", s.handle("signup", s.signup))
	m.Handle("POST /v1/auth/login", s.handle("login", s.login))
	m.Handle("POST /v1/auth/token", s.handle("token", s.tokenEndpoint))
	m.Handle("POST /v1/auth/logout", s.protect(s.handle("logout", s.logout)))
	m.Handle("GET /v1/auth/sessions", s.protect(s.handle("sessions", s.sessions)))
	m.Handle("DELETE /v1/auth/sessions/{id}", s.protect(s.handle("endSession", s.endSession)))
	m.Handle("GET /v1/auth/revocations", s.handle("revocations", s.revocations))
	m.Handle("GET /.well-known/jwks.json", http.HandlerFunc(s.jwks))
	// The caller's own account.
	m.Handle("GET /v1/users/me", s.protect(s.handle("me", s.me)))
	m.Handle("PATCH /v1/users/me", s.protect(s.handle("updateMe", s.updateMe)))
	m.Handle("POST /v1/users/me/password", s.protect(s.handle("changePassword", s.changePassword)))
	// /v1/users/me also matches the admin routes' /v1/users/{id}, so
	// without these a DELETE would reach the admin delete (403/404) and a
	// PUT would be told the admin route's methods. Not routes: kept off the
	// recorded patterns.
	for _, method := range []string{"DELETE", "PUT", "POST"} {
		m.ServeMux.Handle(method+" /v1/users/me", http.HandlerFunc(s.meMethodNotAllowed))
	}
	// Operations.
	m.Handle("GET /healthz", http.HandlerFunc(s.healthz))
	m.Handle("GET /readyz", http.HandlerFunc(s.readyz))
	if !s.opts.MetricsElsewhere {
		m.Handle("GET /metrics", s.metrics.handler())
	}
	m.Handle("GET /openapi.json", http.HandlerFunc(serveOpenAPI))
	s.resourceRoutes()
	s.emailRoutes()
	s.auditRoutes()
}

// meMethodNotAllowed answers a method /v1/users/me does not have.
func (s *Server) meMethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "GET, PATCH")
	s.writeError(w, r, jot.Errorf(codeMethodNotAllowed, "method %s not allowed", r.Method))
}

// MetricsHandler serves the Prometheus metrics, for a listener of their
// own when Options.MetricsElsewhere is set.
func (s *Server) MetricsHandler() http.Handler {
	return s.metrics.handler()
}
