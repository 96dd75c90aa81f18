// Package testlog is a log sink for tests: goroutines of the code under
// test write to it while the test reads it. It imports nothing of jot's,
// so that the tests of every package (token and password included) can
// use it.
package testlog

import (
	"bytes"
	"log/slog"
	"sync"
)

// Buffer collects log output; it is safe for concurrent use. The zero
// value is ready.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what has been written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Text returns a logger that writes text lines to b.
func (b *Buffer) Text() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }
