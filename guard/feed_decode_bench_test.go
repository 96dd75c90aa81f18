package guard

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// feedPage is a page of the feed as jot serves it: 10,000 UUID ids.
func feedPage() []byte {
	var b strings.Builder
	b.WriteString(`{"sessions":[`)
	exp := time.Now().Add(time.Hour).Unix()
	for i := range 10_000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"sid":"%08x-0002-7000-8000-%012x","exp":%d}`, i, i, exp)
	}
	b.WriteString(`],"cursor":"10000","more":true}`)
	return []byte(b.String())
}

// BenchmarkFeedPage reads one page of 10,000 into a fresh set: as a stream
// (what Remote does) and, for comparison, decoded whole into a slice of
// structs and then added (what it did before).
func BenchmarkFeedPage(b *testing.B) {
	page := feedPage()
	b.Run("stream", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s := NewRevocationSet()
			if _, _, n, err := decodeFeed(page, s.AddBytes); err != nil || n != 10_000 {
				b.Fatal(n, err)
			}
		}
	})
	b.Run("whole", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s := NewRevocationSet()
			var feed struct {
				Sessions []struct {
					SID string  `json:"sid"`
					Exp float64 `json:"exp"`
				} `json:"sessions"`
				Cursor string `json:"cursor"`
				More   bool   `json:"more"`
			}
			if err := json.Unmarshal(page, &feed); err != nil {
				b.Fatal(err)
			}
			for _, e := range feed.Sessions {
				sec := int64(e.Exp)
				s.Add(e.SID, time.Unix(sec, int64((e.Exp-float64(sec))*1e9)))
			}
		}
	})
}
