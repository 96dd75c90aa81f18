package main

import (
	"io"
	"sync"
	"time"
)

// logBatchEvery is the longest a log line waits before it is written, and
// logBatchBytes how much waits at most before a write.
const (
	logBatchEvery = 50 * time.Millisecond
	logBatchBytes = 32 << 10
)

// batchWriter collects the server's log lines and writes them together,
// at most logBatchEvery after the first of a batch or once logBatchBytes
// wait: a busy server then makes a write system call per batch rather
// than one per request's access-log line, a few microseconds each. Close
// writes what is left; a line is lost only if the process dies within
// logBatchEvery of logging it.
type batchWriter struct {
	mu     sync.Mutex
	w      io.Writer
	buf    []byte
	timer  *time.Timer
	closed bool
}

func newBatchWriter(w io.Writer) *batchWriter { return &batchWriter{w: w} }

// Write takes p (one log line, as slog writes them) into the batch. It
// never fails: a log line that cannot be written is not the request's
// problem.
func (b *batchWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		_, _ = b.w.Write(p)
		return len(p), nil
	}
	b.buf = append(b.buf, p...)
	if len(b.buf) >= logBatchBytes {
		b.flushLocked()
	} else if b.timer == nil {
		b.timer = time.AfterFunc(logBatchEvery, b.flush)
	}
	return len(p), nil
}

func (b *batchWriter) flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
}

func (b *batchWriter) flushLocked() {
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	if len(b.buf) > 0 {
		_, _ = b.w.Write(b.buf)
		b.buf = b.buf[:0]
	}
}

// Close writes what waits; later lines are written at once.
func (b *batchWriter) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
	b.closed = true
	return nil
}
