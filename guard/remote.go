package guard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jotauth/jot/token"
)

// RemoteOptions configure a Remote.
type RemoteOptions struct {
	// JWKSURL is the issuer's JWK Set, e.g.
	// https://auth.example.com/.well-known/jwks.json. Required.
	JWKSURL string
	// RevocationsURL is the issuer's feed of ended sessions
	// (GET /v1/auth/revocations). Optional: without it, a logout only takes
	// effect here when the session's access tokens expire.
	RevocationsURL string
	// Issuer and Audience are the `iss` and `aud` tokens must carry.
	// Required: an unset check must not pass by default.
	Issuer, Audience string
	// Algorithms are the accepted signature algorithms; default ES256.
	// HS256 is refused: its key is a shared secret no JWKS publishes, so
	// use a token.Verifier with the secret instead.
	Algorithms []string
	// Leeway is the clock skew allowed on exp, nbf and iat, also added to
	// the expiry of revocations: token.DefaultLeeway (30 s) when zero, none
	// when negative, as for token.Verifier.
	Leeway time.Duration
	// PollInterval is how often the revocation feed is read (and, before
	// the issuer first answered, how often it is tried); default 5 s.
	PollInterval time.Duration
	// MinRefetch is the shortest gap between the end of one JWKS fetch and
	// the start of another prompted by an unknown kid, so that tokens with
	// made-up kids cannot make every request a call to the issuer;
	// default 10 s.
	MinRefetch time.Duration
	// MaxWait bounds how long a request waits for a JWKS fetch under way
	// (one fetch serves every request waiting for it); past it, the
	// request is answered 503 unavailable. Default 2 s.
	MaxWait time.Duration
	// MaxStale, when positive, is how long the revocation feed may go
	// without answering before tokens are refused with 503 unavailable:
	// past it, a session ended at the issuer could be accepted here. Zero
	// keeps accepting tokens through any outage (logged), trusting the
	// signature and expiry alone. Used only with RevocationsURL.
	MaxStale time.Duration
	// StartWithoutIssuer makes NewRemote return at once even when the
	// issuer cannot be reached: it keeps trying in the background every
	// PollInterval, and until the JWKS and the whole feed have been read,
	// Ready is false and tokens are refused with 503 unavailable. Without
	// it, NewRemote fails when the issuer does not answer.
	StartWithoutIssuer bool
	// Client makes the requests; default a client with a 10 s timeout.
	Client *http.Client
	// Logger reports failed fetches; default slog.Default(). Tokens are
	// never logged.
	Logger *slog.Logger
	// RevocationsSecret is sent to the revocation feed as
	// "Authorization: Bearer <secret>", for an issuer that requires one
	// (JOT_REVOCATIONS_SECRET). Only the feed gets it; it is never logged.
	RevocationsSecret string
	// Now is the clock of token checks, MinRefetch and MaxStale; time.Now
	// when nil.
	Now func() time.Time
}

// ErrUnavailable matches the errors of a verifier that cannot answer for
// now (the issuer of the keys cannot be reached, or revocations are too
// stale to trust). Guard answers them 503 unavailable with Retry-After,
// and never hands the request to a later strategy.
var ErrUnavailable = errors.New("guard: unavailable")

type unavailableError struct{ msg string }

func (e *unavailableError) Error() string        { return "guard: unavailable: " + e.msg }
func (e *unavailableError) Is(target error) bool { return target == ErrUnavailable }

func unavailable(format string, args ...any) error {
	return &unavailableError{fmt.Sprintf(format, args...)}
}

// The Remote's fixed answers for an issuer it has not heard from.
var (
	errNotReady = unavailable("the issuer has not been reached yet")
	errStale    = unavailable("the revocation feed has not answered within MaxStale")
)

// errClosed is the cause a closed Remote's follower stops with.
var errClosed = errors.New("guard: remote closed")

// Remote verifies tokens issued by a jot server, for other services that
// trust them without sharing its database: it keeps the issuer's public
// keys from its JWKS and follows its revocation feed, so a logout is
// refused here within a poll interval. It is both the TokenVerifier and
// the RevocationChecker of the JWT strategy:
//
//	remote, err := guard.NewRemote(ctx, opts)
//	defer remote.Close()
//	strategy := guard.JWT(remote, guard.JWTOptions{Revocations: remote})
//
// What happens while the issuer is down is the caller's choice:
// StartWithoutIssuer, MaxStale and MaxWait; see Ready for health checks.
type Remote struct {
	ctx    context.Context // the follower's lifetime, ended by Close
	cancel context.CancelCauseFunc
	done   chan struct{} // closed when the follower has returned
	opts   RemoteOptions
	log    *slog.Logger
	client *http.Client
	now    func() time.Time

	keys      atomic.Pointer[map[string]*token.KeySet] // by algorithm
	verifiers map[string]*token.Verifier               // by algorithm; fixed after NewRemote
	ready     atomic.Bool

	jwks      jwksState
	jwksEvery atomic.Int64 // refresh period from the JWKS's max-age

	revoked *RevocationSet
	feedOK  atomic.Int64 // clock's Unix nanoseconds of the last feed answer
	// staleLogged is set by requests, so it is atomic.
	staleLogged atomic.Bool
	// Only the follower goroutine touches these after NewRemote.
	cursor      string
	feedFailing bool
	startFailed bool
	// etag is the ETag of the last feed answer, read with since=etagSince:
	// sent back when polling from the same cursor, so that a poll that
	// finds nothing new is a 304 without a body.
	etag, etagSince string
}

// The limits of what Remote reads from the issuer, against a
// misconfigured URL that serves something huge.
const (
	maxRemoteBody = 1 << 20
	// A page of the revocation feed lists at most 10,000 sessions, about
	// 60 bytes each as jot writes them; the feed as a whole has no bound,
	// since it is read a page at a time.
	maxFeedPage       = 8 << 20
	defaultJWKSEvery  = 5 * time.Minute
	maxJWKSEvery      = time.Hour
	defaultRemoteWait = 10 * time.Second
	defaultMaxWait    = 2 * time.Second
)

// NewRemote fetches the JWKS and the whole revocation feed, every page of
// it, so that the first request is checked as well as any later one
// (unless StartWithoutIssuer, which returns at once and fetches in the
// background). Then it follows both in a goroutine until Close: the feed
// every PollInterval, the JWKS as its Cache-Control max-age says (default
// 5 minutes) so that keys the issuer drops stop verifying here too.
//
// ctx bounds the start only: a deadline on it does not end the follower,
// since a service that stopped hearing of logouts would go on accepting
// them. Call Close to end it.
func NewRemote(ctx context.Context, opts RemoteOptions) (*Remote, error) {
	if opts.JWKSURL == "" {
		return nil, errors.New("guard: remote: JWKSURL is required")
	}
	if opts.Issuer == "" || opts.Audience == "" {
		return nil, errors.New("guard: remote: Issuer and Audience are required")
	}
	if len(opts.Algorithms) == 0 {
		opts.Algorithms = []string{token.AlgES256}
	}
	opts.Algorithms = slices.Clone(opts.Algorithms)
	for _, alg := range opts.Algorithms {
		switch {
		case alg == token.AlgHS256:
			return nil, errors.New("guard: remote: HS256 keys are secret and never in a JWKS; use a token.Verifier with the secret")
		case !token.ValidAlg(alg):
			return nil, fmt.Errorf("guard: remote: unsupported algorithm %q", alg)
		}
	}
	if opts.Leeway == 0 {
		opts.Leeway = token.DefaultLeeway
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 5 * time.Second
	}
	if opts.MinRefetch <= 0 {
		opts.MinRefetch = 10 * time.Second
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = defaultMaxWait
	}
	r := &Remote{
		opts:      opts,
		log:       opts.Logger,
		client:    opts.Client,
		now:       opts.Now,
		done:      make(chan struct{}),
		verifiers: make(map[string]*token.Verifier),
		revoked:   &RevocationSet{Leeway: max(opts.Leeway, 0)},
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	if r.client == nil {
		r.client = &http.Client{Timeout: defaultRemoteWait}
	}
	if r.now == nil {
		r.now = time.Now
	}
	r.keys.Store(&map[string]*token.KeySet{})
	for _, alg := range opts.Algorithms {
		r.verifiers[alg] = &token.Verifier{
			Keys:     remoteKeys{r, alg},
			Issuer:   opts.Issuer,
			Audience: opts.Audience,
			Leeway:   opts.Leeway,
			Now:      r.now,
		}
	}
	// The follower keeps ctx's values but not its deadline or cancel.
	r.ctx, r.cancel = context.WithCancelCause(context.WithoutCancel(ctx))

	if !opts.StartWithoutIssuer {
		if err := r.start(ctx); err != nil {
			r.cancel(err)
			close(r.done)
			return nil, err
		}
	}
	go r.follow()
	return r, nil
}

// start reads the JWKS and the whole feed, and makes the Remote ready.
func (r *Remote) start(ctx context.Context) error {
	if err := r.fetchJWKS(ctx); err != nil {
		return err
	}
	r.jwks.mu.Lock()
	r.jwks.fetchedAt = r.now()
	r.jwks.mu.Unlock()
	if r.opts.RevocationsURL != "" {
		if err := r.pollRevocations(ctx); err != nil {
			return err
		}
	}
	r.ready.Store(true)
	return nil
}

// Ready reports whether the Remote can verify tokens: the issuer's JWKS and
// its whole revocation feed have been read, and (with MaxStale) the feed
// has answered within MaxStale. While it is false every token is refused
// with 503 unavailable; a health check of the service can report it.
func (r *Remote) Ready() bool { return r.ready.Load() && !r.stale() }

// Close ends the follower and waits for it to return. Tokens are still
// verified with the keys and revocations known at that moment.
func (r *Remote) Close() {
	r.cancel(errClosed)
	<-r.done
}

func (r *Remote) stale() bool {
	if r.opts.MaxStale <= 0 || r.opts.RevocationsURL == "" {
		return false
	}
	return r.now().Sub(time.Unix(0, r.feedOK.Load())) > r.opts.MaxStale
}

// follow retries the start until the issuer answers, then polls the
// revocation feed and refreshes the JWKS, until Close. It says in the log
// when it stops, since from then on logouts are no longer seen.
func (r *Remote) follow() {
	defer close(r.done)
	defer func() {
		r.log.Info("guard: remote stopped following the issuer; sessions ended from now on are not seen here", "cause", context.Cause(r.ctx).Error())
	}()
	tick := time.NewTicker(r.opts.PollInterval)
	defer tick.Stop()
	if !r.ready.Load() {
		r.tryStart()
	}
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-tick.C:
		}
		if !r.ready.Load() {
			r.tryStart()
			continue
		}
		r.pollFeed()
		r.refreshJWKS()
	}
}

// tryStart is one attempt of the background start, logged when it first
// fails and when it succeeds.
func (r *Remote) tryStart() {
	err := r.start(r.ctx)
	switch {
	case err == nil:
		r.feedOK.Store(r.now().UnixNano())
		r.log.Info("guard: remote reached the issuer; verifying tokens")
	case r.ctx.Err() == nil && !r.startFailed:
		r.startFailed = true
		r.log.Warn("guard: remote cannot reach the issuer; refusing tokens with 503 until it answers", "err", err)
	}
}

type statusError struct{ status int }

func (e *statusError) Error() string { return "unexpected status " + strconv.Itoa(e.status) }

// get fetches a JSON document of at most limit bytes; edit, when not nil,
// adds headers to the request. Any status but 200 is a *statusError.
func (r *Remote) get(ctx context.Context, u string, limit int, edit func(*http.Request)) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if edit != nil {
		edit(req)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Drained so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxRemoteBody))
		return nil, nil, &statusError{resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		return nil, nil, err
	}
	if len(body) > limit {
		return nil, nil, fmt.Errorf("response from %s is over %d bytes", u, limit)
	}
	return body, resp.Header, nil
}
