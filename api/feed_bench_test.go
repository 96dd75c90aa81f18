package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/guard"
	"github.com/jotauth/jot/internal/jottest"
)

// BenchmarkRevocationFeed50k measures the revocation feed with 50,000
// ended sessions whose access tokens are still live, over loopback HTTP:
// the bytes of one full pull (every page), plain and gzip; /healthz
// latency alone and while four clients pull the feed over and over (a
// bounded loop of a few seconds); and a full pull through guard.Remote.
// It does its work once whatever b.N is: run it with -benchtime 1x. The
// numbers are in bench/README.md.
func BenchmarkRevocationFeed50k(b *testing.B) {
	const (
		users       = 1000
		perUser     = 50
		pullers     = 4
		floodFor    = 3 * time.Second
		maxPulls    = 20000
		healthProbe = 5 * time.Millisecond
	)
	cfg := jottest.Config(b)
	app, st := jottest.Start(b, cfg, nil)
	seedEnded(b, st, users, perUser)
	srv := httptest.NewServer(app)
	b.Cleanup(srv.Close)
	feedURL := srv.URL + "/v1/auth/revocations"

	// Raw bytes on the wire: compression left to the test, not the
	// transport, so that the gzip body is counted as sent.
	raw := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: pullers + 2}}
	plainBytes, sinces, entries := pullAll(b, raw, feedURL, "")
	gzipBytes, _, _ := pullAll(b, raw, feedURL, "gzip")
	pages := len(sinces)
	if entries != users*perUser {
		b.Fatalf("full pull listed %d sessions, want %d", entries, users*perUser)
	}
	b.ReportMetric(float64(plainBytes), "plain-B/pull")
	b.ReportMetric(float64(gzipBytes), "gzip-B/pull")
	b.ReportMetric(float64(pages), "pages/pull")

	probe := func(stop <-chan struct{}, n int) []time.Duration {
		var lat []time.Duration
		for i := 0; n == 0 || i < n; i++ {
			if stop != nil {
				select {
				case <-stop:
					return lat
				default:
				}
			}
			start := time.Now()
			res, err := raw.Get(srv.URL + "/healthz")
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			lat = append(lat, time.Since(start))
			time.Sleep(healthProbe) // a benchmark's pacing of real requests
		}
		return lat
	}
	alone := probe(nil, 200)
	b.ReportMetric(pct(alone, 50), "healthz-p50-µs-alone")
	b.ReportMetric(pct(alone, 99), "healthz-p99-µs-alone")

	for _, enc := range []string{"", "gzip"} {
		name := "plain"
		if enc != "" {
			name = enc
		}
		// The pullers ask for the pages the first pull found and discard
		// what comes back, so that the process's CPU goes to serving them,
		// not to decoding them.
		var pulls, wire atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range pullers {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if pulls.Add(1) > maxPulls {
						return
					}
					for _, since := range sinces {
						wire.Add(fetchDiscard(b, raw, feedURL, since, enc))
					}
				}
			})
		}
		start := time.Now()
		var under []time.Duration
		done := make(chan struct{})
		go func() { defer close(done); under = probe(stop, 0) }()
		// The probes count only while every puller is pulling.
		pullersDone := make(chan struct{})
		go func() { wg.Wait(); close(pullersDone) }()
		select {
		case <-time.After(floodFor):
		case <-pullersDone:
		}
		close(stop)
		<-done
		wg.Wait()
		secs := time.Since(start).Seconds()
		if pulls.Load() > maxPulls {
			b.Logf("%s: the pull budget ended the flood after %.1f s", name, secs)
		}
		b.ReportMetric(pct(under, 50), "healthz-p50-µs-"+name+"-flood")
		b.ReportMetric(pct(under, 99), "healthz-p99-µs-"+name+"-flood")
		b.ReportMetric(float64(min(pulls.Load(), maxPulls))/secs, name+"-pulls/s")
		b.ReportMetric(float64(wire.Load())/secs/1e6, name+"-MB/s")
	}

	// A service starting up reads the whole feed before NewRemote returns.
	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	remote, err := guard.NewRemote(ctx, guard.RemoteOptions{
		JWKSURL: srv.URL + "/.well-known/jwks.json", RevocationsURL: feedURL,
		Issuer: cfg.Issuer, Audience: cfg.Audience, PollInterval: time.Hour,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "remote-full-pull-ms")
	if !remote.Revoked(firstSID) || !remote.Revoked(lastSID) {
		b.Fatal("guard.Remote missed sessions of the feed")
	}
}

// The first and last sessions seedEnded ended.
var firstSID, lastSID string

// seedEnded stores users×perUser sessions with live access tokens and ends
// them all, straight through the store: fast enough to set up 50,000.
func seedEnded(b *testing.B, st jot.Store, users, perUser int) {
	b.Helper()
	ctx := b.Context()
	now := time.Now().UTC()
	for u := range users {
		user := jottest.StoreUser(b, st, fmt.Sprintf("feed-%d@example.com", u), now)
		for range perUser {
			s := jottest.StoreSession(b, st, user.ID, now, now.Add(time.Hour))
			if firstSID == "" {
				firstSID = s.ID
			}
			lastSID = s.ID
		}
		if err := st.EndUserSessions(ctx, user.ID, "", now); err != nil {
			b.Fatal(err)
		}
	}
}

// feedRequest asks feedURL for the page after since ("" for the first)
// in the encoding enc ("" for none).
func feedRequest(feedURL, since, enc string) *http.Request {
	u := feedURL
	if since != "" {
		u += "?since=" + url.QueryEscape(since)
	}
	req, _ := http.NewRequest("GET", u, nil)
	if enc != "" {
		req.Header.Set("Accept-Encoding", enc)
	}
	return req
}

// fetchDiscard reads one page of the feed and returns its size on the wire.
func fetchDiscard(b *testing.B, c *http.Client, feedURL, since, enc string) int64 {
	res, err := c.Do(feedRequest(feedURL, since, enc))
	if err != nil {
		b.Error(err)
		return 0
	}
	defer res.Body.Close()
	n, _ := io.Copy(io.Discard, res.Body)
	if res.StatusCode != http.StatusOK {
		b.Errorf("feed: %d", res.StatusCode)
	}
	return n
}

// pullAll reads the whole feed, page after page, asking for the encoding
// enc ("" for none), and returns the bytes received, the since of each
// page and the sessions listed.
func pullAll(b *testing.B, c *http.Client, feedURL, enc string) (n int, sinces []string, entries int) {
	since := ""
	for {
		sinces = append(sinces, since)
		res, err := c.Do(feedRequest(feedURL, since, enc))
		if err != nil {
			b.Error(err)
			return
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			b.Errorf("feed: %d %v", res.StatusCode, err)
			return
		}
		n += len(body)
		var feed struct {
			Sessions []json.RawMessage `json:"sessions"`
			Cursor   string            `json:"cursor"`
			More     bool              `json:"more"`
		}
		plain := body
		if res.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			if plain, err = io.ReadAll(zr); err != nil {
				b.Error(err)
				return
			}
		}
		if err := json.Unmarshal(plain, &feed); err != nil {
			b.Error(err)
			return
		}
		entries += len(feed.Sessions)
		if !feed.More {
			return
		}
		since = feed.Cursor
	}
}

// pct returns the p-th percentile of d in microseconds.
func pct(d []time.Duration, p int) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[(len(s)-1)*p/100].Microseconds())
}
