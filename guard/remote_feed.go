package guard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

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
// failure brought stays, and the next poll goes on from there. When a
// page names the next cursor before its sessions (jot's feed does), the
// next page is asked for while this one is read, so a long feed costs
// the issuer's time and this side's side by side, not one after the other.
func (r *Remote) pollRevocations(ctx context.Context) error {
	defer r.revoked.Prune(r.now())
	since := r.cursor
	body, header, err := r.fetchPage(ctx, since, r.etagFor(since))
	for {
		var next chan fetchedPage
		if err == nil {
			if cursor, more, ok := peekFeedHead(body); ok && more && cursor != since {
				next = make(chan fetchedPage, 1)
				go func() {
					b, h, e := r.fetchPage(ctx, cursor, "")
					next <- fetchedPage{cursor, b, h, e}
				}()
			}
		}
		more, perr := r.applyPage(since, body, header, err)
		switch {
		case perr != nil || !more:
			if next != nil {
				<-next // never leave a request behind
			}
			if perr == nil {
				r.feedOK.Store(r.now().UnixNano())
			}
			return perr
		case next != nil:
			p := <-next
			if p.since == r.cursor {
				since, body, header, err = p.since, p.body, p.header, p.err
				continue
			}
		}
		since = r.cursor
		body, header, err = r.fetchPage(ctx, since, r.etagFor(since))
	}
}

// fetchedPage is a page of the feed asked for ahead of its turn.
type fetchedPage struct {
	since  string
	body   []byte
	header http.Header
	err    error
}

// etagFor is the ETag to send with a request from the cursor since: the
// last answer's, when it was for the same cursor.
func (r *Remote) etagFor(since string) string {
	if r.etag != "" && r.etagSince == since {
		return r.etag
	}
	return ""
}

// fetchPage asks for one page of the feed from the cursor since. It reads
// nothing of r but its options, so it may run beside applyPage.
func (r *Remote) fetchPage(ctx context.Context, since, etag string) ([]byte, http.Header, error) {
	u, err := url.Parse(r.opts.RevocationsURL)
	if err != nil {
		return nil, nil, fmt.Errorf("guard: remote: RevocationsURL: %w", err)
	}
	if since != "" {
		q := u.Query()
		q.Set("since", since)
		u.RawQuery = q.Encode()
	}
	// Go's transport asks for gzip and decompresses on its own; the
	// page's limit applies to what it decompresses.
	return r.get(ctx, u.String(), maxFeedPage, func(req *http.Request) {
		if r.opts.RevocationsSecret != "" {
			req.Header.Set("Authorization", "Bearer "+r.opts.RevocationsSecret)
		}
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
	})
}

// applyPage adds what a page of the feed, asked for from the cursor
// since, lists to the set, moves the cursor, and reports whether another
// page follows.
func (r *Remote) applyPage(since string, body []byte, header http.Header, err error) (bool, error) {
	if err != nil {
		var se *statusError
		switch {
		case errors.As(err, &se) && se.status == http.StatusNotModified:
			// Nothing new since the last answer from this cursor.
			return false, nil
		case errors.As(err, &se) && se.status == http.StatusBadRequest && since != "":
			// The issuer no longer knows the cursor (a restart, a new
			// database): read the whole feed again on the next poll
			// rather than stay stuck.
			r.cursor, r.etag = "", ""
		case errors.As(err, &se) && se.status == http.StatusUnauthorized:
			return false, fmt.Errorf("guard: remote: poll revocations: the issuer refused its credentials (RevocationsSecret must be its JOT_REVOCATIONS_SECRET): %w", err)
		}
		return false, fmt.Errorf("guard: remote: poll revocations: %w", err)
	}
	cursor, more, n, err := decodeFeed(body, r.revoked.AddBytes)
	if err != nil {
		return false, fmt.Errorf("guard: remote: revocations: %w", err)
	}
	if more && (cursor == since || n == 0) {
		// A page that says more but moves nowhere would be read forever.
		return false, errors.New("guard: remote: revocations: a page says more follow but does not advance the cursor")
	}
	r.etag, r.etagSince = header.Get("ETag"), since
	r.cursor = cursor
	return more, nil
}
