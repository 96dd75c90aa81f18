package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
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
// writes what waits. Its timer runs on the fake clock of a synctest bubble.
func TestBatchWriter(t *testing.T) { synctest.Test(t, testBatchWriter) }

func testBatchWriter(t *testing.T) {
	var out lockedBuffer
	b := newBatchWriter(&out)
	for range 100 {
		_, _ = b.Write([]byte("line\n"))
	}
	// Nothing is written before logBatchEvery has passed; then all 100
	// lines are, in one write.
	time.Sleep(logBatchEvery - time.Millisecond)
	synctest.Wait()
	if s, writes := out.state(); writes != 0 {
		t.Fatalf("%d writes (%d bytes) before logBatchEvery passed", writes, len(s))
	}
	time.Sleep(time.Millisecond)
	synctest.Wait()
	if s, writes := out.state(); s != strings.Repeat("line\n", 100) || writes != 1 {
		t.Fatalf("after logBatchEvery: %d writes, %d of 500 bytes", writes, len(s))
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
