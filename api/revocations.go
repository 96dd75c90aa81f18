package api

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/guard"
	"github.com/jotauth/jot/token"
)

// Page sizes of the revocation feed (API.md §3). A page of the largest
// size is about 600 KB of JSON, 300 KB gzipped.
const (
	defaultFeedLimit = 10000
	maxFeedLimit     = 10000
)

// feedListFor is how long the feed lists an entry past its exp (API.md §3).
const feedListFor = 30 * time.Second

type revocationJSON struct {
	SID string `json:"sid"`
	Exp int64  `json:"exp"`
}

// feedPage is one answer of the feed, in the order its fields are written.
type feedPage struct {
	Sessions []revocationJSON `json:"sessions"`
	Cursor   string           `json:"cursor"`
	More     bool             `json:"more"`
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
			guard.WriteUnauthorized(w, "jot", reason, desc)
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
	revs, cursor, more, err := s.opts.Store.Revocations(r.Context(), after, s.opts.Now().Add(-feedListFor), limit)
	if err != nil {
		return err
	}
	// A cursor past the greatest Seq was never written by this server.
	if cursor < after {
		return jot.Errorf(jot.EINVALID, "since must be a cursor this server returned")
	}
	page := feedPage{Sessions: make([]revocationJSON, len(revs)), Cursor: strconv.FormatInt(cursor, 10), More: more}
	for i, x := range revs {
		page.Sessions[i] = revocationJSON{SID: x.SessionID, Exp: x.Exp.Unix()}
	}
	body, err := json.Marshal(page)
	if err != nil {
		return err
	}
	body = append(body, '\n')

	// The tag names the bytes: the JSON's own for the plain answer, with a
	// suffix for the gzipped one, a different representation of the same
	// content (RFC 9110 §8.8.3). Either tag sent back means the client
	// already has this content, so either gets the 304.
	sum := sha256.Sum256(body)
	plainTag := `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
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
		body = s.feedGzip.compress(plainTag, body)
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	return nil
}

// feedCredentials returns "" when the request carries the feed's secret as
// its bearer token, and otherwise why not: missing (no Authorization, or
// another scheme) or invalid (a wrong secret).
func feedCredentials(r *http.Request, secret []byte) token.Reason {
	// As for access tokens, only the first Authorization header counts and
	// the scheme is matched case-insensitively (RFC 9110 §11.1).
	scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	cred = strings.TrimLeft(cred, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || cred == "" {
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

// gzipCache compresses feed pages, keeping the last few results by the
// page's tag: clients polling the same pages (every service reading the
// feed from the start) cost one compression between them, not one each.
type gzipCache struct {
	writers sync.Pool

	mu     sync.Mutex
	recent []gzipEntry // newest last
}

type gzipEntry struct {
	tag  string
	body []byte
}

// gzipCacheSize bounds the cache: five full pages, about 1.5 MB.
const gzipCacheSize = 5

func (c *gzipCache) compress(tag string, plain []byte) []byte {
	c.mu.Lock()
	for _, e := range c.recent {
		if e.tag == tag {
			c.mu.Unlock()
			return e.body
		}
	}
	c.mu.Unlock()

	var buf bytes.Buffer
	buf.Grow(len(plain) / 2)
	zw, _ := c.writers.Get().(*gzip.Writer)
	if zw == nil {
		// Level 6 rather than BestSpeed: the ids are random, so most of the
		// gain is in the repeated JSON around them, and the result is
		// cached.
		zw, _ = gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	} else {
		zw.Reset(&buf)
	}
	_, _ = zw.Write(plain)
	_ = zw.Close()
	c.writers.Put(zw)
	out := buf.Bytes()

	c.mu.Lock()
	if len(c.recent) == gzipCacheSize {
		c.recent = append(c.recent[:0], c.recent[1:]...)
	}
	c.recent = append(c.recent, gzipEntry{tag, out})
	c.mu.Unlock()
	return out
}
