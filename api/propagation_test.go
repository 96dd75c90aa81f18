package api_test

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/jotauth/jot/token"
)

// TestMeasureRotatePropagation writes down how long a `jot keys rotate
// --now` takes to reach the other instances (no traffic to help it): run
// with JOT_MEASURE=1 and JOT_TEST_POSTGRES_URL set.
func TestMeasureRotatePropagation(t *testing.T) {
	if os.Getenv("JOT_MEASURE") == "" {
		t.Skip("a measurement: set JOT_MEASURE=1 to run it")
	}
	dsn := postgresSchema(t)
	envs := []*env{newEnvAt(t, dsn, nil), newEnvAt(t, dsn, nil), newEnvAt(t, dsn, nil)}
	cli := openStore(t, dsn)
	var delays []time.Duration
	for range 20 {
		// A measurement of real propagation: the pause lets the last
		// rotation's reloads settle before the next is timed.
		time.Sleep(100 * time.Millisecond)
		began := time.Now()
		k, err := token.Rotate(context.Background(), cli, token.AlgES256, 0, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range envs {
			deadline := time.Now().Add(10 * time.Second)
			for e.app.Keyring.KeySet().Signing().ID != k.KID {
				if time.Now().After(deadline) {
					t.Fatal("rotation not picked up in 10 s")
				}
				time.Sleep(200 * time.Microsecond) // polls the real NOTIFY and reload
			}
		}
		delays = append(delays, time.Since(began))
	}
	slices.Sort(delays)
	t.Logf("rotate --now to all three instances, 20 runs: min %v, median %v, max %v",
		delays[0].Round(100*time.Microsecond), delays[len(delays)/2].Round(100*time.Microsecond), delays[len(delays)-1].Round(100*time.Microsecond))
}
