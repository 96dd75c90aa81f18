package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/guard"
	"github.com/jotauth/jot/token"
)

// Page sizes of the revocation feed (docs/api.md §3). A page of the largest
// size is about 600 KB of JSON, 300 KB gzipped.
const (
	defaultFeedLimit = 10000
	maxFeedLimit     = 10000
)

// feedListFor is how long the feed lists an entry past its exp (docs/api.md §3).
const feedListFor = 30 * time.Second

type revocationJSON struct {
	SID string `json:"sid"`
	Exp int64  `json:"exp"`
}

// feedPage is one answer of the feed, in the order its fields are written.
// The cursor and more come first: a client that reads them before the
// sessions can ask for the next page while it reads this one.
type feedPage struct {
	Cursor   string           `json:"cursor"`
	More     bool             `json:"more"`
	Sessions []revocationJSON `json:"sessions"`
}

// revocations is the feed of ended sessions for verifiers elsewhere. It is
// built to be polled: pages of bounded size, gzip for those who accept it,
// and a strong ETag so a poll that finds nothing new costs a 304 and no
// body.
func (s *Server) revocations(w http.ResponseWriter, r *http.Request) error {
	if len(s.opts.RevocationsSecret) > 0 {
		// Checked before the parameters, so a caller without the secret
		// learns nothing, not even whether its cursor is one.
		if reason := feedCredentials(r, s.opts.RevocationsSecret); reason != "" {
			desc := "the revocation feed needs Authorization: Bearer with its secret"
			if reason == token.ReasonInvalid {
				desc = "the revocation feed secret is wrong"
			}
			guard.WriteUnauthorized(w, realm, reason, desc)
			return nil
		}
	}
	q := r.URL.Query()
	var after int64
	if v, ok := q["since"]; ok {
		n, err := strconv.ParseInt(v[0], 10, 64)
		// Only the exact form the server writes is a cursor it issued.
		if err != nil || n < 0 || len(v) > 1 || strconv.FormatInt(n, 10) != v[0] {
			return jot.Errorf(jot.EINVALID, "since must be a cursor this server returned")
		}
		after = n
	}
	limit := defaultFeedLimit
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v[0])
		if len(v) > 1 || err != nil || n < 1 || n > maxFeedLimit {
			return jot.Errorf(jot.EINVALID, "limit must be an integer from 1 to %d", maxFeedLimit)
		}
		limit = n
	}
	key := feedKey{after, limit}
	notBefore := s.opts.Now().Add(-feedListFor)
	page := s.feed.get(key)
	if page != nil {
		ok, err := s.stillServes(r.Context(), page, notBefore)
		if err != nil {
			return err
		}
		if !ok {
			page = nil
		}
	}
	if page == nil {
		revs, cursor, more, err := s.opts.Store.Revocations(r.Context(), after, notBefore, limit)
		if err != nil {
			return err
		}
		// A cursor past the greatest Seq was never written by this server.
		if cursor < after {
			return jot.Errorf(jot.EINVALID, "since must be a cursor this server returned")
		}
		if page, err = newFeedEntry(key, revs, cursor, more); err != nil {
			return err
		}
		s.feed.put(page)
	}
	body := page.body

	// The tag names the bytes: the JSON's own for the plain answer, with a
	// suffix for the gzipped one, a different representation of the same
	// content (RFC 9110 §8.8.3). Either tag sent back means the client
	// already has this content, so either gets the 304.
	plainTag := page.tag
	gzipTag := plainTag[:len(plainTag)-1] + `-gzip"`
	gz := acceptsGzip(r.Header.Values("Accept-Encoding"))
	h := w.Header()
	h.Add("Vary", "Accept-Encoding")
	tag := plainTag
	if gz {
		tag = gzipTag
	}
	h.Set("ETag", tag)
	if noneMatch(r.Header.Values("If-None-Match"), plainTag, gzipTag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if gz {
		body = s.feed.gzipped(page)
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	return nil
}

// feedBearer finds the feed's secret: the Bearer scheme only, whatever
// other schemes access tokens may use.
var feedBearer = guard.FromAuthHeader("Bearer")

// feedCredentials returns "" when the request carries the feed's secret as
// its bearer token, and otherwise why not: missing (no Authorization, or
// another scheme) or invalid (a wrong secret).
func feedCredentials(r *http.Request, secret []byte) token.Reason {
	// Read as access tokens are: only the first Authorization header
	// counts and the scheme is matched case-insensitively.
	cred := feedBearer(r)
	if cred == "" {
		return token.ReasonMissing
	}
	// Comparing digests keeps the time independent of where the bytes
	// differ and of the secret's length.
	got, want := sha256.Sum256([]byte(cred)), sha256.Sum256(secret)
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return token.ReasonInvalid
	}
	return ""
}

// acceptsGzip reports whether Accept-Encoding allows gzip: named (or
// x-gzip) with a non-zero weight, or not named while "*" has one
// (RFC 9110 §12.5.3).
func acceptsGzip(values []string) bool {
	gzipQ, starQ := -1.0, -1.0
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(item, ";")
			q := 1.0
			for p := range strings.SplitSeq(params, ";") {
				name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(name, "q") {
					f, err := strconv.ParseFloat(value, 64)
					if err != nil || f < 0 || f > 1 {
						f = 0
					}
					q = f
				}
			}
			switch c := strings.ToLower(strings.TrimSpace(coding)); c {
			case "gzip", "x-gzip":
				gzipQ = max(gzipQ, q)
			case "*":
				starQ = max(starQ, q)
			}
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}

// noneMatch reports whether If-None-Match names one of tags, or is "*".
// The comparison is the weak one RFC 9110 §13.1.2 prescribes for this
// header: a W/ prefix is ignored.
func noneMatch(values []string, tags ...string) bool {
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			item = strings.TrimSpace(item)
			if item == "*" {
				return true
			}
			item = strings.TrimPrefix(item, "W/")
			for _, t := range tags {
				if item == t {
					return true
				}
			}
		}
	}
	return false
}

// feedCache keeps the last pages the feed served, so that clients reading
// the same pages (every service that reads the feed from the start, a
// client pulling it over and over) cost one query of a row each rather
// than a page of rows, and one compression between them. A page is served
// from the cache only while the store shows that a fresh read would give
// the same bytes: see stillServes.
type feedCache struct {
	writers sync.Pool // *gzip.Writer

	mu      sync.Mutex
	entries []*feedEntry // newest last, at most feedCacheSize
}

// feedCacheSize bounds the cache: a full page is about 600 KB of JSON and
// 300 KB gzipped, so under 8 MB in all.
const feedCacheSize = 8

// feedKey is what a page is read with; the time is checked on use.
type feedKey struct {
	after int64
	limit int
}

// feedEntry is one page as served. Only gz changes after it is made.
type feedEntry struct {
	key    feedKey
	cursor int64
	more   bool
	// minExp is the earliest exp listed; zero when none is. The page stops
	// being the answer once the feed would drop that entry.
	minExp time.Time
	body   []byte
	tag    string // of body: a strong ETag

	gzOnce sync.Once
	gz     []byte
}

func newFeedEntry(key feedKey, revs []jot.Revocation, cursor int64, more bool) (*feedEntry, error) {
	page := feedPage{Sessions: make([]revocationJSON, len(revs)), Cursor: strconv.FormatInt(cursor, 10), More: more}
	e := &feedEntry{key: key, cursor: cursor, more: more}
	for i, x := range revs {
		page.Sessions[i] = revocationJSON{SID: x.SessionID, Exp: x.Exp.Unix()}
		if e.minExp.IsZero() || x.Exp.Before(e.minExp) {
			e.minExp = x.Exp
		}
	}
	body, err := json.Marshal(page)
	if err != nil {
		return nil, err
	}
	e.body = append(body, '\n')
	sum := sha256.Sum256(e.body)
	e.tag = `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
	return e, nil
}

// stillServes reports whether page is what the store would give now, at
// the cost of reading at most one row. The rows a page lists (after its
// key, up to its cursor) never change but by expiring, since a new
// revocation always gets a greater Seq than any recorded; so the page
// holds while none of its entries has expired and what lies past its
// cursor is as it was: a live entry for a page that says more, nothing
// at all (the greatest Seq still its cursor) for the last page.
func (s *Server) stillServes(ctx context.Context, page *feedEntry, notBefore time.Time) (bool, error) {
	if !page.minExp.IsZero() && !page.minExp.After(notBefore) {
		return false, nil
	}
	next, cursor, _, err := s.opts.Store.Revocations(ctx, page.cursor, notBefore, 1)
	if err != nil {
		return false, err
	}
	if page.more {
		return len(next) > 0, nil
	}
	return len(next) == 0 && cursor == page.cursor, nil
}

func (c *feedCache) get(k feedKey) *feedEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		if e.key == k {
			return e
		}
	}
	return nil
}

// put stores e in place of any page of the same key, dropping the oldest
// page when the cache is full.
func (c *feedCache) put(e *feedEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = slices.DeleteFunc(c.entries, func(x *feedEntry) bool { return x.key == e.key })
	if len(c.entries) == feedCacheSize {
		c.entries = slices.Delete(c.entries, 0, 1)
	}
	c.entries = append(c.entries, e)
}

// gzipped returns the page compressed, compressing it on first use.
func (c *feedCache) gzipped(e *feedEntry) []byte {
	e.gzOnce.Do(func() {
		var buf bytes.Buffer
		buf.Grow(len(e.body) / 2)
		zw, _ := c.writers.Get().(*gzip.Writer)
		if zw == nil {
			zw = gzip.NewWriter(&buf)
		} else {
			zw.Reset(&buf)
		}
		_, _ = zw.Write(e.body)
		_ = zw.Close()
		c.writers.Put(zw)
		e.gz = buf.Bytes()
	})
	return e.gz
}
