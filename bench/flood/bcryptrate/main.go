// Command bcryptrate measures how many bcrypt comparisons one goroutine
// does per second at a given cost, and prints that rate and the bound it
// sets on logins: the rate times the number of CPUs.
package main

import (
	"flag"
	"fmt"
	"log"
	"runtime"
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
	n := 0
	start := time.Now()
	for time.Since(start) < *d {
		if err := bcrypt.CompareHashAndPassword(hash, pw); err != nil {
			log.Fatal(err)
		}
		n++
	}
	rate := float64(n) / time.Since(start).Seconds()
	fmt.Printf("single_core_rate=%.2f cpus=%d bound=%.2f\n", rate, runtime.NumCPU(), rate*float64(runtime.NumCPU()))
}
