package guard_test

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jotauth/jot/guard"
)

var farFuture = time.Now().Add(24 * time.Hour)

func TestRevocationSet(t *testing.T) {
	s := guard.NewRevocationSet()
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	s.Add("a", now.Add(time.Minute))
	s.Add("b", now.Add(2*time.Minute))
	s.Add("", now.Add(time.Hour)) // ignored: no session has an empty id
	if !s.Revoked("a") || !s.Revoked("b") || s.Revoked("c") || s.Revoked("") {
		t.Fatal("membership wrong")
	}
	if s.Len() != 2 {
		t.Fatalf("Len = %d", s.Len())
	}

	// Adding again keeps the later expiry, never the earlier.
	s.Add("a", now.Add(3*time.Minute))
	s.Add("a", now.Add(time.Second))
	if s.Len() != 2 {
		t.Fatalf("Len after re-adding = %d", s.Len())
	}

	s.Prune(now.Add(90 * time.Second))
	if !s.Revoked("a") || !s.Revoked("b") {
		t.Fatal("pruned an entry that has not expired")
	}
	s.Prune(now.Add(2*time.Minute + time.Second))
	if !s.Revoked("a") || s.Revoked("b") || s.Len() != 1 {
		t.Fatalf("after prune: a=%v b=%v len=%d", s.Revoked("a"), s.Revoked("b"), s.Len())
	}
	s.Prune(now.Add(time.Hour))
	if s.Revoked("a") || s.Len() != 0 {
		t.Fatalf("after final prune: a=%v len=%d", s.Revoked("a"), s.Len())
	}

	var zero guard.RevocationSet
	zero.Add("z", now)
	if !zero.Revoked("z") || zero.Len() != 1 {
		t.Error("zero value not usable")
	}
}

// Run with -race: readers, writers and a pruner at once, then the count
// must match the contents.
func TestRevocationSetConcurrent(t *testing.T) {
	s := guard.NewRevocationSet()
	base := time.Now()
	const writers, perWriter = 4, 500
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				id := strconv.Itoa(w*perWriter + i)
				// Even ids expire soon, odd ones late; each is added twice.
				exp := base.Add(time.Hour)
				if i%2 == 0 {
					exp = base.Add(-time.Hour)
				}
				s.Add(id, exp)
				s.Add(id, exp.Add(time.Millisecond))
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			for i := range writers * perWriter {
				s.Revoked(strconv.Itoa(i))
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			s.Prune(base)
			_ = s.Len()
		}
	})
	wg.Wait()
	s.Prune(base)

	n := 0
	for i := range writers * perWriter {
		id := strconv.Itoa(i)
		if s.Revoked(id) {
			n++
		}
		if want := i%perWriter%2 == 1; s.Revoked(id) != want {
			t.Errorf("Revoked(%s) = %v, want %v", id, !want, want)
		}
	}
	if s.Len() != n || n != writers*perWriter/2 {
		t.Errorf("Len = %d, members = %d, want %d", s.Len(), n, writers*perWriter/2)
	}
}

// revokedIDs returns ids of which the even ones are in the set, as fresh
// strings: a request's sid never shares memory with the stored one.
func revokedIDs(n int, add func(string)) []string {
	ids := make([]string, 2*n)
	for i := range ids {
		id := "0193a0c1-7d4e-7abc-8def-" + strconv.Itoa(100000000000+i)
		if i%2 == 0 {
			add(id)
		}
		ids[i] = string([]byte(id))
	}
	return ids
}

// BenchmarkRevoked measures the check every authenticated request makes,
// from all cores at once, with half hits and half misses.
func BenchmarkRevoked(b *testing.B) {
	for _, n := range []int{100, 10000} {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			s := guard.NewRevocationSet()
			ids := revokedIDs(n, func(id string) { s.Add(id, farFuture) })
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					s.Revoked(ids[i%len(ids)])
					i++
				}
			})
		})
	}
}

// BenchmarkRevokedSyncMap is the alternative RevocationSet does not use,
// kept so the choice can be measured again on other hardware.
func BenchmarkRevokedSyncMap(b *testing.B) {
	for _, n := range []int{100, 10000} {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			var m sync.Map
			ids := revokedIDs(n, func(id string) { m.Store(id, farFuture.UnixNano()) })
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					m.Load(ids[i%len(ids)])
					i++
				}
			})
		})
	}
}

func TestRevocationSetLeewayAndSelfPrune(t *testing.T) {
	s := &guard.RevocationSet{Leeway: 30 * time.Second}
	now := time.Now()
	s.Add(sidA, now.Add(-10*time.Second)) // expired, but within the leeway
	s.Prune(now)
	if !s.Revoked(sidA) {
		t.Fatal("an entry within the leeway was pruned")
	}
	s.Prune(now.Add(22 * time.Second)) // expiries are kept in whole seconds, rounded up
	if s.Revoked(sidA) {
		t.Fatal("an entry past exp + leeway was kept")
	}

	// Ids in any case and non-UUID ids are kept apart and found.
	s.Add("0B9D6A62-4C8E-4B4E-9A8E-0C3A7F1D2E01", farFuture)
	s.Add("session-7", farFuture)
	if !s.Revoked(sidA) || !s.Revoked("session-7") || s.Revoked("session-8") || s.Revoked("0b9d6a62-4c8e-4b4e-9a8e-0c3a7f1d2e02") {
		t.Fatal("membership wrong")
	}

	// A set only ever added to prunes itself: thousands of expired
	// entries leave without anyone calling Prune.
	for i := range 5000 {
		s.Add(fmt.Sprintf("%08x-0000-4000-8000-000000000000", i), now.Add(-time.Hour))
	}
	if n := s.Len(); n >= 5000 {
		t.Errorf("Len = %d after 5000 expired additions: the set did not prune itself", n)
	}
	if !s.Revoked("session-7") || !s.Revoked(sidA) {
		t.Error("self-prune dropped a live entry")
	}
}

// The memory of an ended session: at most 64 bytes each, measured on the
// heap with one million UUID session ids.
func TestRevocationSetMemoryPerEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates a million entries")
	}
	const n = 1_000_000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%08x-%04x-4000-8000-%012x", i*2654435761%(1<<32), i%65536, i)
	}
	exp := time.Now().Add(time.Hour)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := guard.NewRevocationSet()
	for _, id := range ids {
		s.Add(id, exp)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%d ended sessions: %.1f bytes each", s.Len(), per)
	if s.Len() != n {
		t.Fatalf("Len = %d", s.Len())
	}
	if per > 64 {
		t.Errorf("%.1f bytes per ended session, want at most 64", per)
	}
	runtime.KeepAlive(ids)
	runtime.KeepAlive(s)
}

// AddBytes records what Add does, and a UUID costs no allocation once the
// set has room.
func TestRevocationSetAddBytes(t *testing.T) {
	s := guard.NewRevocationSet()
	exp := time.Now().Add(time.Hour)
	const id = "0b9d6a62-4c8e-4b4e-9a8e-0c3a7f1d2e01"
	s.AddBytes([]byte(id), exp)
	s.AddBytes([]byte("not-a-uuid"), exp)
	s.AddBytes(nil, exp)
	if !s.Revoked(id) || !s.Revoked(strings.ToUpper(id)) || !s.Revoked("not-a-uuid") || s.Len() != 2 {
		t.Fatalf("after AddBytes: %v %v %d", s.Revoked(id), s.Revoked("not-a-uuid"), s.Len())
	}
	b := []byte(id)
	if n := testing.AllocsPerRun(100, func() { s.AddBytes(b, exp) }); n != 0 {
		t.Errorf("AddBytes of a UUID allocates %v times", n)
	}
}
