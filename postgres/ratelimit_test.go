package postgres

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The shared attempt buckets: atomic takes under concurrency, refunds up
// to the size, refill with time, and sweeping of idle buckets.
func TestAttemptBuckets(t *testing.T) {
	db := openMigrated(t)
	ctx := t.Context()
	now := time.Unix(1_800_000_000, 0)
	key := []byte("203.0.113.7")

	var taken atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, _, err := db.TakeAttempt(ctx, "login-net", key, 5, time.Minute, now)
			if err != nil {
				t.Error(err)
			}
			if ok {
				taken.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := taken.Load(); n != 5 {
		t.Fatalf("%d of 20 concurrent takes from a bucket of 5 succeeded", n)
	}
	if ok, tokens, err := db.TakeAttempt(ctx, "login-net", key, 5, time.Minute, now); ok || err != nil || tokens != 0 {
		t.Fatalf("empty bucket: ok=%v tokens=%v err=%v", ok, tokens, err)
	}
	// Another kind, or another key, is another bucket.
	if ok, _, _ := db.TakeAttempt(ctx, "signup-net", key, 5, time.Minute, now); !ok {
		t.Fatal("another kind shares the bucket")
	}
	if err := db.RefundAttempt(ctx, "login-net", key, 5); err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := db.TakeAttempt(ctx, "login-net", key, 5, time.Minute, now); !ok {
		t.Fatal("a refunded attempt cannot be taken")
	}
	// One token comes back every 12 s; a clock behind adds none.
	if ok, _, _ := db.TakeAttempt(ctx, "login-net", key, 5, time.Minute, now.Add(-time.Hour)); ok {
		t.Fatal("a clock behind refilled the bucket")
	}
	if ok, _, _ := db.TakeAttempt(ctx, "login-net", key, 5, time.Minute, now.Add(12*time.Second)); !ok {
		t.Fatal("not refilled after 12 s")
	}
	for i := 0; i < 10; i++ {
		if err := db.RefundAttempt(ctx, "login-net", key, 5); err != nil {
			t.Fatal(err)
		}
	}
	// Full: 5 takes, not 15.
	for i := 0; i < 6; i++ {
		ok, _, _ := db.TakeAttempt(ctx, "login-net", key, 5, time.Minute, now.Add(12*time.Second))
		if ok != (i < 5) {
			t.Fatalf("take %d after refunds: ok=%v", i, ok)
		}
	}
	if err := db.SweepAttempts(ctx, "login-net", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := db.TakeAttempt(ctx, "login-net", key, 5, time.Minute, now.Add(12*time.Second)); !ok {
		t.Fatal("a swept bucket is not full again")
	}
}
