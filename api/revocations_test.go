package api_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/config"
	"github.com/jotauth/jot/internal/jottest"
)

// feedSecret is JOT_REVOCATIONS_SECRET in the tests that set one.
const feedSecret = "feed-secret-0123456789abcdef0123456789"

// newFeedEnv is newEnv that also returns the store, so that tests can end
// thousands of sessions without a login each.
func newFeedEnv(t *testing.T, edit func(*config.Config)) (*env, jot.Store) {
	t.Helper()
	e := newEnv(t, edit)
	return e, e.st
}

// endSessions stores n sessions of one new user with live access tokens,
// ends them all at once, and returns their ids in the order the feed
// lists them.
func endSessions(t *testing.T, st jot.Store, n int) []string {
	t.Helper()
	ctx := t.Context()
	now := time.Now().UTC()
	u := jottest.StoreUser(t, st, "", now)
	ids := make(map[string]bool, n)
	for range n {
		ids[jottest.StoreSession(t, st, u.ID, now, now.Add(time.Hour)).ID] = true
	}
	if err := st.EndUserSessions(ctx, u.ID, "", now); err != nil {
		t.Fatal(err)
	}
	// The order of ending within one call is the store's; the feed's order
	// is the revocations' Seq.
	revs, _, _, err := st.Revocations(ctx, 0, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range revs {
		if ids[r.SessionID] {
			out = append(out, r.SessionID)
		}
	}
	if len(out) != n {
		t.Fatalf("%d revocations for %d ended sessions", len(out), n)
	}
	return out
}

// feedAnswer is a 200 of the feed.
type feedAnswer struct {
	Sessions []struct {
		SID string `json:"sid"`
		Exp int64  `json:"exp"`
	} `json:"sessions"`
	Cursor *string `json:"cursor"`
	More   *bool   `json:"more"`
}

func decodeFeed(t *testing.T, r *response) feedAnswer {
	t.Helper()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("feed: status %d: %s", r.StatusCode, r.body)
	}
	var f feedAnswer
	if err := json.Unmarshal(r.body, &f); err != nil {
		t.Fatalf("feed: %v: %s", err, r.body)
	}
	if f.Cursor == nil || f.More == nil || f.Sessions == nil {
		t.Fatalf("feed lacks sessions, cursor or more: %s", r.body)
	}
	return f
}

// walkFeed reads the feed from since, page after page with the given limit
// ("" for the default), as a client following `more` does, and returns the
// sids in order, the pages' sizes and the last cursor.
func walkFeed(t *testing.T, e *env, since, limit string) (sids []string, pages []int, cursor string) {
	t.Helper()
	for range 100 {
		q := url.Values{}
		if since != "" {
			q.Set("since", since)
		}
		if limit != "" {
			q.Set("limit", limit)
		}
		f := decodeFeed(t, e.do("GET", "/v1/auth/revocations?"+q.Encode(), "", nil))
		pages = append(pages, len(f.Sessions))
		for _, s := range f.Sessions {
			sids = append(sids, s.SID)
		}
		since = *f.Cursor
		if !*f.More {
			return sids, pages, since
		}
		if len(f.Sessions) == 0 {
			t.Fatal("an empty page says more follow")
		}
	}
	t.Fatal("the feed does not end")
	return
}

func TestRevocationsFeedPages(t *testing.T) {
	e, st := newFeedEnv(t, nil)
	want := endSessions(t, st, 7)

	// Every page but the last is full and says more; each entry comes
	// once, oldest first.
	for _, c := range []struct {
		limit string
		pages []int
	}{
		{"1", []int{1, 1, 1, 1, 1, 1, 1}},
		{"3", []int{3, 3, 1}},
		{"7", []int{7}},
		{"10000", []int{7}},
		{"", []int{7}},
	} {
		got, pages, cursor := walkFeed(t, e, "", c.limit)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("limit %q: sids %v, want %v", c.limit, got, want)
		}
		if fmt.Sprint(pages) != fmt.Sprint(c.pages) {
			t.Errorf("limit %q: pages of %v, want %v", c.limit, pages, c.pages)
		}
		// The last cursor is where a later poll starts: nothing new there.
		if sids, _, again := walkFeed(t, e, cursor, c.limit); len(sids) != 0 || again != cursor {
			t.Errorf("limit %q: after the last cursor: %v, cursor %s", c.limit, sids, again)
		}
	}

	// A page cursor is one the server wrote: a later walk from it lists
	// the rest, and a new ending comes after the rest.
	f := decodeFeed(t, e.do("GET", "/v1/auth/revocations?limit=2", "", nil))
	more := endSessions(t, st, 2)
	got, _, _ := walkFeed(t, e, *f.Cursor, "4")
	if fmt.Sprint(got) != fmt.Sprint(append(want[2:], more...)) {
		t.Errorf("from a page cursor: %v, want %v", got, append(want[2:], more...))
	}

	for _, bad := range []string{"0", "-1", "10001", "abc", "1.5", "", "1e3", "99999999999999999999"} {
		r := e.do("GET", "/v1/auth/revocations?limit="+url.QueryEscape(bad), "", nil)
		m := wantError(t, r, http.StatusBadRequest, "invalid_request")
		if !strings.Contains(m["error_description"].(string), "limit") {
			t.Errorf("limit %q: %s", bad, r.body)
		}
	}
	wantError(t, e.do("GET", "/v1/auth/revocations?limit=2&limit=3", "", nil), http.StatusBadRequest, "invalid_request")
	// The cursor rules stay: a since the server never wrote is refused,
	// with or without a limit.
	wantError(t, e.do("GET", "/v1/auth/revocations?limit=2&since=999999", "", nil), http.StatusBadRequest, "invalid_request")
	wantError(t, e.do("GET", "/v1/auth/revocations?limit=2&since=01", "", nil), http.StatusBadRequest, "invalid_request")
}

// TestRevocationsFeedDefaultLimit ends more sessions than a page holds
// without a limit: the first page has 10,000 and says more, the second
// has the rest.
func TestRevocationsFeedDefaultLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("stores 10,001 sessions")
	}
	e, st := newFeedEnv(t, nil)
	want := endSessions(t, st, 10001)
	got, pages, _ := walkFeed(t, e, "", "")
	if fmt.Sprint(pages) != "[10000 1]" {
		t.Errorf("pages of %v, want [10000 1]", pages)
	}
	if len(got) != len(want) || got[0] != want[0] || got[10000] != want[10000] {
		t.Errorf("%d sids, want %d in order", len(got), len(want))
	}
	seen := make(map[string]bool, len(got))
	for _, s := range got {
		if seen[s] {
			t.Fatalf("%s listed twice", s)
		}
		seen[s] = true
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gzip: %v", err)
	}
	return out
}

func hasVary(r *response, field string) bool {
	for _, v := range r.Header.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), field) {
				return true
			}
		}
	}
	return false
}

func TestRevocationsFeedGzip(t *testing.T) {
	e, st := newFeedEnv(t, nil)
	endSessions(t, st, 300)

	plain := e.do("GET", "/v1/auth/revocations", "", nil, "Accept-Encoding", "identity")
	decodeFeed(t, plain)
	if ce := plain.Header.Get("Content-Encoding"); ce != "" {
		t.Errorf("identity asked, Content-Encoding %q", ce)
	}
	if !hasVary(plain, "Accept-Encoding") {
		t.Errorf("plain answer without Vary: Accept-Encoding: %q", plain.Header.Values("Vary"))
	}

	for _, ae := range []string{"gzip", "GZIP", "deflate, gzip;q=0.5", "br;q=1.0, gzip;q=0.8, *;q=0.1", "*", "x-gzip"} {
		r := e.do("GET", "/v1/auth/revocations", "", nil, "Accept-Encoding", ae)
		if r.StatusCode != http.StatusOK || r.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("Accept-Encoding %q: %d, Content-Encoding %q", ae, r.StatusCode, r.Header.Get("Content-Encoding"))
		}
		if got := gunzip(t, r.body); !bytes.Equal(got, plain.body) {
			t.Errorf("Accept-Encoding %q: decoded answer differs from the plain one", ae)
		}
		if len(r.body) >= len(plain.body)*3/4 {
			t.Errorf("Accept-Encoding %q: gzip answer %d bytes, plain %d", ae, len(r.body), len(plain.body))
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		if cl := r.Header.Get("Content-Length"); cl != strconv.Itoa(len(r.body)) {
			t.Errorf("Content-Length %q, body %d bytes", cl, len(r.body))
		}
		if !hasVary(r, "Accept-Encoding") || r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("Vary %q, Cache-Control %q", r.Header.Values("Vary"), r.Header.Get("Cache-Control"))
		}
	}
	for _, ae := range []string{"gzip;q=0", "gzip;q=0, *", "*;q=0", "br", "deflate, identity"} {
		r := e.do("GET", "/v1/auth/revocations", "", nil, "Accept-Encoding", ae)
		if r.Header.Get("Content-Encoding") != "" || !bytes.Equal(r.body, plain.body) {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want the plain answer", ae, r.Header.Get("Content-Encoding"))
		}
	}
	// Go's client asks for gzip on its own and decodes it.
	res, err := http.Get(e.srv.URL + "/v1/auth/revocations")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !res.Uncompressed || !bytes.Equal(body, plain.body) {
		t.Errorf("default client: uncompressed %v, same answer %v", res.Uncompressed, bytes.Equal(body, plain.body))
	}
}

func TestRevocationsFeedETag(t *testing.T) {
	e, st := newFeedEnv(t, nil)
	endSessions(t, st, 5)
	const path = "/v1/auth/revocations"

	first := e.do("GET", path, "", nil, "Accept-Encoding", "identity")
	f := decodeFeed(t, first)
	tag := first.Header.Get("ETag")
	if len(tag) < 3 || tag[0] != '"' || tag[len(tag)-1] != '"' || strings.HasPrefix(tag, "W/") {
		t.Fatalf("ETag %q, want a strong quoted tag", tag)
	}
	// The same answer has the same tag; nothing new gets 304, no body.
	if again := e.do("GET", path, "", nil, "Accept-Encoding", "identity"); again.Header.Get("ETag") != tag || !bytes.Equal(again.body, first.body) {
		t.Fatalf("repeated call: ETag %q, want %q", again.Header.Get("ETag"), tag)
	}
	for _, inm := range []string{tag, `"other", ` + tag, "W/" + tag, "*"} {
		r := e.do("GET", path, "", nil, "Accept-Encoding", "identity", "If-None-Match", inm)
		if r.StatusCode != http.StatusNotModified || len(r.body) != 0 {
			t.Fatalf("If-None-Match %s: %d %q, want 304 without a body", inm, r.StatusCode, r.body)
		}
		if r.Header.Get("ETag") != tag || !hasVary(r, "Accept-Encoding") || r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("304: ETag %q Vary %q Cache-Control %q", r.Header.Get("ETag"), r.Header.Values("Vary"), r.Header.Get("Cache-Control"))
		}
	}

	// The gzipped answer is another representation with its own tag; a
	// client holding either has the content, so either gets 304.
	gz := e.do("GET", path, "", nil, "Accept-Encoding", "gzip")
	gzTag := gz.Header.Get("ETag")
	if gzTag == "" || gzTag == tag || strings.HasPrefix(gzTag, "W/") {
		t.Fatalf("gzip ETag %q, plain %q: want a different strong tag", gzTag, tag)
	}
	for _, inm := range []string{gzTag, tag} {
		r := e.do("GET", path, "", nil, "Accept-Encoding", "gzip", "If-None-Match", inm)
		if r.StatusCode != http.StatusNotModified || r.Header.Get("ETag") != gzTag {
			t.Errorf("gzip, If-None-Match %s: %d ETag %q", inm, r.StatusCode, r.Header.Get("ETag"))
		}
	}

	// A poll from the last cursor: an empty page, then 304s until a
	// session ends, then the new entry under a new tag.
	poll := path + "?since=" + *f.Cursor
	empty := e.do("GET", poll, "", nil, "Accept-Encoding", "identity")
	if len(decodeFeed(t, empty).Sessions) != 0 {
		t.Fatalf("poll from the last cursor: %s", empty.body)
	}
	emptyTag := empty.Header.Get("ETag")
	if r := e.do("GET", poll, "", nil, "Accept-Encoding", "identity", "If-None-Match", emptyTag); r.StatusCode != http.StatusNotModified {
		t.Fatalf("nothing new: %d, want 304", r.StatusCode)
	}
	tk := e.signup("etag@example.com", "pass-phrase-1")
	e.do("POST", "/v1/auth/logout", tk.Access, nil)
	r := e.do("GET", poll, "", nil, "Accept-Encoding", "identity", "If-None-Match", emptyTag)
	if g := decodeFeed(t, r); len(g.Sessions) != 1 || g.Sessions[0].SID != sidOf(t, tk.Access) {
		t.Fatalf("after a logout: %s", r.body)
	}
	if r.Header.Get("ETag") == emptyTag {
		t.Error("a new answer kept the old ETag")
	}
	// The whole feed changed too: its old tag no longer matches.
	if r := e.do("GET", path, "", nil, "Accept-Encoding", "identity", "If-None-Match", tag); r.StatusCode != http.StatusOK {
		t.Errorf("whole feed after a logout with the old tag: %d, want 200", r.StatusCode)
	}
}

func TestRevocationsFeedSecret(t *testing.T) {
	e, st := newFeedEnv(t, func(c *config.Config) { c.RevocationsSecret = config.Secret(feedSecret) })
	want := endSessions(t, st, 2)
	const path = "/v1/auth/revocations"

	for name, auth := range map[string]string{
		"no Authorization": "",
		"basic scheme":     "Basic " + feedSecret,
		"empty bearer":     "Bearer ",
		"scheme only":      "Bearer",
	} {
		var r *response
		if auth == "" {
			r = e.do("GET", path, "", nil)
		} else {
			r = e.do("GET", path, "", nil, "Authorization", auth)
		}
		t.Run(name, func(t *testing.T) { wantInvalidToken(t, r, "missing") })
	}
	for name, auth := range map[string]string{
		"wrong secret":      "Bearer feed-secret-0123456789abcdef012345678X",
		"prefix of it":      "Bearer " + feedSecret[:32],
		"longer than it":    "Bearer " + feedSecret + "x",
		"an access token":   "Bearer " + e.signup("feed@example.com", "pass-phrase-1").Access,
		"secret with junk":  "Bearer " + feedSecret + " x",
		"other case secret": "Bearer " + strings.ToUpper(feedSecret),
	} {
		r := e.do("GET", path, "", nil, "Authorization", auth)
		t.Run(name, func(t *testing.T) { wantInvalidToken(t, r, "invalid") })
	}
	// Refused before the parameters are looked at: no hint about cursors.
	wantInvalidToken(t, e.do("GET", path+"?since=garbage&limit=0", "", nil), "missing")
	r := e.do("GET", path+"?since=garbage", "", nil, "Authorization", "Bearer wrong-secret")
	wantInvalidToken(t, r, "invalid")
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("401 Cache-Control %q", r.Header.Get("Cache-Control"))
	}

	for _, auth := range []string{"Bearer " + feedSecret, "bearer " + feedSecret, "BEARER  " + feedSecret} {
		f := decodeFeed(t, e.do("GET", path, "", nil, "Authorization", auth))
		if len(f.Sessions) != 2 || f.Sessions[0].SID != want[0] {
			t.Errorf("%q: %+v", auth, f)
		}
	}
	wantError(t, e.do("GET", path+"?since=garbage", "", nil, "Authorization", "Bearer "+feedSecret), http.StatusBadRequest, "invalid_request")

	// Without the setting the feed is open, and a stray Authorization
	// header changes nothing.
	open, st2 := newFeedEnv(t, nil)
	endSessions(t, st2, 1)
	if f := decodeFeed(t, open.do("GET", path, "", nil)); len(f.Sessions) != 1 {
		t.Errorf("open feed: %+v", f)
	}
	if f := decodeFeed(t, open.do("GET", path, "", nil, "Authorization", "Bearer whatever")); len(f.Sessions) != 1 {
		t.Errorf("open feed with a bearer: %+v", f)
	}
}

// endOne stores a session whose access tokens expire at accessExp (its
// refresh token still live) and ends it.
func endOne(t *testing.T, st jot.Store, accessExp time.Time) string {
	t.Helper()
	ctx := t.Context()
	now := time.Now().UTC()
	u := jottest.StoreUser(t, st, "", now)
	s := jottest.StoreSession(t, st, u.ID, now, accessExp.UTC())
	if err := st.EndSession(ctx, s.ID, now); err != nil {
		t.Fatal(err)
	}
	return s.ID
}

// TestRevocationsFeedNeverStale asks for the same pages again after what
// they would list has changed: an entry past exp + 30 s, an ending that
// is not listed but moves the cursor, a page whose `more` no longer
// holds. Each answer is the fresh one.
func TestRevocationsFeedNeverStale(t *testing.T) {
	clk := &testClock{}
	e := newEnvAtClock(t, sqliteDSN(t), nil, clk)
	st := e.st
	long1 := endOne(t, st, time.Now().Add(time.Hour))
	long2 := endOne(t, st, time.Now().Add(time.Hour))
	// Listed until exp + 30 s: a second and a half from now.
	short := endOne(t, st, time.Now().Add(-28500*time.Millisecond))

	get := func(q string) (feedAnswer, string) {
		t.Helper()
		r := e.do("GET", "/v1/auth/revocations"+q, "", nil, "Accept-Encoding", "identity")
		return decodeFeed(t, r), r.Header.Get("ETag")
	}
	sids := func(f feedAnswer) string {
		var s []string
		for _, x := range f.Sessions {
			s = append(s, x.SID)
		}
		return strings.Join(s, ",")
	}
	all, allTag := get("")
	page, _ := get("?limit=2")
	if sids(all) != long1+","+long2+","+short || sids(page) != long1+","+long2 || !*page.More {
		t.Fatalf("before: all %s, page of 2 %s more %v", sids(all), sids(page), *page.More)
	}
	// Asked again at once: the same answer.
	if again, tag := get(""); sids(again) != sids(all) || tag != allTag {
		t.Fatalf("again: %s %s", sids(again), tag)
	}

	// An ending whose tokens have long expired is not listed, but the
	// cursor moves past it.
	endOne(t, st, time.Now().Add(-time.Hour))
	moved, movedTag := get("")
	if sids(moved) != sids(all) || *moved.Cursor == *all.Cursor || movedTag == allTag {
		t.Errorf("after an unlisted ending: %s cursor %s (was %s), tag changed %v", sids(moved), *moved.Cursor, *all.Cursor, movedTag != allTag)
	}

	clk.Advance(2 * time.Second)
	later, _ := get("")
	if sids(later) != long1+","+long2 || *later.Cursor != *moved.Cursor {
		t.Errorf("after the short one's exp + 30 s: %s cursor %s", sids(later), *later.Cursor)
	}
	if r := e.do("GET", "/v1/auth/revocations", "", nil, "Accept-Encoding", "identity", "If-None-Match", movedTag); r.StatusCode != http.StatusOK {
		t.Errorf("old tag after an entry expired: %d, want 200", r.StatusCode)
	}
	// The page of two no longer has more after it.
	if p, _ := get("?limit=2"); sids(p) != long1+","+long2 || *p.More || *p.Cursor != *moved.Cursor {
		t.Errorf("page of 2 once nothing live follows: %s more %v cursor %s", sids(p), *p.More, *p.Cursor)
	}
}
