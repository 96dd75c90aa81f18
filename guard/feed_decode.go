package guard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// decodeFeed reads one page of the revocation feed (the body of GET
// /v1/auth/revocations) and hands every ended session to add as it goes:
// no slice of the page's entries and, for ids of up to 36 plain bytes (a
// UUID), no string per entry, so a full pull of a million costs the set's
// own memory and little more. Fields it does not know are skipped, and
// names match in any case, as json.Unmarshal would. On a malformed page it
// returns an error after having added what came before the fault: extra
// ended sessions only refuse tokens, and the cursor does not move.
func decodeFeed(body []byte, add func(sid []byte, exp time.Time)) (cursor string, more bool, n int, err error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := wantDelim(dec, '{'); err != nil {
		return "", false, 0, err
	}
	var e feedEntry
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", false, n, err
		}
		key, _ := tok.(string)
		switch {
		case strings.EqualFold(key, "sessions"):
			if t, err := dec.Token(); err != nil {
				return "", false, n, err
			} else if t == nil {
				continue // null: no sessions
			} else if d, ok := t.(json.Delim); !ok || d != '[' {
				return "", false, n, fmt.Errorf("sessions: want an array, got %v", t)
			}
			for dec.More() {
				e = feedEntry{}
				if err := dec.Decode(&e); err != nil {
					return "", false, n, err
				}
				sec := int64(e.Exp)
				exp := time.Unix(sec, int64((e.Exp-float64(sec))*1e9))
				add(e.SID.bytes(), exp)
				n++
			}
			if err := wantDelim(dec, ']'); err != nil {
				return "", false, n, err
			}
		case strings.EqualFold(key, "cursor"):
			if err := dec.Decode(&cursor); err != nil {
				return "", false, n, err
			}
		case strings.EqualFold(key, "more"):
			if err := dec.Decode(&more); err != nil {
				return "", false, n, err
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return "", false, n, err
			}
		}
	}
	if err := wantDelim(dec, '}'); err != nil {
		return "", false, n, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", false, n, errors.New("data after the page")
	}
	return cursor, more, n, nil
}

// peekFeedHead reads a feed page's cursor and more when both come before
// its sessions, as jot writes them, without reading the sessions; ok is
// false when they do not (any order is valid JSON: the page is then read
// whole before the next is asked for).
func peekFeedHead(body []byte) (cursor string, more, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if wantDelim(dec, '{') != nil {
		return "", false, false
	}
	var haveCursor, haveMore bool
	for dec.More() && !(haveCursor && haveMore) {
		tok, err := dec.Token()
		if err != nil {
			return "", false, false
		}
		key, _ := tok.(string)
		switch {
		case strings.EqualFold(key, "cursor"):
			haveCursor = dec.Decode(&cursor) == nil
		case strings.EqualFold(key, "more"):
			haveMore = dec.Decode(&more) == nil
		default:
			return "", false, false
		}
		if !haveCursor && !haveMore {
			return "", false, false
		}
	}
	return cursor, more, haveCursor && haveMore
}

func wantDelim(dec *json.Decoder, want json.Delim) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := t.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %q, got %v", want, t)
	}
	return nil
}

// feedEntry is one ended session of the feed.
type feedEntry struct {
	SID feedSID `json:"sid"`
	Exp float64 `json:"exp"` // NumericDate: seconds, possibly fractional
}

// feedSID is a session id, copied into buf when it is a plain string of
// up to 36 bytes (a UUID), so that reading it allocates nothing.
type feedSID struct {
	buf [36]byte
	n   int
	s   string // a longer id, or one with escapes
}

func (f *feedSID) UnmarshalJSON(b []byte) error {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && len(b)-2 <= len(f.buf) && bytes.IndexByte(b, '\\') < 0 {
		f.n = copy(f.buf[:], b[1:len(b)-1])
		return nil
	}
	return json.Unmarshal(b, &f.s)
}

func (f *feedSID) bytes() []byte {
	if f.s != "" {
		return []byte(f.s)
	}
	return f.buf[:f.n]
}
