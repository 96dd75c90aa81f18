package guard

import (
	"sync"
	"time"
)

// RevocationSet is an in-memory set of sessions that have ended but whose
// access tokens have not yet expired: the protected path's only "is this
// session still live?" check, so that check needs no database. Entries
// leave by Prune once the last token they could match has expired. The
// zero value is an empty set ready to use; a nil *RevocationSet holds
// nothing, so passing one as a RevocationChecker means "no revocations"
// rather than a panic.
//
// It is a map behind a RWMutex rather than a sync.Map, on measurement
// (BenchmarkRevoked against BenchmarkRevokedSyncMap): a sync.Map lookup
// chases pointers through a trie and compares boxed keys, and was slower
// at every size tried, 100 to 10,000 ended sessions, on one and two cores.
// A RWMutex's reader count is a shared cache line, so re-measure on a many
// core machine before worrying about it.
type RevocationSet struct {
	mu sync.RWMutex
	m  map[string]int64 // session id → expiry, Unix nanoseconds
}

// NewRevocationSet returns an empty set.
func NewRevocationSet() *RevocationSet { return &RevocationSet{} }

// Add records that sessionID has ended. The entry is kept until exp, so exp
// must already include the verifier's leeway. Adding a session again keeps
// the later expiry.
func (s *RevocationSet) Add(sessionID string, exp time.Time) {
	if sessionID == "" {
		return
	}
	e := exp.UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string]int64)
	}
	if old, ok := s.m[sessionID]; !ok || e > old {
		s.m[sessionID] = e
	}
}

// Revoked reports whether sessionID has ended. It is safe for concurrent
// use. An entry past its expiry that Prune has not yet dropped still
// answers true, which is harmless: its tokens have expired, and not
// reading the clock keeps the check cheap.
func (s *RevocationSet) Revoked(sessionID string) bool {
	if s == nil {
		return false
	}
	s.mu.RLock()
	_, ok := s.m[sessionID]
	s.mu.RUnlock()
	return ok
}

// Prune drops the entries whose expiry is before now.
func (s *RevocationSet) Prune(now time.Time) {
	t := now.UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, exp := range s.m {
		if exp < t {
			delete(s.m, id)
		}
	}
}

// Len returns the number of sessions in the set.
func (s *RevocationSet) Len() int {
	if s == nil {
		return 0
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}
