package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jotauth/jot/config"
	"github.com/jotauth/jot/internal/jottest"
	"github.com/jotauth/jot/postgres"
)

// dbTimeout is JOT_DB_TIMEOUT in the outage tests: short, so that they
// are quick, and the bound a 503 must come within (plus a second).
const dbTimeout = time.Second

// cluster is three instances on one PostgreSQL schema, each reaching the
// database through one proxy the test controls; direct reaches the same
// schema around the proxy.
type cluster struct {
	t      *testing.T
	proxy  *jottest.Proxy
	envs   []*env
	direct string
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	direct := postgresSchema(t)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	p := jottest.NewProxy(t, u.Host)
	u.Host = p.Addr()
	c := &cluster{t: t, proxy: p, direct: direct}
	for range 3 {
		e := newEnvAt(t, u.String(), func(cfg *config.Config) { cfg.DBTimeout = dbTimeout })
		// A hang must fail the test, not stall it.
		e.srv.Client().Timeout = 30 * time.Second
		c.envs = append(c.envs, e)
	}
	return c
}

// metric returns the value of an unlabeled metric of instance e.
func (e *env) metric(name string) float64 {
	e.t.Helper()
	r := e.do("GET", "/metrics", "", nil)
	for line := range strings.SplitSeq(string(r.body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				e.t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	e.t.Fatalf("metric %s not found", name)
	return 0
}

// want503 checks the answer to a request that needs the database while it
// cannot be had: 503 unavailable with Retry-After, within JOT_DB_TIMEOUT
// plus a second.
func want503(t *testing.T, what string, took time.Duration, r *response) {
	t.Helper()
	if r.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("%s: status %d, want 503: %s", what, r.StatusCode, r.body)
	}
	wantError(t, r, http.StatusServiceUnavailable, "unavailable")
	if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("%s: Retry-After %q, want a number of seconds", what, r.Header.Get("Retry-After"))
	}
	if took > dbTimeout+time.Second {
		t.Errorf("%s: answered after %v, want within JOT_DB_TIMEOUT (%v) + 1s", what, took, dbTimeout)
	}
}

// A database that refuses connections, or that silently drops every byte,
// gets every request that needs it a 503 unavailable with Retry-After
// within JOT_DB_TIMEOUT + 1 s, on every instance: never a 500, never a
// hang. When it is back, the instances are ready again.
func TestDatabaseOutageAnswers503(t *testing.T) {
	c := newCluster(t)
	for i, mode := range []jottest.ProxyMode{jottest.Refuse, jottest.Blackhole} {
		t.Run(mode.String(), func(t *testing.T) {
			a := c.envs[0]
			email := fmt.Sprintf("outage%d@example.com", i)
			first := a.signup(email, "pass-phrase-1")
			second := a.login(email, "pass-phrase-1")
			third := a.login(email, "pass-phrase-1")

			c.proxy.Set(mode)
			var took []time.Duration
			check := func(e *env, what, method, path, bearer string, body any) {
				start := time.Now()
				r := e.do(method, path, bearer, body)
				d := time.Since(start)
				took = append(took, d)
				want503(t, what, d, r)
			}
			b, cc := c.envs[1], c.envs[2]
			check(a, "me", "GET", "/v1/users/me", first.Access, nil)
			check(b, "login", "POST", "/v1/auth/login", "", map[string]string{"email": email, "password": "pass-phrase-1"})
			check(cc, "signup", "POST", "/v1/auth/signup", "", map[string]string{"email": fmt.Sprintf("new%d@example.com", i), "password": "pass-phrase-1"})
			start := time.Now()
			r := a.refresh(second.Refresh)
			d := time.Since(start)
			took = append(took, d)
			want503(t, "refresh", d, r)
			check(b, "logout", "POST", "/v1/auth/logout", third.Access, nil)
			// The revocation sync has failed by now on every instance:
			// readiness and every protected route say so.
			for _, e := range c.envs {
				eventually(t, 3*dbTimeout, func() bool { return e.do("GET", "/readyz", "", nil).StatusCode == 503 })
				check(e, "me after a failed sync", "GET", "/v1/users/me", first.Access, nil)
			}
			slices.Sort(took)
			t.Logf("%s: time to 503 over %d requests: min %v median %v max %v", mode, len(took),
				took[0].Round(time.Millisecond), took[len(took)/2].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))

			c.proxy.Set(jottest.Pass)
			for _, e := range c.envs {
				eventually(t, 5*time.Second, func() bool { return e.do("GET", "/readyz", "", nil).StatusCode == 200 })
				if r := e.do("GET", "/v1/users/me", first.Access, nil); r.StatusCode != 200 {
					t.Fatalf("me after recovery: %d %s", r.StatusCode, r.body)
				}
			}
			// Nothing was changed by the refused requests.
			a.tokensOf(a.refresh(second.Refresh), 200)
			if r := b.do("POST", "/v1/auth/logout", third.Access, nil); r.StatusCode != 204 {
				t.Fatalf("logout after recovery: %d %s", r.StatusCode, r.body)
			}
		})
	}
}

// A session ended while the instances cannot reach the database (here by
// another party, straight in PostgreSQL) is refused by every instance from
// the first request after the database is back: until they have re-read
// the ended sessions, /readyz and the protected routes answer 503, never
// 200. The listener is back within 3 s of the database.
//
// JOT_TEST_OUTAGE_RUNS=10 repeats it and logs min/median/max of the time
// from recovery to ready and to the listener's return.
func TestNoRevokedTokenAfterOutage(t *testing.T) {
	runs := 1
	if n, err := strconv.Atoi(os.Getenv("JOT_TEST_OUTAGE_RUNS")); err == nil && n > 0 {
		runs = n
	}
	c := newCluster(t)
	ctx := context.Background()
	direct, err := postgres.Open(ctx, c.direct)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { direct.Close() })
	for _, e := range c.envs {
		eventually(t, 3*time.Second, func() bool { return e.metric("jot_db_listener_up") == 1 })
		if n := e.metric("jot_db_pool_max_conns"); n != 10 {
			t.Errorf("jot_db_pool_max_conns %v, want the default 10", n)
		}
		if n := e.metric("jot_db_pool_total_conns"); n < 1 {
			t.Errorf("jot_db_pool_total_conns %v, want the pool's open connections", n)
		}
	}

	var toReady, toListener []time.Duration
	for run := range runs {
		mode := []jottest.ProxyMode{jottest.Refuse, jottest.Blackhole}[run%2]
		tk := c.envs[run%3].signup(fmt.Sprintf("revoked%d@example.com", run), "pass-phrase-1")
		for _, e := range c.envs {
			if r := e.do("GET", "/v1/users/me", tk.Access, nil); r.StatusCode != 200 {
				t.Fatalf("before the outage: %d %s", r.StatusCode, r.body)
			}
		}
		reconnects := make([]float64, len(c.envs))
		for i, e := range c.envs {
			reconnects[i] = e.metric("jot_db_listener_reconnects_total")
		}

		c.proxy.Set(mode)
		for _, e := range c.envs {
			eventually(t, 3*dbTimeout+time.Second, func() bool {
				return e.do("GET", "/readyz", "", nil).StatusCode == 503 &&
					e.do("GET", "/v1/users/me", tk.Access, nil).StatusCode == 503
			})
		}
		if err := direct.EndSession(ctx, sidOf(t, tk.Access), time.Now()); err != nil {
			t.Fatal(err)
		}

		c.proxy.Set(jottest.Pass)
		back := time.Now()
		ready := make([]time.Duration, len(c.envs))
		listening := make([]time.Duration, len(c.envs))
		for time.Since(back) < 10*time.Second && (slices.Contains(ready, 0) || slices.Contains(listening, 0)) {
			for i, e := range c.envs {
				if ready[i] == 0 {
					rz := e.do("GET", "/readyz", "", nil)
					at := time.Since(back)
					me := e.do("GET", "/v1/users/me", tk.Access, nil)
					switch me.StatusCode {
					case 503:
						if rz.StatusCode == 200 {
							// A sync may fail just after a ready answer
							// (the proxy's first connections were reset),
							// never the other way round: checked below.
							t.Logf("instance %d: ready, then a 503 on /me", i)
						}
					case 401:
						wantInvalidToken(t, me, "revoked")
						if rz.StatusCode == 200 {
							ready[i] = at
						}
					default:
						t.Fatalf("instance %d, %v after recovery: revoked token got %d %s (readyz %d)", i, at, me.StatusCode, me.body, rz.StatusCode)
					}
				}
				if listening[i] == 0 && e.metric("jot_db_listener_up") == 1 && e.metric("jot_db_listener_reconnects_total") > reconnects[i] {
					listening[i] = time.Since(back)
				}
			}
			time.Sleep(5 * time.Millisecond) // polls the real database's recovery, which it times
		}
		for i := range c.envs {
			if ready[i] == 0 {
				t.Fatalf("run %d (%s): instance %d not ready 10s after the database came back", run, mode, i)
			}
			if listening[i] == 0 || listening[i] > 3*time.Second {
				t.Errorf("run %d (%s): instance %d listener back after %v, want within 3s", run, mode, i, listening[i])
			}
		}
		toReady = append(toReady, ready...)
		toListener = append(toListener, listening...)
	}
	stats := func(d []time.Duration) string {
		slices.Sort(d)
		return fmt.Sprintf("min %v median %v max %v", d[0].Round(time.Millisecond), d[len(d)/2].Round(time.Millisecond), d[len(d)-1].Round(time.Millisecond))
	}
	t.Logf("%d runs x %d instances: recovery to ready (revoked token refused): %s", runs, len(c.envs), stats(toReady))
	t.Logf("%d runs x %d instances: recovery to listener up: %s", runs, len(c.envs), stats(toListener))
}
