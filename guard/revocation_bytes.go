package guard

import "time"

// AddBytes is Add for a session id in a byte slice, which it does not
// keep: a UUID is stored as its 16 bytes without a string ever being made,
// so loading a million ended sessions allocates only the set itself.
func (s *RevocationSet) AddBytes(sessionID []byte, exp time.Time) {
	if len(sessionID) == 0 {
		return
	}
	id, isUUID := parseUUID(sessionID)
	if !isUUID {
		s.Add(string(sessionID), exp)
		return
	}
	e := expSeconds(exp.Add(max(s.Leeway, 0)))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids == nil {
		s.ids = make(map[[16]byte]uint32)
	}
	if old, ok := s.ids[id]; !ok || e > old {
		s.ids[id] = e
	}
	if n := len(s.ids) + len(s.other); n >= max(s.pruneAt, minPruneAt) {
		s.pruneLocked(time.Now())
	}
}
