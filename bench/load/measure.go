package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// result is what the workers saw.
type result struct {
	elapsed   time.Duration
	latencies []time.Duration // every answered request, expected or not
	statuses  map[int]int     // 0 counts transport errors
	errors    int
	firstErr  error
	stopped   string
}

// measure runs the workers until n requests have started or d has passed.
// A worker checks the clock before each request rather than cancelling the
// one in flight, so every counted request is a whole one.
func measure(ctx context.Context, workers []request, n int, d time.Duration) *result {
	var (
		started atomic.Int64
		mu      sync.Mutex
		res     = &result{statuses: map[int]int{}}
		wg      sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for _, w := range workers {
		wg.Go(func() {
			// Sized for an even share of n, capped so a large -n does not
			// reserve memory a short -d will never fill.
			lat := make([]time.Duration, 0, min(n/len(workers)+1, 1<<16))
			statuses := map[int]int{}
			errs := 0
			var firstErr error
			for time.Now().Before(deadline) && started.Add(1) <= int64(n) {
				t := time.Now()
				st, err := w(ctx)
				lat = append(lat, time.Since(t))
				statuses[st]++
				if err != nil {
					errs++
					if firstErr == nil {
						firstErr = err
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			res.latencies = append(res.latencies, lat...)
			for st, k := range statuses {
				res.statuses[st] += k
			}
			res.errors += errs
			if res.firstErr == nil {
				res.firstErr = firstErr
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.stopped = "request budget"
	if len(res.latencies) < n {
		res.stopped = "time budget"
	}
	return res
}

// percentile returns the nearest-rank p-th percentile of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	k := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(k, len(sorted)-1))]
}

func (r *result) print(w io.Writer, scenario, base string, c, n int, d time.Duration) {
	slices.Sort(r.latencies)
	total := len(r.latencies)
	fmt.Fprintf(w, "scenario     %s against %s\n", scenario, base)
	fmt.Fprintf(w, "budget       %d requests or %s, %d workers; stopped by the %s\n", n, d, c, r.stopped)
	fmt.Fprintf(w, "requests     %d (%d as expected, %d errors) in %s\n", total, total-r.errors, r.errors, r.elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "throughput   %.1f requests/s\n", float64(total)/r.elapsed.Seconds())
	fmt.Fprintf(w, "latency      p50 %s  p90 %s  p99 %s  max %s\n",
		round(percentile(r.latencies, 50)), round(percentile(r.latencies, 90)),
		round(percentile(r.latencies, 99)), round(percentile(r.latencies, 100)))
	codes := make([]int, 0, len(r.statuses))
	for st := range r.statuses {
		codes = append(codes, st)
	}
	sort.Ints(codes)
	parts := make([]string, 0, len(codes))
	for _, st := range codes {
		name := fmt.Sprint(st)
		if st == 0 {
			name = "no answer (transport error or timeout)"
		}
		parts = append(parts, fmt.Sprintf("%s: %d", name, r.statuses[st]))
	}
	fmt.Fprintf(w, "statuses     %s\n", strings.Join(parts, ", "))
	if r.firstErr != nil {
		fmt.Fprintf(w, "first error  %v\n", r.firstErr)
	}
}

// round keeps three significant digits or so, enough for a latency.
func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}
