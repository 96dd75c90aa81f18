package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/jotauth/jot"
)

func testRevocations(t *testing.T, s jot.Store) {
	ctx := t.Context()
	revs, cursor, _, err := s.Revocations(ctx, 0, time.Time{}, 0)
	if err != nil || len(revs) != 0 || cursor != 0 {
		t.Fatalf("Revocations on an empty store = %v, %d, %v; want none, 0, nil", revs, cursor, err)
	}

	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	a, _ := mustSession(t, s, u, base())                    // AccessExp base+15m
	b, _ := mustSession(t, s, u, base().Add(time.Minute))   // AccessExp base+16m
	c, _ := mustSession(t, s, u, base().Add(2*time.Minute)) // AccessExp extended below
	if err := s.ExtendAccess(ctx, c.ID, base().Add(2*time.Hour)); err != nil {
		t.Fatalf("ExtendAccess: %v", err)
	}
	// Ended in the order c, a, b: Seq follows the order of ending.
	ends := []struct {
		id  string
		at  time.Time
		exp time.Time
	}{
		{c.ID, base().Add(5 * time.Minute), base().Add(2 * time.Hour)},
		{a.ID, base().Add(6 * time.Minute), a.AccessExp},
		{b.ID, base().Add(7 * time.Minute), b.AccessExp},
	}
	for _, e := range ends {
		if err := s.EndSession(ctx, e.id, e.at); err != nil {
			t.Fatalf("EndSession: %v", err)
		}
	}

	all, cursor, _, err := s.Revocations(ctx, 0, time.Time{}, 0)
	if err != nil {
		t.Fatalf("Revocations: %v", err)
	}
	if len(all) != len(ends) {
		t.Fatalf("Revocations = %d, want %d", len(all), len(ends))
	}
	for i, e := range ends {
		r := all[i]
		if r.SessionID != e.id {
			t.Errorf("revocation %d is of %s, want %s", i, r.SessionID, e.id)
		}
		if i > 0 && r.Seq <= all[i-1].Seq {
			t.Errorf("revocation %d has Seq %d after %d, want increasing", i, r.Seq, all[i-1].Seq)
		}
		checkTime(t, "revocation Exp", r.Exp, e.exp)
		checkTime(t, "revocation EndedAt", r.EndedAt, e.at)
	}
	if last := all[len(all)-1].Seq; cursor != last {
		t.Errorf("cursor = %d, want the last Seq %d", cursor, last)
	}

	check := func(what string, after int64, notBefore time.Time, want ...string) {
		t.Helper()
		got, cur, _, err := s.Revocations(ctx, after, notBefore, 0)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if cur != cursor {
			t.Errorf("%s: cursor %d, want %d", what, cur, cursor)
		}
		ids := make([]string, len(got))
		for i, r := range got {
			ids[i] = r.SessionID
		}
		checkIDs(t, what, ids, want)
	}
	check("after the cursor", cursor, time.Time{})
	check("after the first", all[0].Seq, time.Time{}, a.ID, b.ID)
	check("after the second", all[1].Seq, time.Time{}, b.ID)
	// Exp must be after notBefore: b's exp equals it and is left out.
	check("not before b's exp", 0, b.AccessExp, c.ID)
	check("not before a's exp", 0, a.AccessExp, c.ID, b.ID)
	check("all expired", 0, base().Add(3*time.Hour))
	check("after the first, not before a's exp", all[0].Seq, a.AccessExp, b.ID)

	// A new revocation comes after the cursor.
	d, _ := mustSession(t, s, u, base().Add(3*time.Minute))
	if err := s.EndSession(ctx, d.ID, base().Add(8*time.Minute)); err != nil {
		t.Fatalf("EndSession: %v", err)
	}
	got, next, _, err := s.Revocations(ctx, cursor, time.Time{}, 0)
	if err != nil {
		t.Fatalf("Revocations: %v", err)
	}
	if len(got) != 1 || got[0].SessionID != d.ID || got[0].Seq <= cursor || next != got[0].Seq {
		t.Errorf("Revocations after %d = %+v, cursor %d; want only %s with a greater Seq as the cursor", cursor, got, next, d.ID)
	}
}

// testRevocationsLimit walks the revocations a page at a time: every live
// one is listed exactly once, in Seq order, expired ones never, and `more`
// is true only when another page has something to list.
func testRevocationsLimit(t *testing.T, s jot.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	notBefore := base()
	var want []string
	for i := range 8 {
		created := base().Add(time.Duration(i) * time.Minute)
		if i == 3 || i == 7 {
			// Its access tokens expired before notBefore: never listed,
			// even as the last one.
			created = base().Add(-time.Hour)
		}
		ss, _ := mustSession(t, s, u, created)
		if err := s.EndSession(ctx, ss.ID, base().Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatalf("EndSession: %v", err)
		}
		if i != 3 && i != 7 {
			want = append(want, ss.ID)
		}
	}
	all, last, more, err := s.Revocations(ctx, 0, time.Time{}, 0)
	if err != nil || len(all) != 8 || more {
		t.Fatalf("Revocations without a limit = %d, more %v, %v; want all 8, no more", len(all), more, err)
	}
	if last != all[7].Seq {
		t.Fatalf("cursor %d, want the last Seq %d", last, all[7].Seq)
	}

	// 6 live ones: pages of 1, 2, 4, 5 and 6 (exactly one full page, then
	// nothing more although an expired one follows) and 10 (one page).
	for _, limit := range []int{1, 2, 4, 5, 6, 10} {
		var got []string
		var after int64
		pages := 0
		for {
			revs, cursor, more, err := s.Revocations(ctx, after, notBefore, limit)
			if err != nil {
				t.Fatalf("limit %d: %v", limit, err)
			}
			pages++
			if len(revs) > limit {
				t.Fatalf("limit %d: a page of %d", limit, len(revs))
			}
			for _, r := range revs {
				got = append(got, r.SessionID)
			}
			if !more {
				if cursor != last {
					t.Errorf("limit %d: last page's cursor %d, want the greatest Seq %d", limit, cursor, last)
				}
				break
			}
			if len(revs) != limit || cursor != revs[len(revs)-1].Seq {
				t.Fatalf("limit %d: a page with more has %d entries and cursor %d; want %d and the last Seq listed", limit, len(revs), cursor, limit)
			}
			if pages > 10 {
				t.Fatalf("limit %d: the walk does not end", limit)
			}
			after = cursor
		}
		checkIDs(t, fmt.Sprintf("limit %d", limit), got, want)
		if wantPages := (len(want) + limit - 1) / limit; pages != wantPages {
			t.Errorf("limit %d: %d pages, want %d", limit, pages, wantPages)
		}
	}

	// After the last cursor: nothing, no more, the same cursor.
	revs, cursor, more, err := s.Revocations(ctx, last, notBefore, 3)
	if err != nil || len(revs) != 0 || more || cursor != last {
		t.Errorf("after the last cursor: %d entries, cursor %d, more %v, %v; want none, %d, false", len(revs), cursor, more, err, last)
	}
}

func testPrune(t *testing.T, s jot.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	old, oldRefresh := mustSession(t, s, u, base())                      // AccessExp base+15m
	mid, _ := mustSession(t, s, u, base().Add(time.Minute))              // AccessExp base+16m
	last, _ := mustSession(t, s, u, base().Add(2*time.Minute))           // AccessExp base+17m
	live, liveRefresh := mustSession(t, s, u, base().Add(3*time.Minute)) // never ended
	// Its refresh token expired before the cut, but an access token of it
	// is live after the cut: it must stay, so that ending it is recorded.
	lingering := &jot.Session{
		ID: jot.NewID(), UserID: u.ID, CreatedAt: base(), LastUsedAt: base(),
		ExpiresAt: base().Add(10 * time.Minute), AccessExp: base().Add(2 * time.Hour),
	}
	if err := s.CreateSession(ctx, lingering, newHash(t), nil); err != nil {
		t.Fatal(err)
	}
	for i, sess := range []*jot.Session{old, mid, last} {
		if err := s.EndSession(ctx, sess.ID, base().Add(time.Duration(5+i)*time.Minute)); err != nil {
			t.Fatalf("EndSession: %v", err)
		}
	}
	_, cursor, _, err := s.Revocations(ctx, 0, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Everything has expired by then: all revocations but the newest go,
	// and so do the ended sessions; the live one stays.
	if err := s.Prune(ctx, base().Add(time.Hour)); err != nil {
		t.Fatalf("Prune: %v", err)
	}
	revs, cur, _, err := s.Revocations(ctx, 0, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if cur != cursor || len(revs) != 1 || revs[0].SessionID != last.ID {
		t.Fatalf("after Prune: %v, cursor %d (was %d); want only the newest, cursor unchanged", revs, cur, cursor)
	}
	for _, sess := range []*jot.Session{old, mid, last} {
		if _, err := s.SessionByID(ctx, sess.ID); jot.ErrorCode(err) != jot.ENOTFOUND {
			t.Errorf("ended session %s after Prune: %v, want ENOTFOUND", sess.ID, err)
		}
	}
	if _, err := s.SessionByID(ctx, live.ID); err != nil {
		t.Fatalf("live session after Prune: %v", err)
	}
	if _, err := s.SessionByID(ctx, lingering.ID); err != nil {
		t.Fatalf("session with a live access token after Prune: %v", err)
	}
	// A pruned session's refresh token is unknown; the live one still works.
	res, err := s.RotateRefresh(ctx, rotateReq(oldRefresh, newHash(t), base().Add(time.Hour), 0))
	if err != nil || res.Outcome != jot.RotateInvalid {
		t.Errorf("refresh of a pruned session: %+v, %v; want RotateInvalid", res, err)
	}
	res, err = s.RotateRefresh(ctx, rotateReq(liveRefresh, newHash(t), base().Add(time.Hour), 0))
	if err != nil || res.Outcome != jot.RotateOK {
		t.Errorf("refresh of the live session: %+v, %v; want RotateOK", res, err)
	}
	// A second prune with nothing to do is fine, and new revocations still
	// get a greater Seq than the cursor clients hold.
	if err := s.Prune(ctx, base().Add(time.Hour)); err != nil {
		t.Fatalf("second Prune: %v", err)
	}
	if err := s.EndSession(ctx, live.ID, base().Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	revs, _, _, err = s.Revocations(ctx, cursor, time.Time{}, 0)
	if err != nil || len(revs) != 1 || revs[0].SessionID != live.ID {
		t.Fatalf("revocation after Prune: %v, %v", revs, err)
	}
}
