package mail

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jotauth/jot"
)

// Worker sends the outbox: it claims due mails from the store, renders and
// sends each, removes it once sent, and otherwise makes it due again after
// a backoff that doubles with every attempt, until the mail's ExpiresAt
// (the end of JOT_MAIL_RETRY_FOR, or its token's expiry) when it is given
// up. Requests never wait for it: an SMTP outage delays mail, it fails no
// request and loses nothing.
type Worker struct {
	Store     jot.MailStore
	Sender    Sender
	Templates *Templates
	// From is the sender address (JOT_MAIL_FROM).
	From string
	Log  *slog.Logger
	Now  func() time.Time
	// Poll is how often the outbox is checked when nothing wakes the
	// worker (default 5s): mails queued by other instances or retries.
	Poll time.Duration
	// Backoff is the first retry delay (default 10s); it doubles up to
	// MaxBackoff (default 10m).
	Backoff, MaxBackoff time.Duration
	// Lease is how long a claimed mail is held by this worker before
	// another may take it (default 2m, well above one send's timeout).
	Lease time.Duration
	// Batch is how many mails one claim takes (default 10).
	Batch int

	wake chan struct{}
}

func (w *Worker) defaults() {
	if w.Now == nil {
		w.Now = func() time.Time { return time.Now().UTC() }
	}
	if w.Log == nil {
		w.Log = slog.New(slog.DiscardHandler)
	}
	if w.Poll <= 0 {
		w.Poll = 5 * time.Second
	}
	if w.Backoff <= 0 {
		w.Backoff = 10 * time.Second
	}
	if w.MaxBackoff <= 0 {
		w.MaxBackoff = 10 * time.Minute
	}
	if w.Lease <= 0 {
		w.Lease = 2 * time.Minute
	}
	if w.Batch <= 0 {
		w.Batch = 10
	}
}

// NewWorker returns a worker with its defaults filled in.
func NewWorker(w Worker) *Worker {
	w.defaults()
	w.wake = make(chan struct{}, 1)
	return &w
}

// Wake asks the worker to look at the outbox now: a request has just
// queued a mail.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run sends mail until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.Poll)
	defer t.Stop()
	lastPrune := time.Time{}
	for {
		if now := w.Now(); now.Sub(lastPrune) > time.Minute {
			if err := w.Store.PruneMail(ctx, now); err != nil && ctx.Err() == nil {
				w.Log.Warn("mail prune failed", "err", err)
			}
			lastPrune = now
		}
		for {
			n, err := w.RunOnce(ctx)
			if err != nil && ctx.Err() == nil {
				w.Log.Warn("outbox claim failed", "err", err)
			}
			if err != nil || n < w.Batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.wake:
		}
	}
}

// RunOnce claims one batch of due mails and sends them; it returns how
// many it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	mails, err := w.Store.ClaimMail(ctx, w.Now(), w.Lease, w.Batch)
	if err != nil {
		return 0, err
	}
	for _, m := range mails {
		w.send(ctx, m)
	}
	return len(mails), nil
}

func (w *Worker) send(ctx context.Context, m *jot.Mail) {
	subject, text, html, err := w.Templates.Render(m.Kind, m.Data)
	if err == nil {
		err = w.Sender.Send(ctx, &Message{ID: m.ID, From: w.From, To: m.To, Subject: subject, Text: text, HTML: html, Link: m.Data["link"]})
	}
	if err == nil {
		if err := w.Store.MailSent(ctx, m.ID); err != nil {
			// Sent, but still queued: it goes again once the lease runs
			// out. Rare, and better than a lost mail.
			w.Log.Error("mail sent but not removed from the outbox", "mail_id", m.ID, "err", err)
			return
		}
		w.Log.Info("mail sent", "mail_id", m.ID, "kind", m.Kind, "attempt", m.Attempts)
		return
	}
	now := w.Now()
	next := now.Add(w.backoff(m.Attempts))
	if !next.Before(m.ExpiresAt) {
		w.Log.Error("mail given up", "mail_id", m.ID, "kind", m.Kind, "attempts", m.Attempts, "err", err)
		if err := w.Store.MailSent(ctx, m.ID); err != nil {
			w.Log.Warn("mail not removed", "mail_id", m.ID, "err", err)
		}
		return
	}
	w.Log.Warn("mail not sent, will retry", "mail_id", m.ID, "kind", m.Kind, "attempt", m.Attempts, "retry_at", next, "err", err)
	if err := w.Store.RetryMail(ctx, m.ID, next); err != nil && ctx.Err() == nil {
		// The lease brings it back all the same.
		w.Log.Warn("mail retry not saved", "mail_id", m.ID, "err", err)
	}
}

// backoff is the delay after the attempt-th failure: Backoff doubled per
// attempt, at most MaxBackoff, less up to a fifth at random so instances
// that failed together do not retry together.
func (w *Worker) backoff(attempt int) time.Duration {
	d := w.Backoff
	for i := 1; i < attempt && d < w.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, w.MaxBackoff)
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}
