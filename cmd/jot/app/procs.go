package app

import (
	"os"
	"runtime"
	"sync"
	"time"
)

// SpareProcs lets the server raise GOMAXPROCS, while passwords are being
// hashed, to twice HashWorkers: one spare Go processor per hashing
// worker. A hash holds a Go processor while it runs on its thread of
// lowered priority; without spare processors, a request that arrives
// while every worker hashes waits for the Go scheduler to preempt a hash
// (about 10 ms), where the kernel would have given it the CPU at once.
// The spares go again once no hash has run for spareLinger, because
// more processors than CPUs cost cheap requests some throughput (about
// 8 % on 2 CPUs) when nothing hashes. Nothing changes when the GOMAXPROCS
// environment variable is set. jot serve calls it before Build; without
// it (tests, tools), GOMAXPROCS is left alone.
func SpareProcs() {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	spare.mu.Lock()
	defer spare.mu.Unlock()
	spare.base = HashWorkers()
}

// spareLinger is how long the spare processors stay after the last hash.
const spareLinger = time.Second

// spare is the process's one record of the spare processors: GOMAXPROCS
// is the process's, whichever pool hashes.
var spare spareProcs

type spareProcs struct {
	mu      sync.Mutex
	base    int // GOMAXPROCS without spares; 0 until SpareProcs
	running int // hashes running now, in every pool
	raised  bool
	timer   *time.Timer
}

// hashing is the pools' OnActive: the first hash raises GOMAXPROCS, and
// the last one to end schedules its return.
func (s *spareProcs) hashing(start bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.base == 0 {
		return
	}
	if start {
		s.running++
		if s.timer != nil {
			s.timer.Stop()
			s.timer = nil
		}
		if !s.raised {
			runtime.GOMAXPROCS(2 * s.base)
			s.raised = true
		}
		return
	}
	s.running--
	if s.running == 0 && s.raised && s.timer == nil {
		s.timer = time.AfterFunc(spareLinger, s.lower)
	}
}

func (s *spareProcs) lower() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timer = nil
	if s.running == 0 && s.raised {
		runtime.GOMAXPROCS(s.base)
		s.raised = false
	}
}
