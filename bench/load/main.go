// Command load is a small load generator for a running jot server on this
// machine. It runs one scenario with a fixed number of workers until either
// the request budget (-n) or the time budget (-d) is spent, then prints the
// request count, errors, throughput and latency percentiles.
//
// It only ever talks to a loopback address: it refuses any other host in
// -url, and checks every connection it opens as well, since a name can
// resolve anywhere.
//
//	go run ./bench/load -scenario protected -n 20000 -c 16
//
// Scenarios:
//
//	protected  sign up one user, then GET /v1/users/me with its token
//	refused    the same with a tampered signature: 401 every time
//	login      POST /v1/auth/login for one user (bcrypt bound: keep -n and -c small)
//	refresh    each worker logs in once, then rotates its session's refresh
//	           token in a chain, each request presenting the last answer's token
//
// See bench/README.md for how to run it and the numbers it gave.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// defaultN is each scenario's request budget when -n is not given: login
// is held to a few dozen since every one costs a bcrypt verification.
var defaultN = map[string]int{"protected": 20000, "refused": 20000, "login": 40, "refresh": 5000}

// defaultC is each scenario's concurrency when -c is not given. Login
// defaults to 2, the hashing pool of a 2-core server (one worker per CPU):
// more only queues, and past the server's 10 s wait for a worker the
// answer is 503, which measures the queue rather than a login.
var defaultC = map[string]int{"protected": 16, "refused": 16, "login": 2, "refresh": 16}

const password = "correct horse battery staple"

func main() {
	var (
		rawURL   = flag.String("url", "http://127.0.0.1:8080", "base URL of the jot server; loopback hosts only")
		scenario = flag.String("scenario", "protected", "protected, refused, login or refresh")
		n        = flag.Int("n", 0, "request budget across all workers (default: per scenario, 40 for login, 5000 for refresh, else 20000)")
		d        = flag.Duration("d", 20*time.Second, "time budget; requests in flight at the end are let finish")
		c        = flag.Int("c", 0, "concurrent workers (default: per scenario, 2 for login, else 16)")
		timeout  = flag.Duration("timeout", 30*time.Second, "per-request timeout; longer than the server's own 10 s wait for a hashing worker, so its 503 is seen")
	)
	flag.Parse()
	if *n == 0 {
		*n = defaultN[*scenario]
	}
	if *c == 0 {
		*c = defaultC[*scenario]
	}
	if err := run(*rawURL, *scenario, *n, *c, *d, *timeout, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run(rawURL, scenario string, n, c int, d, timeout time.Duration, out io.Writer) error {
	base, err := checkURL(rawURL)
	if err != nil {
		return err
	}
	if _, ok := defaultN[scenario]; !ok {
		return fmt.Errorf("unknown scenario %q", scenario)
	}
	if n < 1 || c < 1 || d <= 0 || timeout <= 0 {
		return errors.New("-n, -c, -d and -timeout must be positive")
	}
	c = min(c, n)
	cl := newClient(c, timeout)
	ctx := context.Background()

	// Setup is not measured: one signup (and for refresh one login per
	// worker) costs bcrypt time the scenario is not about.
	email := "load-" + randomHex(8) + "@example.com"
	tk, err := cl.tokens(ctx, base+"/v1/auth/signup",
		fmt.Sprintf(`{"email": %q, "password": %q, "name": "Load"}`, email, password), http.StatusCreated)
	if err != nil {
		return fmt.Errorf("setup: signup: %w", err)
	}
	loginBody := fmt.Sprintf(`{"email": %q, "password": %q}`, email, password)

	var newWorker func() (request, error)
	switch scenario {
	case "protected":
		newWorker = func() (request, error) { return cl.get(base+"/v1/users/me", tk.Access, http.StatusOK), nil }
	case "refused":
		bad, err := tamper(tk.Access)
		if err != nil {
			return err
		}
		// Make sure the server refuses it for its signature, not for its
		// shape, which would measure a much cheaper path.
		st, body, err := cl.do(ctx, "GET", base+"/v1/users/me", "", bad, "", true)
		if _, err = check(st, err, http.StatusUnauthorized); err == nil && !bytes.Contains(body, []byte(`"reason":"invalid"`)) {
			err = errors.New("refused, but not as invalid")
		}
		if err != nil {
			return fmt.Errorf("setup: tampered token: %w: %s", err, truncate(body))
		}
		newWorker = func() (request, error) { return cl.get(base+"/v1/users/me", bad, http.StatusUnauthorized), nil }
	case "login":
		newWorker = func() (request, error) {
			return func(ctx context.Context) (int, error) {
				st, _, err := cl.do(ctx, "POST", base+"/v1/auth/login", "application/json", "", loginBody, false)
				return check(st, err, http.StatusOK)
			}, nil
		}
	case "refresh":
		newWorker = func() (request, error) {
			own, err := cl.tokens(ctx, base+"/v1/auth/login", loginBody, http.StatusOK)
			if err != nil {
				return nil, fmt.Errorf("setup: login: %w", err)
			}
			rt := own.Refresh
			return func(ctx context.Context) (int, error) {
				form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode()
				st, body, err := cl.do(ctx, "POST", base+"/v1/auth/token", "application/x-www-form-urlencoded", "", form, true)
				if st, err = check(st, err, http.StatusOK); err != nil {
					return st, err
				}
				var next tokenResponse
				if err := json.Unmarshal(body, &next); err != nil || next.Refresh == "" {
					// The chain is broken; every later request of this worker
					// would fail too, and be counted.
					return st, fmt.Errorf("no refresh token in answer: %s", truncate(body))
				}
				rt = next.Refresh
				return st, nil
			}, nil
		}
	}
	workers := make([]request, c)
	for i := range workers {
		if workers[i], err = newWorker(); err != nil {
			return err
		}
	}
	res := measure(ctx, workers, n, d)
	res.print(out, scenario, base, c, n, d)
	return nil
}

// checkURL parses the base URL and refuses any host that is not loopback:
// a load test pointed elsewhere by mistake is an attack.
func checkURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("-url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("-url: scheme must be http or https, not %q", u.Scheme)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("-url: only scheme, host, port and path are allowed")
	}
	if !loopbackHost(u.Hostname()) {
		return "", fmt.Errorf("-url: %q is not a loopback host (127.0.0.0/8, ::1 or localhost)", u.Hostname())
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// dialLoopbackOnly refuses connections to anything but a loopback address,
// checked after name resolution, so that localhost resolving elsewhere
// cannot send the load off the machine.
func dialLoopbackOnly(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		return fmt.Errorf("refusing to connect to %s: not a loopback address", address)
	}
	return nil
}

// request sends one request of a worker and returns its status; a nil
// error means the server answered as the scenario expects.
type request func(ctx context.Context) (status int, err error)

type client struct {
	hc      *http.Client
	timeout time.Duration
}

func newClient(conns int, timeout time.Duration) *client {
	tr := &http.Transport{
		// Never a proxy: the load must go straight to the loopback server.
		Proxy:       nil,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second, Control: dialLoopbackOnly}).DialContext,
		// One idle connection per worker, or connections would be closed
		// and reopened all the time (the default keeps 2 per host).
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	return &client{
		hc: &http.Client{
			Transport: tr,
			// A redirect could lead off the machine; the API has none.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		timeout: timeout,
	}
}

// do sends a request and reads the whole answer, so the connection is
// reused; it keeps the body only when asked.
func (cl *client) do(ctx context.Context, method, u, contentType, bearer, body string, keep bool) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, cl.timeout)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := cl.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	if keep || resp.StatusCode >= 300 {
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, b, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil, err
}

func (cl *client) get(u, bearer string, want int) request {
	return func(ctx context.Context) (int, error) {
		st, _, err := cl.do(ctx, "GET", u, "", bearer, "", false)
		return check(st, err, want)
	}
}

// tokenResponse is the part of a token response the scenarios use.
type tokenResponse struct {
	Access  string `json:"access_token"`
	Refresh string `json:"refresh_token"`
}

// tokens posts a JSON body to an endpoint that answers with tokens.
func (cl *client) tokens(ctx context.Context, u, body string, want int) (tokenResponse, error) {
	var tk tokenResponse
	st, b, err := cl.do(ctx, "POST", u, "application/json", "", body, true)
	if _, err := check(st, err, want); err != nil {
		if len(b) > 0 {
			err = fmt.Errorf("%w: %s", err, truncate(b))
		}
		return tk, err
	}
	if err := json.Unmarshal(b, &tk); err != nil || tk.Access == "" || tk.Refresh == "" {
		return tk, fmt.Errorf("no tokens in answer: %s", truncate(b))
	}
	return tk, nil
}

func check(status int, err error, want int) (int, error) {
	if err != nil {
		return status, err
	}
	if status != want {
		return status, fmt.Errorf("status %d, want %d", status, want)
	}
	return status, nil
}

// tamper changes one character in the middle of the signature: the token
// stays well formed (every bit of a middle base64url character counts, so
// the encoding stays canonical), and the server has to verify the
// signature to refuse it, which is the refusal that costs it most.
func tamper(raw string) (string, error) {
	i := strings.LastIndexByte(raw, '.')
	if i < 0 || len(raw)-i < 8 {
		return "", errors.New("access token has no signature to tamper with")
	}
	j := i + (len(raw)-i)/2
	b := []byte(raw)
	if b[j] == 'A' {
		b[j] = 'B'
	} else {
		b[j] = 'A'
	}
	return string(b), nil
}

func truncate(b []byte) string {
	const limit = 200
	b = bytes.TrimSpace(b)
	if len(b) > limit {
		return string(b[:limit]) + "…"
	}
	return string(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// result is what the workers saw.
type result struct {
	elapsed   time.Duration
	latencies []time.Duration // every answered request, expected or not
	statuses  map[int]int     // 0 counts transport errors
	errors    int
	firstErr  error
	stopped   string
}

// measure runs the workers until n requests have started or d has passed.
// A worker checks the clock before each request rather than cancelling the
// one in flight, so every counted request is a whole one.
func measure(ctx context.Context, workers []request, n int, d time.Duration) *result {
	var (
		started atomic.Int64
		mu      sync.Mutex
		res     = &result{statuses: map[int]int{}}
		wg      sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for _, w := range workers {
		wg.Go(func() {
			// Sized for an even share of n, capped so a large -n does not
			// reserve memory a short -d will never fill.
			lat := make([]time.Duration, 0, min(n/len(workers)+1, 1<<16))
			statuses := map[int]int{}
			errs := 0
			var firstErr error
			for time.Now().Before(deadline) && started.Add(1) <= int64(n) {
				t := time.Now()
				st, err := w(ctx)
				lat = append(lat, time.Since(t))
				statuses[st]++
				if err != nil {
					errs++
					if firstErr == nil {
						firstErr = err
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			res.latencies = append(res.latencies, lat...)
			for st, k := range statuses {
				res.statuses[st] += k
			}
			res.errors += errs
			if res.firstErr == nil {
				res.firstErr = firstErr
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.stopped = "request budget"
	if len(res.latencies) < n {
		res.stopped = "time budget"
	}
	return res
}

// percentile returns the nearest-rank p-th percentile of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	k := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(k, len(sorted)-1))]
}

func (r *result) print(w io.Writer, scenario, base string, c, n int, d time.Duration) {
	slices.Sort(r.latencies)
	total := len(r.latencies)
	fmt.Fprintf(w, "scenario     %s against %s\n", scenario, base)
	fmt.Fprintf(w, "budget       %d requests or %s, %d workers; stopped by the %s\n", n, d, c, r.stopped)
	fmt.Fprintf(w, "requests     %d (%d as expected, %d errors) in %s\n", total, total-r.errors, r.errors, r.elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "throughput   %.1f requests/s\n", float64(total)/r.elapsed.Seconds())
	fmt.Fprintf(w, "latency      p50 %s  p90 %s  p99 %s  max %s\n",
		round(percentile(r.latencies, 50)), round(percentile(r.latencies, 90)),
		round(percentile(r.latencies, 99)), round(percentile(r.latencies, 100)))
	codes := make([]int, 0, len(r.statuses))
	for st := range r.statuses {
		codes = append(codes, st)
	}
	sort.Ints(codes)
	parts := make([]string, 0, len(codes))
	for _, st := range codes {
		name := fmt.Sprint(st)
		if st == 0 {
			name = "no answer (transport error or timeout)"
		}
		parts = append(parts, fmt.Sprintf("%s: %d", name, r.statuses[st]))
	}
	fmt.Fprintf(w, "statuses     %s\n", strings.Join(parts, ", "))
	if r.firstErr != nil {
		fmt.Fprintf(w, "first error  %v\n", r.firstErr)
	}
}

// round keeps three significant digits or so, enough for a latency.
func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}
