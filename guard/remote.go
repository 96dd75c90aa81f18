package guard

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	// PollInterval is how often the revocation feed is read; default 5 s.
	PollInterval time.Duration
	// MinRefetch is the shortest gap between JWKS fetches prompted by an
	// unknown kid, so that tokens with made-up kids cannot make every
	// request a call to the issuer; default 10 s.
	MinRefetch time.Duration
	// Client makes the requests; default a client with a 10 s timeout.
	Client *http.Client
	// Logger reports failed fetches; default slog.Default(). Tokens are
	// never logged.
	Logger *slog.Logger
	// RevocationsSecret is sent to the revocation feed as
	// "Authorization: Bearer <secret>", for an issuer that requires one
	// (JOT_REVOCATIONS_SECRET). Only the feed gets it; it is never logged.
	RevocationsSecret string
}

// Remote verifies tokens issued by a jot server, for other services that
// trust them without sharing its database: it keeps the issuer's public
// keys from its JWKS and follows its revocation feed, so a logout is
// refused here within a poll interval. It is both the TokenVerifier and
// the RevocationChecker of the JWT strategy:
//
//	remote, err := guard.NewRemote(ctx, opts)
//	strategy := guard.JWT(remote, guard.JWTOptions{Revocations: remote})
type Remote struct {
	ctx    context.Context
	opts   RemoteOptions
	log    *slog.Logger
	client *http.Client

	keys      atomic.Pointer[map[string]*token.KeySet] // by algorithm
	verifiers map[string]*token.Verifier               // by algorithm; fixed after NewRemote

	fetchMu   sync.Mutex   // one JWKS fetch at a time
	lastFetch atomic.Int64 // Unix nanoseconds of the last JWKS fetch attempt
	jwksEvery atomic.Int64 // refresh period from the JWKS's max-age

	revoked *RevocationSet
	// Only the follower goroutine touches these after NewRemote.
	cursor      string
	feedFailing bool
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
)

// NewRemote fetches the JWKS (an error if it cannot) and the whole
// revocation feed, every page of it, so that the first request is checked
// as well as any later one, then follows both in a goroutine until ctx ends: the feed every
// PollInterval, the JWKS as its Cache-Control max-age says (default 5
// minutes) so that keys the issuer drops stop verifying here too.
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
	r := &Remote{
		ctx:       ctx,
		opts:      opts,
		log:       opts.Logger,
		client:    opts.Client,
		verifiers: make(map[string]*token.Verifier),
		revoked:   &RevocationSet{Leeway: max(opts.Leeway, 0)},
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	if r.client == nil {
		r.client = &http.Client{Timeout: defaultRemoteWait}
	}
	for _, alg := range opts.Algorithms {
		r.verifiers[alg] = &token.Verifier{
			Keys:     remoteKeys{r, alg},
			Issuer:   opts.Issuer,
			Audience: opts.Audience,
			Leeway:   opts.Leeway,
		}
	}

	r.fetchMu.Lock()
	n, err := r.fetchJWKS(ctx)
	r.fetchMu.Unlock()
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("guard: remote: the JWKS at %s has no keys for %s", opts.JWKSURL, strings.Join(opts.Algorithms, ", "))
	}
	if opts.RevocationsURL != "" {
		if err := r.pollRevocations(ctx); err != nil {
			return nil, err
		}
	}
	go r.follow(ctx)
	return r, nil
}

// remoteKeys is the KeySource of one algorithm: the latest JWKS, so a
// refetch reaches verifiers without rebuilding them.
type remoteKeys struct {
	r   *Remote
	alg string
}

func (k remoteKeys) KeySet() *token.KeySet { return (*k.r.keys.Load())[k.alg] }

// Verify checks raw against the issuer's keys. A token whose kid is not
// known yet (the issuer rotated) prompts one JWKS refetch, at most every
// MinRefetch, and is checked again.
func (r *Remote) Verify(raw string) (*token.Claims, error) {
	v := r.verifiers[r.opts.Algorithms[0]]
	var alg, kid string
	peeked := false
	// With one algorithm the fast path needs no look at the header: the
	// verifier pins the algorithm itself.
	if len(r.verifiers) > 1 && len(raw) <= token.MaxTokenSize {
		alg, kid, peeked = peekHeader(raw)
		if va := r.verifiers[alg]; va != nil {
			v = va
		}
	}
	c, err := v.Verify(raw)
	// Only an invalid token can be one signed by a key not fetched yet.
	if err == nil || token.ReasonOf(err) != token.ReasonInvalid {
		return c, err
	}
	if !peeked {
		alg, kid, peeked = peekHeader(raw)
	}
	if !peeked || kid == "" || r.verifiers[alg] == nil || r.lookup(alg, kid) {
		return c, err
	}
	if !r.refetchFor(alg, kid) {
		return c, err
	}
	return r.verifiers[alg].Verify(raw)
}

// Revoked reports whether the issuer's feed has listed sessionID as ended.
func (r *Remote) Revoked(sessionID string) bool { return r.revoked.Revoked(sessionID) }

func (r *Remote) lookup(alg, kid string) bool {
	ks := (*r.keys.Load())[alg]
	return ks != nil && ks.Lookup(kid) != nil
}

// refetchFor fetches the JWKS for an unknown kid unless one was fetched
// less than MinRefetch ago, and reports whether the kid is known now.
func (r *Remote) refetchFor(alg, kid string) bool {
	if r.fetchedRecently() && r.fetchMu.TryLock() {
		// Too soon for a fetch, and none under way that could bring the
		// kid: a flood of made-up kids ends here without queueing.
		r.fetchMu.Unlock()
		return r.lookup(alg, kid)
	}
	// A fetch is due, or one is under way (the rotation that this kid
	// belongs to, likely): wait for it rather than refuse a genuine token.
	r.fetchMu.Lock()
	defer r.fetchMu.Unlock()
	if r.lookup(alg, kid) {
		return true
	}
	if r.fetchedRecently() {
		return false
	}
	if _, err := r.fetchJWKS(r.ctx); err != nil {
		r.log.Warn("guard: JWKS refetch for an unknown kid failed", "url", r.opts.JWKSURL, "err", err)
		return false
	}
	return r.lookup(alg, kid)
}

func (r *Remote) fetchedRecently() bool {
	return time.Since(time.Unix(0, r.lastFetch.Load())) < r.opts.MinRefetch
}

// fetchJWKS replaces the keys with the issuer's current JWKS and returns
// how many keys of the accepted algorithms it holds. The caller holds
// fetchMu. A failed fetch keeps the keys there are: an issuer that is
// briefly down must not take every service that trusts it down too.
func (r *Remote) fetchJWKS(ctx context.Context) (int, error) {
	r.lastFetch.Store(time.Now().UnixNano())
	body, header, err := r.get(ctx, r.opts.JWKSURL, maxRemoteBody, nil)
	if err != nil {
		return 0, fmt.Errorf("guard: remote: fetch JWKS: %w", err)
	}
	keys, err := token.ParseJWKS(body)
	if err != nil {
		return 0, fmt.Errorf("guard: remote: %s: %w", r.opts.JWKSURL, err)
	}
	sets := make(map[string]*token.KeySet, len(r.opts.Algorithms))
	n := 0
	for _, alg := range r.opts.Algorithms {
		// Keys from a JWKS have no private half, so NewKeySet treats them
		// as verification-only and the TTL does not matter.
		sets[alg] = token.NewKeySet(alg, keys, time.Now(), 0, 0)
		n += len(sets[alg].Keys())
	}
	r.keys.Store(&sets)
	r.jwksEvery.Store(int64(refreshPeriod(header.Get("Cache-Control"), r.opts.MinRefetch)))
	return n, nil
}

// refreshPeriod is the JWKS's max-age, kept between MinRefetch and an hour.
func refreshPeriod(cacheControl string, floor time.Duration) time.Duration {
	d := defaultJWKSEvery
	for directive := range strings.SplitSeq(cacheControl, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(directive), "=")
		if strings.EqualFold(name, "max-age") {
			if s, err := strconv.Atoi(strings.Trim(value, `"`)); err == nil && s >= 0 {
				d = time.Duration(s) * time.Second
			}
		}
	}
	return min(max(d, floor), maxJWKSEvery)
}

// revocationFeed is the body of GET /v1/auth/revocations.
// Its sessions are read by decodeFeed as they come, never kept as a slice.
type revocationFeed struct {
	Cursor string `json:"cursor"`
	// More says another page follows at once.
	More bool `json:"more"`
}

// pollRevocations reads the feed since the last cursor, page after page
// until the issuer says no more follow. What the pages read before a
// failure brought stays, and the next poll goes on from there.
func (r *Remote) pollRevocations(ctx context.Context) error {
	defer r.revoked.Prune(time.Now())
	for {
		more, err := r.pollPage(ctx)
		if err != nil || !more {
			return err
		}
	}
}

// pollPage reads one page of the feed from the cursor and reports whether
// another follows.
func (r *Remote) pollPage(ctx context.Context) (bool, error) {
	u, err := url.Parse(r.opts.RevocationsURL)
	if err != nil {
		return false, fmt.Errorf("guard: remote: RevocationsURL: %w", err)
	}
	if r.cursor != "" {
		q := u.Query()
		q.Set("since", r.cursor)
		u.RawQuery = q.Encode()
	}
	// Go's transport asks for gzip and decompresses on its own; the
	// page's limit applies to what it decompresses.
	body, header, err := r.get(ctx, u.String(), maxFeedPage, func(req *http.Request) {
		if r.opts.RevocationsSecret != "" {
			req.Header.Set("Authorization", "Bearer "+r.opts.RevocationsSecret)
		}
		if r.etag != "" && r.etagSince == r.cursor {
			req.Header.Set("If-None-Match", r.etag)
		}
	})
	if err != nil {
		var se *statusError
		switch {
		case errors.As(err, &se) && se.status == http.StatusNotModified:
			// Nothing new since the last answer from this cursor.
			return false, nil
		case errors.As(err, &se) && se.status == http.StatusBadRequest && r.cursor != "":
			// The issuer no longer knows the cursor (a restart, a new
			// database): read the whole feed again on the next poll
			// rather than stay stuck.
			r.cursor, r.etag = "", ""
		case errors.As(err, &se) && se.status == http.StatusUnauthorized:
			return false, fmt.Errorf("guard: remote: poll revocations: the issuer refused its credentials (RevocationsSecret must be its JOT_REVOCATIONS_SECRET): %w", err)
		}
		return false, fmt.Errorf("guard: remote: poll revocations: %w", err)
	}
	var feed revocationFeed
	n := 0
	feed.Cursor, feed.More, n, err = decodeFeed(body, r.revoked.AddBytes)
	if err != nil {
		return false, fmt.Errorf("guard: remote: revocations: %w", err)
	}
	if feed.More && (feed.Cursor == r.cursor || n == 0) {
		// A page that says more but moves nowhere would be read forever.
		return false, errors.New("guard: remote: revocations: a page says more follow but does not advance the cursor")
	}
	r.etag, r.etagSince = header.Get("ETag"), r.cursor
	r.cursor = feed.Cursor
	return feed.More, nil
}

// follow polls the revocation feed and refreshes the JWKS until ctx ends.
func (r *Remote) follow(ctx context.Context) {
	tick := time.NewTicker(r.opts.PollInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			if r.opts.RevocationsURL != "" {
				err := r.pollRevocations(ctx)
				// Logged when the feed fails and when it recovers, not at
				// every poll of an outage.
				switch {
				case err != nil && !r.feedFailing && ctx.Err() == nil:
					r.feedFailing = true
					r.log.Warn("guard: revocation feed unavailable; sessions ended meanwhile are accepted until it answers", "err", err)
				case err == nil && r.feedFailing:
					r.feedFailing = false
					r.log.Info("guard: revocation feed answers again")
				}
			} else {
				r.revoked.Prune(now)
			}
			if now.Sub(time.Unix(0, r.lastFetch.Load())) >= time.Duration(r.jwksEvery.Load()) {
				r.fetchMu.Lock()
				_, err := r.fetchJWKS(ctx)
				r.fetchMu.Unlock()
				if err != nil && ctx.Err() == nil {
					r.log.Warn("guard: JWKS refresh failed; keeping the keys there are", "err", err)
				}
			}
		}
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

// peekHeader reads alg and kid from a token's header without verifying
// anything: only to pick a verifier and to decide on a refetch.
func peekHeader(raw string) (alg, kid string, ok bool) {
	h, _, found := strings.Cut(raw, ".")
	if !found {
		return "", "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return "", "", false
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if json.Unmarshal(b, &hdr) != nil {
		return "", "", false
	}
	return hdr.Alg, hdr.Kid, true
}
