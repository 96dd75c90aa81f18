package api

import (
	"context"
	"math"
	"sync"
	"time"
)

// accountCeilingFactor sets the per-account budget across all client
// networks: this many times JOT_LOGIN_RATE (100 a minute at the default
// 10/m). The per-account budget is kept per client network, so failures from
// one network never lock the owner out elsewhere; this looser ceiling is
// what still slows guessing spread over many networks (a botnet), at the
// price that such a flood, and only such a flood, can make the owner wait.
const accountCeilingFactor = 10

// budget is a set of attempt buckets keyed by a string (a client network,
// an account, or both): take before an attempt runs, refund when it turns
// out not to count. In one process it is a limiter; over PostgreSQL the
// buckets live in the database, so every instance draws on the same ones.
type budget interface {
	// take takes one attempt from key's bucket. When none is left it
	// reports false and how many seconds until one is.
	take(ctx context.Context, key string) (ok bool, after int, err error)
	// refund gives back an attempt that take took.
	refund(ctx context.Context, key string)
}

// memBudget is a budget kept in this process.
type memBudget struct{ l *limiter }

func (m memBudget) take(_ context.Context, key string) (bool, int, error) {
	ok, after := m.l.take(key)
	return ok, after, nil
}

func (m memBudget) refund(_ context.Context, key string) { m.l.refund(key) }

// bucketStore is a store that keeps token buckets shared by every instance
// over it (PostgreSQL). TakeAttempt refills the bucket (kind, key) of n
// tokens per `per` to now and takes one when there is one, in one atomic
// statement, and reports whether it did and the tokens left; RefundAttempt
// gives one back, up to n; SweepAttempts deletes the buckets of kind idle
// since before `idle` (full again, so they carry nothing).
type bucketStore interface {
	TakeAttempt(ctx context.Context, kind string, key []byte, n float64, per time.Duration, now time.Time) (bool, float64, error)
	RefundAttempt(ctx context.Context, kind string, key []byte, n float64) error
	SweepAttempts(ctx context.Context, kind string, idle time.Time) error
}

// sharedBudget is a budget kept in the database, shared by every instance.
type sharedBudget struct {
	st   bucketStore
	kind string
	n    float64
	per  time.Duration
	now  func() time.Time

	mu    sync.Mutex
	swept time.Time
}

func newSharedBudget(st bucketStore, kind string, n int, per time.Duration, now func() time.Time) *sharedBudget {
	return &sharedBudget{st: st, kind: kind, n: float64(n), per: per, now: now}
}

func (b *sharedBudget) take(ctx context.Context, key string) (bool, int, error) {
	now := b.now()
	b.mu.Lock()
	sweep := now.Sub(b.swept) > b.per
	if sweep {
		b.swept = now
	}
	b.mu.Unlock()
	if sweep {
		// A bucket untouched for `per` is full: dropping it bounds the
		// table as the in-process limiter bounds its map.
		if err := b.st.SweepAttempts(ctx, b.kind, now.Add(-b.per)); err != nil {
			return false, 0, err
		}
	}
	ok, tokens, err := b.st.TakeAttempt(ctx, b.kind, []byte(key), b.n, b.per, now)
	if err != nil || ok {
		return ok, 0, err
	}
	wait := (1 - tokens) * float64(b.per) / b.n
	return false, int(math.Ceil(time.Duration(wait).Seconds())), nil
}

func (b *sharedBudget) refund(ctx context.Context, key string) {
	// A refund that fails leaves the attempt counted: the safe side.
	_ = b.st.RefundAttempt(ctx, b.kind, []byte(key), b.n)
}

// newBudget returns a budget of n attempts per `per`: shared through the
// store when it keeps buckets, else in this process.
func (s *Server) newBudget(kind string, n int, per time.Duration) budget {
	if st, ok := s.opts.Store.(bucketStore); ok {
		return newSharedBudget(st, kind, n, per, s.opts.Now)
	}
	return memBudget{newLimiter(n, per, s.opts.Now)}
}

// draw is one bucket an attempt draws on.
type draw struct {
	b   budget
	key string
}

// takeAll takes one attempt from each bucket in order. When one has none
// left, those already taken are given back (the attempt never ran) and the
// answer is 429.
func takeAll(ctx context.Context, draws []draw) error {
	for i, d := range draws {
		ok, after, err := d.b.take(ctx, d.key)
		if err == nil && ok {
			continue
		}
		refundAll(ctx, draws[:i])
		if err != nil {
			return err
		}
		return tooMany(after)
	}
	return nil
}

// refundAll gives back an attempt to each bucket. It runs on past the
// request's context: a refund the caller decided on is not lost because the
// client hung up.
func refundAll(ctx context.Context, draws []draw) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	for _, d := range draws {
		d.b.refund(ctx, d.key)
	}
}
