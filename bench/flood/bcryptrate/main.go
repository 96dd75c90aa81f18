// Command bcryptrate measures how many bcrypt comparisons one goroutine
// does per second at a given cost, and prints that rate and the bound it
// sets on logins: the rate times the number of CPUs. It also measures the
// rate of one goroutine per CPU at once, which on a shared machine shows
// how much of the CPUs the process actually got.
package main

import (
	"flag"
	"fmt"
	"log"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func main() {
	cost := flag.Int("cost", 10, "bcrypt cost")
	d := flag.Duration("d", 3*time.Second, "how long to measure")
	flag.Parse()
	pw := []byte("flood-bench-password")
	hash, err := bcrypt.GenerateFromPassword(pw, *cost)
	if err != nil {
		log.Fatal(err)
	}
	cpus := runtime.NumCPU()
	rate := measure(hash, pw, *d, 1)
	all := measure(hash, pw, *d, cpus)
	fmt.Printf("single_core_rate=%.2f cpus=%d all_cores_rate=%.2f bound=%.2f\n", rate, cpus, all, rate*float64(cpus))
}

// measure returns the comparisons per second of g goroutines together.
func measure(hash, pw []byte, d time.Duration, g int) float64 {
	var wg sync.WaitGroup
	var n atomic.Int64
	start := time.Now()
	for range g {
		wg.Go(func() {
			for time.Since(start) < d {
				if err := bcrypt.CompareHashAndPassword(hash, pw); err != nil {
					log.Fatal(err)
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}
