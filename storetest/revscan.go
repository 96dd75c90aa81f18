package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/jotauth/jot"
)

// testScanRevocations checks, for a store that implements
// jot.RevocationScanner, that scanning lists exactly what Revocations
// does, page by page, with the same cursor and more.
func testScanRevocations(t *testing.T, s jot.Store) {
	scan, ok := s.(jot.RevocationScanner)
	if !ok {
		t.Skip("the store does not implement jot.RevocationScanner")
	}
	ctx := t.Context()
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	for i := range 7 {
		created := base().Add(time.Duration(i) * time.Minute)
		if i == 2 || i == 6 {
			created = base().Add(-time.Hour) // expired before notBefore
		}
		ss, _ := mustSession(t, s, u, created)
		if err := s.EndSession(ctx, ss.ID, base().Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatalf("EndSession: %v", err)
		}
	}
	type rev struct {
		id  string
		exp time.Time
	}
	for _, notBefore := range []time.Time{{}, base()} {
		for _, limit := range []int{0, 1, 2, 3, 10} {
			var after int64
			for page := 0; ; page++ {
				revs, wantCur, wantMore, err := s.Revocations(ctx, after, notBefore, limit)
				if err != nil {
					t.Fatalf("Revocations: %v", err)
				}
				want := make([]rev, len(revs))
				for i, r := range revs {
					want[i] = rev{r.SessionID, r.Exp}
				}
				var got []rev
				cur, more, err := scan.ScanRevocations(ctx, after, notBefore, limit, func(id []byte, exp time.Time) {
					got = append(got, rev{string(id), exp})
				})
				if err != nil {
					t.Fatalf("ScanRevocations: %v", err)
				}
				if cur != wantCur || more != wantMore || len(got) != len(want) ||
					!slices.EqualFunc(got, want, func(a, b rev) bool { return a.id == b.id && a.exp.Equal(b.exp) }) {
					t.Fatalf("notBefore %v limit %d page %d: scan %v, %d, %v; Revocations %v, %d, %v",
						notBefore, limit, page, got, cur, more, want, wantCur, wantMore)
				}
				if !more {
					break
				}
				after = cur
			}
		}
	}
}
