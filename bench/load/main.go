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
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
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
