package password

import (
	"context"
	"errors"
	"sync/atomic"
)

// ErrBusy is returned by Hash, Verify and VerifyDummy when ctx ends before a
// worker is free. The caller should answer 503 (or 429): the server is
// saturated with hashing, not broken.
var ErrBusy = errors.New("password: all hashing workers busy")

// pool bounds how many hashes run at once. Hashing is CPU-bound by design,
// so more concurrent hashes than cores only make every one of them slower
// and take the CPU from cheap requests such as token verification.
type pool struct {
	slots chan struct{}
	n     atomic.Int64
}

func newPool(workers int) *pool {
	return &pool{slots: make(chan struct{}, workers)}
}

// run runs fn once a worker is free, or returns ErrBusy when ctx ends first.
// A ctx that has already ended gets ErrBusy even if a worker is free, so a
// request whose client has gone never starts a hash.
func (p *pool) run(ctx context.Context, fn func()) error {
	if p == nil {
		panic("password: Hasher used without New")
	}
	p.n.Add(1)
	defer p.n.Add(-1)
	if ctx.Err() != nil {
		return ErrBusy
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return ErrBusy
	}
	defer func() { <-p.slots }()
	fn()
	return nil
}

func (p *pool) pending() int { return int(p.n.Load()) }
