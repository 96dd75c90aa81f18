package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the batch writer's timer.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuffer) state() (string, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String(), l.writes
}

// TestBatchWriter: lines are written together, none is lost, a batch
// waits at most logBatchEvery, a full batch goes at once, and Close
// writes what waits.
func TestBatchWriter(t *testing.T) {
	var out lockedBuffer
	b := newBatchWriter(&out)
	for range 100 {
		_, _ = b.Write([]byte("line\n"))
	}
	// Lines reach the writer in few writes (one, unless the machine
	// stalled for a whole batch interval in the loop), and none is lost.
	deadline := time.Now().Add(5 * time.Second)
	for {
		s, writes := out.state()
		if s == strings.Repeat("line\n", 100) {
			if writes > 3 {
				t.Fatalf("%d writes for 100 lines, want them batched", writes)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s, %d of 500 bytes written", len(s))
		}
		time.Sleep(5 * time.Millisecond)
	}
	_, before := out.state()
	big := bytes.Repeat([]byte("x"), logBatchBytes)
	_, _ = b.Write(big)
	if s, writes := out.state(); len(s) != 500+logBatchBytes || writes != before+1 {
		t.Fatalf("a full batch waited: %d writes, %d bytes", writes, len(s))
	}
	_, _ = b.Write([]byte("last\n"))
	_ = b.Close()
	if s, _ := out.state(); !strings.HasSuffix(s, "last\n") {
		t.Fatal("Close did not write what waited")
	}
	_, _ = b.Write([]byte("after\n"))
	if s, _ := out.state(); !strings.HasSuffix(s, "after\n") {
		t.Fatal("a line after Close waited")
	}
}
