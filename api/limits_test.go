package api_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/config"
	"github.com/jotauth/jot/internal/storage"
)

// storeOf opens the env's database a second time, for fixtures that the
// API cannot make quickly (thousands of sessions, old ones).
func (e *env) storeOf() jot.Store {
	e.t.Helper()
	st, err := storage.Open(e.t.Context(), e.dsn)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { st.Close() })
	return st
}

// storeSession stores a session of the user created at created and returns
// its refresh token, as a login would have.
func storeSession(t *testing.T, st jot.Store, userID string, created, expires time.Time) (string, *jot.Session) {
	t.Helper()
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	rt := base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(rt))
	s := &jot.Session{ID: jot.NewID(), UserID: userID, CreatedAt: created, LastUsedAt: created, ExpiresAt: expires}
	if err := st.CreateSession(t.Context(), s, h[:], nil); err != nil {
		t.Fatal(err)
	}
	return rt, s
}

func TestLoginPastMaxSessionsEndsTheLeastRecentlyUsed(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.MaxSessions = 3 })
	s1 := e.signup("lru@example.com", "pass-phrase-1")
	s2 := e.login("lru@example.com", "pass-phrase-1")
	s3 := e.login("lru@example.com", "pass-phrase-1")
	// s1 is the oldest, but a refresh makes it the most recently used:
	// s2 is now the least recently used.
	s1 = e.tokensOf(e.refresh(s1.Refresh), http.StatusOK)
	s4 := e.login("lru@example.com", "pass-phrase-1")

	wantInvalidToken(t, e.do("GET", "/v1/users/me", s2.Access, nil), "revoked")
	wantError(t, e.refresh(s2.Refresh), http.StatusBadRequest, "invalid_grant")
	for _, tk := range []tokens{s1, s3, s4} {
		wantStatus(t, e.do("GET", "/v1/users/me", tk.Access, nil), http.StatusOK)
	}
	list := wantStatus(t, e.do("GET", "/v1/auth/sessions", s4.Access, nil), http.StatusOK)
	if got := len(list["sessions"].([]any)); got != 3 {
		t.Fatalf("%d sessions listed, want 3: %v", got, list)
	}
	// The token endpoint's password grant is a session start too; now s3
	// is the least recently used.
	g := e.do("POST", "/v1/auth/token", "", url.Values{"grant_type": {"password"}, "username": {"lru@example.com"}, "password": {"pass-phrase-1"}})
	e.tokensOf(g, http.StatusOK)
	wantInvalidToken(t, e.do("GET", "/v1/users/me", s3.Access, nil), "revoked")
	wantStatus(t, e.do("GET", "/v1/users/me", s1.Access, nil), http.StatusOK)
}

func TestConcurrentLoginsKeepTheSessionBound(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.MaxSessions = 2 })
	e.signup("many@example.com", "pass-phrase-1")
	const n = 8
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			r := e.do("POST", "/v1/auth/login", "", map[string]string{"email": "many@example.com", "password": "pass-phrase-1"})
			if r.StatusCode != http.StatusOK {
				t.Errorf("login: %d %s", r.StatusCode, r.body)
			}
		})
	}
	wg.Wait()
	tk := e.login("many@example.com", "pass-phrase-1")
	list := wantStatus(t, e.do("GET", "/v1/auth/sessions", tk.Access, nil), http.StatusOK)
	if got := len(list["sessions"].([]any)); got != 2 {
		t.Fatalf("%d live sessions after %d concurrent logins, want 2", got, n+2)
	}
}

// sessionsPage is one answer of GET /v1/auth/sessions.
type sessionsPage struct {
	Sessions []struct {
		ID      string `json:"id"`
		Current bool   `json:"current"`
	} `json:"sessions"`
	NextCursor *string `json:"next_cursor"`
}

func TestSessionsListIsPaged(t *testing.T) {
	e := newEnv(t, nil)
	a := e.signup("pages@example.com", "pass-phrase-1")
	other := e.signup("other@example.com", "pass-phrase-1")
	st := e.storeOf()
	// More live sessions than JOT_MAX_SESSIONS: made before it was set.
	now := time.Now().UTC()
	want := []string{}
	for range 230 {
		_, s := storeSession(t, st, a.User.ID, now, now.Add(time.Hour))
		want = append(want, s.ID)
	}
	current := sidOf(t, a.Access)
	// Newest first: the ids are time-ordered, and the signup's is oldest.
	for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
		want[i], want[j] = want[j], want[i]
	}
	want = append(want, current)

	walk := func(limit string) []string {
		var got []string
		path := "/v1/auth/sessions" + limit
		for pages := 0; ; pages++ {
			if pages > 300 {
				t.Fatal("paging does not end")
			}
			r := e.do("GET", path, a.Access, nil)
			var p sessionsPage
			if r.StatusCode != http.StatusOK || json.Unmarshal(r.body, &p) != nil {
				t.Fatalf("sessions: %d %s", r.StatusCode, r.body)
			}
			for _, s := range p.Sessions {
				got = append(got, s.ID)
				if s.Current != (s.ID == current) {
					t.Errorf("current flag of %s is %v", s.ID, s.Current)
				}
			}
			if p.NextCursor == nil {
				return got
			}
			sep := "?"
			if limit != "" {
				sep = "&"
			}
			path = "/v1/auth/sessions" + limit + sep + "cursor=" + url.QueryEscape(*p.NextCursor)
		}
	}
	for _, limit := range []string{"", "?limit=7", "?limit=100", "?limit=1"} {
		if got := walk(limit); !reflect.DeepEqual(got, want) {
			t.Fatalf("walk with %q: %d sessions, want all %d once, newest first", limit, len(got), len(want))
		}
	}
	// The default page is 100, and says where the next begins.
	var p sessionsPage
	r := e.do("GET", "/v1/auth/sessions", a.Access, nil)
	_ = json.Unmarshal(r.body, &p)
	if len(p.Sessions) != 100 || p.NextCursor == nil {
		t.Fatalf("first page: %d sessions, next_cursor %v", len(p.Sessions), p.NextCursor)
	}
	// A last page says null.
	r = e.do("GET", "/v1/auth/sessions", other.Access, nil)
	if m := wantStatus(t, r, http.StatusOK); m["next_cursor"] != nil {
		t.Fatalf("single page: next_cursor %v", m["next_cursor"])
	} else if _, ok := m["next_cursor"]; !ok {
		t.Fatalf("next_cursor missing: %s", r.body)
	}

	for _, q := range []string{"limit=0", "limit=101", "limit=-1", "limit=x", "limit=1&limit=2",
		"cursor=garbage", "cursor=" + forgeCursor(*p.NextCursor)} {
		wantError(t, e.do("GET", "/v1/auth/sessions?"+q, a.Access, nil), http.StatusBadRequest, "invalid_request")
	}
	// A cursor of one user's list continues no one else's.
	wantError(t, e.do("GET", "/v1/auth/sessions?cursor="+url.QueryEscape(*p.NextCursor), other.Access, nil), http.StatusBadRequest, "invalid_request")
}

func TestSessionMaxAgeBoundsRefreshes(t *testing.T) {
	const maxAge = time.Hour
	e := newEnv(t, func(c *config.Config) { c.SessionMaxAge = maxAge })
	a := e.signup("age@example.com", "pass-phrase-1")
	st := e.storeOf()
	now := time.Now().UTC()

	// A new session expires at its max age, not the longer refresh TTL.
	s, err := st.SessionByID(t.Context(), sidOf(t, a.Access))
	if err != nil {
		t.Fatal(err)
	}
	if !s.ExpiresAt.Equal(s.CreatedAt.Add(maxAge)) {
		t.Fatalf("new session expires at %v, want %v", s.ExpiresAt, s.CreatedAt.Add(maxAge))
	}

	// Refreshed 55 minutes into its life: the refresh works, but moves
	// the expiry no further than the max age allows.
	rt, young := storeSession(t, st, a.User.ID, now.Add(-55*time.Minute), now.Add(time.Hour))
	tk := e.tokensOf(e.refresh(rt), http.StatusOK)
	got, err := st.SessionByID(t.Context(), young.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.ExpiresAt.Equal(young.CreatedAt.Add(maxAge)) {
		t.Fatalf("refreshed session expires at %v, want its max age %v", got.ExpiresAt, young.CreatedAt.Add(maxAge))
	}
	wantStatus(t, e.do("GET", "/v1/users/me", tk.Access, nil), http.StatusOK)

	// Past its max age, a session's refresh token is refused however
	// recently it was refreshed (its expiry, set before, is hours away).
	rt, _ = storeSession(t, st, a.User.ID, now.Add(-maxAge-time.Minute), now.Add(10*time.Hour))
	m := wantError(t, e.refresh(rt), http.StatusBadRequest, "invalid_grant")
	if m["error_description"] != "invalid or expired refresh token" {
		t.Errorf("description %v", m["error_description"])
	}
}

// wantExactError checks an error answer to the byte, as JSON.
func wantExactError(t *testing.T, r *response, status int, want map[string]any) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", r.StatusCode, status, r.body)
	}
	var got map[string]any
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("body %s, want %v", r.body, want)
	}
}

func TestResourceQuota(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.MaxResources = 3 })
	a := e.signup("quota@example.com", "pass-phrase-1")
	b := e.signup("roomy@example.com", "pass-phrase-1")
	var first string
	for i := range 3 {
		id := e.createTask(a.Access, fmt.Sprint("task ", i))["id"].(string)
		if first == "" {
			first = id
		}
	}
	r := e.do("POST", "/v1/tasks", a.Access, map[string]any{"title": "one too many"})
	wantExactError(t, r, http.StatusForbidden, map[string]any{
		"error": "quota_exceeded", "error_description": "quota exceeded: at most 3 tasks per user", "status": float64(403),
	})
	if h := r.Header.Get("WWW-Authenticate"); h != "" {
		t.Errorf("quota answer carries WWW-Authenticate %q", h)
	}
	// Recipes have a quota of their own, and so does every user.
	for i := range 3 {
		e.createRecipe(a.Access, fmt.Sprint("recipe ", i))
	}
	wantExactError(t, e.do("POST", "/v1/recipes", a.Access, map[string]any{"title": "Pie", "ingredients": []string{"apple"}, "instructions": "Bake."}),
		http.StatusForbidden, map[string]any{
			"error": "quota_exceeded", "error_description": "quota exceeded: at most 3 recipes per user", "status": float64(403),
		})
	e.createTask(b.Access, "b's")
	// A delete makes room again.
	wantStatus(t, e.do("DELETE", "/v1/tasks/"+first, a.Access, nil), http.StatusNoContent)
	e.createTask(a.Access, "fits again")
	list := wantStatus(t, e.do("GET", "/v1/tasks", a.Access, nil), http.StatusOK)
	if n := len(list["tasks"].([]any)); n != 3 {
		t.Fatalf("%d tasks, want 3", n)
	}
}

func TestConcurrentCreatesStayWithinTheQuota(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.MaxResources = 5 })
	a := e.signup("burst@example.com", "pass-phrase-1")
	statuses, _ := burst(20, func(i int) *response {
		return e.do("POST", "/v1/tasks", a.Access, map[string]any{"title": fmt.Sprint("t", i)})
	})
	if statuses[http.StatusCreated] != 5 || statuses[http.StatusForbidden] != 15 {
		t.Fatalf("20 concurrent creates under a quota of 5: %v", statuses)
	}
}

func TestResourceWritesAreRateLimited(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.WriteRate = config.Rate{N: 5, Per: time.Minute} })
	a := e.signup("writer@example.com", "pass-phrase-1")
	b := e.signup("calm@example.com", "pass-phrase-1")
	id := e.createTask(a.Access, "one")["id"].(string)
	wantStatus(t, e.do("PATCH", "/v1/tasks/"+id, a.Access, map[string]any{"done": true}), http.StatusOK)
	rid := e.createRecipe(a.Access, "Soup")["id"].(string)
	wantStatus(t, e.do("PUT", "/v1/recipes/"+rid, a.Access, map[string]any{"title": "Stew", "ingredients": []string{"beans"}, "instructions": "Simmer."}), http.StatusOK)
	wantStatus(t, e.do("DELETE", "/v1/recipes/"+rid, a.Access, nil), http.StatusNoContent)
	// Reads are not writes.
	wantStatus(t, e.do("GET", "/v1/tasks/"+id, a.Access, nil), http.StatusOK)
	wantStatus(t, e.do("GET", "/v1/recipes", "", nil), http.StatusOK)

	for _, w := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/v1/tasks", map[string]any{"title": "six"}},
		{"PATCH", "/v1/tasks/" + id, map[string]any{"done": false}},
		{"DELETE", "/v1/tasks/" + id, nil},
		{"POST", "/v1/recipes", map[string]any{"title": "Pie", "ingredients": []string{"apple"}, "instructions": "Bake."}},
	} {
		r := e.do(w.method, w.path, a.Access, w.body)
		wantError(t, r, http.StatusTooManyRequests, "rate_limited")
		// One write returns every 12 s at 5 a minute.
		if ra := r.Header.Get("Retry-After"); ra != "12" {
			t.Errorf("%s %s: Retry-After %q, want 12", w.method, w.path, ra)
		}
	}
	// Another user's budget is their own.
	e.createTask(b.Access, "fine")
}

// forgeCursor changes a character inside a cursor (the last one may carry
// only padding bits, which decoding ignores).
func forgeCursor(c string) string {
	b := []byte(c)
	if b[10] == 'A' {
		b[10] = 'B'
	} else {
		b[10] = 'A'
	}
	return string(b)
}
