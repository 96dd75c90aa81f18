package guard

import (
	"math"
	"sync"
	"time"
)

// RevocationSet is an in-memory set of sessions that have ended but whose
// access tokens have not yet expired: the protected path's only "is this
// session still live?" check, so that check needs no database. The zero
// value is an empty set ready to use; a nil *RevocationSet holds nothing,
// so passing one as a RevocationChecker means "no revocations" rather than
// a panic.
//
// It is compact, because a busy issuer can have a million sessions ended
// within one access-token lifetime: a session id in the canonical UUID
// form (jot's) is kept as its 16 bytes with a 4-byte expiry in whole
// seconds, 24 to 48 bytes an entry in all. Other ids are kept as strings.
//
// Entries leave once the last token they could match has expired (with
// Leeway): by Prune, and by Add itself whenever the set has doubled since
// it last pruned, so a set that is only ever added to stays within twice
// its live size.
//
// It is a map behind a RWMutex rather than a sync.Map, on measurement
// (BenchmarkRevoked against BenchmarkRevokedSyncMap): a sync.Map lookup
// chases pointers through a trie and compares boxed keys, and was slower
// at every size tried, 100 to 10,000 ended sessions, on one and two cores.
// A RWMutex's reader count is a shared cache line, so re-measure on a many
// core machine before worrying about it.
type RevocationSet struct {
	// Leeway is added to every expiry given to Add: the clock skew the
	// verifier allows on exp, so that a token it still accepts is still
	// refused here. Set it before the first Add.
	Leeway time.Duration

	mu      sync.RWMutex
	ids     map[[16]byte]uint32 // UUID session id → expiry, Unix seconds rounded up
	other   map[string]uint32   // any other session id → expiry
	pruneAt int                 // Add prunes when the set reaches this size
}

// minPruneAt is the size below which Add never prunes by itself.
const minPruneAt = 1024

// NewRevocationSet returns an empty set.
func NewRevocationSet() *RevocationSet { return &RevocationSet{} }

// Add records that sessionID has ended; exp is the expiry of the last
// access token the session could have, to which Leeway is added. Adding a
// session again keeps the later expiry.
func (s *RevocationSet) Add(sessionID string, exp time.Time) {
	if sessionID == "" {
		return
	}
	e := expSeconds(exp.Add(max(s.Leeway, 0)))
	id, isUUID := parseUUID(sessionID)
	s.mu.Lock()
	defer s.mu.Unlock()
	if isUUID {
		if s.ids == nil {
			s.ids = make(map[[16]byte]uint32)
		}
		if old, ok := s.ids[id]; !ok || e > old {
			s.ids[id] = e
		}
	} else {
		if s.other == nil {
			s.other = make(map[string]uint32)
		}
		if old, ok := s.other[sessionID]; !ok || e > old {
			s.other[sessionID] = e
		}
	}
	if n := len(s.ids) + len(s.other); n >= max(s.pruneAt, minPruneAt) {
		s.pruneLocked(time.Now())
	}
}

// expSeconds is t in whole Unix seconds, rounded up so an entry never
// leaves before its token expires, within uint32 (which lasts until 2106).
func expSeconds(t time.Time) uint32 {
	sec := t.Unix()
	if t.Nanosecond() > 0 {
		sec++
	}
	return uint32(min(max(sec, 0), math.MaxUint32))
}

// Revoked reports whether sessionID has ended. It is safe for concurrent
// use. An entry past its expiry that Prune has not yet dropped still
// answers true, which is harmless: its tokens have expired, and not
// reading the clock keeps the check cheap.
func (s *RevocationSet) Revoked(sessionID string) bool {
	if s == nil {
		return false
	}
	var ok bool
	id, isUUID := parseUUID(sessionID)
	s.mu.RLock()
	if isUUID {
		_, ok = s.ids[id]
	} else {
		_, ok = s.other[sessionID]
	}
	s.mu.RUnlock()
	return ok
}

// Prune drops the entries whose expiry is before now.
func (s *RevocationSet) Prune(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(now)
}

func (s *RevocationSet) pruneLocked(now time.Time) {
	t := now.Unix()
	for id, exp := range s.ids {
		if int64(exp) < t {
			delete(s.ids, id)
		}
	}
	for id, exp := range s.other {
		if int64(exp) < t {
			delete(s.other, id)
		}
	}
	s.pruneAt = 2 * (len(s.ids) + len(s.other))
}

// Len returns the number of sessions in the set.
func (s *RevocationSet) Len() int {
	if s == nil {
		return 0
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.ids) + len(s.other)
}

// parseUUID reads the canonical 36-character form of a UUID, in either
// case; ok is false for anything else, which the set keeps as a string.
func parseUUID[T string | []byte](s T) (id [16]byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return id, false
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
			continue
		}
		hi, ok1 := unhex(s[i])
		lo, ok2 := unhex(s[i+1])
		if !ok1 || !ok2 {
			return id, false
		}
		id[j] = hi<<4 | lo
		j++
		i += 2
	}
	return id, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
