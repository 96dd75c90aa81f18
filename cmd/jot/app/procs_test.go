package app

import (
	"runtime"
	"testing"
	"testing/synctest"
	"time"
)

func TestSpareProcsFollowHashing(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(before) })
	synctest.Test(t, func(t *testing.T) {
		s := &spareProcs{}
		s.hashing(true)
		if n := runtime.GOMAXPROCS(0); n != before {
			t.Fatalf("without SpareProcs: GOMAXPROCS %d, want it left at %d", n, before)
		}
		s.hashing(false)

		s.base = 3
		want := func(n int, when string) {
			t.Helper()
			if got := runtime.GOMAXPROCS(0); got != n {
				t.Errorf("%s: GOMAXPROCS %d, want %d", when, got, n)
			}
		}
		s.hashing(true)
		want(6, "one hash running")
		s.hashing(true)
		s.hashing(false)
		want(6, "one of two hashes ended")
		s.hashing(false)
		time.Sleep(spareLinger - time.Millisecond)
		want(6, "just before the linger ends")
		// A hash in the linger keeps the spares, and its end starts the
		// linger again.
		s.hashing(true)
		time.Sleep(time.Hour)
		want(6, "while a hash runs")
		s.hashing(false)
		time.Sleep(spareLinger + time.Millisecond)
		want(3, "after the linger")
		// Calls that interleave out of order (an end before the start it
		// pairs with) leave the count right.
		s.hashing(true)
		s.hashing(false)
		s.hashing(true)
		time.Sleep(2 * spareLinger)
		want(6, "a hash still running")
		s.hashing(false)
		time.Sleep(2 * spareLinger)
		want(3, "all ended")
	})
}
