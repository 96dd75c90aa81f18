package guard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// revocationFeed is the body of GET /v1/auth/revocations.
// Its sessions are read by decodeFeed as they come, never kept as a slice.
type revocationFeed struct {
	Cursor string `json:"cursor"`
	// More says another page follows at once.
	More bool `json:"more"`
}

// pollFeed is one poll of the follower, logged when the feed fails and
// when it recovers, not at every poll of an outage.
func (r *Remote) pollFeed() {
	if r.opts.RevocationsURL == "" {
		r.revoked.Prune(r.now())
		return
	}
	err := r.pollRevocations(r.ctx)
	switch {
	case err != nil && !r.feedFailing && r.ctx.Err() == nil:
		r.feedFailing = true
		if r.opts.MaxStale > 0 {
			r.log.Warn("guard: revocation feed unavailable; tokens are refused with 503 if it stays silent for MaxStale", "max_stale", r.opts.MaxStale.String(), "err", err)
		} else {
			r.log.Warn("guard: revocation feed unavailable; sessions ended meanwhile are accepted until it answers", "err", err)
		}
	case err == nil && r.feedFailing:
		r.feedFailing = false
		r.staleLogged.Store(false)
		r.log.Info("guard: revocation feed answers again")
	}
}

// logStale logs, once an outage, that tokens are now refused.
func (r *Remote) logStale() {
	if r.staleLogged.CompareAndSwap(false, true) {
		r.log.Error("guard: revocation feed silent for longer than MaxStale; refusing tokens with 503", "max_stale", r.opts.MaxStale.String())
	}
}

// pollRevocations reads the feed since the last cursor, page after page
// until the issuer says no more follow. What the pages read before a
// failure brought stays, and the next poll goes on from there.
func (r *Remote) pollRevocations(ctx context.Context) error {
	defer r.revoked.Prune(r.now())
	for {
		more, err := r.pollPage(ctx)
		if err != nil {
			return err
		}
		if !more {
			r.feedOK.Store(r.now().UnixNano())
			return nil
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
