package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/jotauth/jot"
)

// rotateReq asks to rotate hash into successor at now, as a client at a new
// address would.
func rotateReq(hash, successor []byte, now time.Time, grace time.Duration) jot.RotateRequest {
	return jot.RotateRequest{
		Hash:          hash,
		SuccessorHash: successor,
		Now:           now,
		Grace:         grace,
		ExpiresAt:     now.Add(refreshTTL),
		AccessExp:     now.Add(accessTTL),
		UserAgent:     "agent/2.0",
		IP:            "198.51.100.7",
	}
}

// mustRotate rotates and fails the test unless the outcome is want.
func mustRotate(t *testing.T, s jot.Store, req jot.RotateRequest, want jot.RotateOutcome) *jot.RotateResult {
	t.Helper()
	res, err := s.RotateRefresh(t.Context(), req)
	if err != nil {
		t.Fatalf("RotateRefresh: %v", err)
	}
	if res.Outcome != want {
		t.Fatalf("RotateRefresh: outcome %s, want %s", outcomeName(res.Outcome), outcomeName(want))
	}
	return res
}

func outcomeName(o jot.RotateOutcome) string {
	switch o {
	case jot.RotateInvalid:
		return "RotateInvalid"
	case jot.RotateOK:
		return "RotateOK"
	case jot.RotateGrace:
		return "RotateGrace"
	case jot.RotateReused:
		return "RotateReused"
	}
	return "RotateOutcome(?)"
}

// rotatedSession is what a session looks like after a RotateOK with req.
func rotatedSession(ss *jot.Session, req jot.RotateRequest) *jot.Session {
	want := *ss
	want.ExpiresAt = req.ExpiresAt
	want.LastUsedAt = req.Now
	if req.AccessExp.After(want.AccessExp) {
		want.AccessExp = req.AccessExp
	}
	want.UserAgent = req.UserAgent
	want.IP = req.IP
	return &want
}

func testRotateOK(t *testing.T, s jot.Store) {
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	ss, h0 := mustSession(t, s, u, base())

	h1 := newHash(t)
	req := rotateReq(h0, h1, base().Add(10*time.Minute), 5*time.Second)
	res := mustRotate(t, s, req, jot.RotateOK)
	want := rotatedSession(ss, req)
	checkSession(t, res.Session, want)
	checkUser(t, res.User, u)
	checkSession(t, mustSessionByID(t, s, ss.ID), want)

	// The successor is the live token now. An AccessExp earlier than the
	// stored one leaves the stored one.
	req = rotateReq(h1, newHash(t), base().Add(20*time.Minute), 5*time.Second)
	req.AccessExp = base()
	req.UserAgent, req.IP = "agent/3.0", "203.0.113.9"
	res = mustRotate(t, s, req, jot.RotateOK)
	want = rotatedSession(want, req)
	checkSession(t, res.Session, want)
	checkSession(t, mustSessionByID(t, s, ss.ID), want)

	live, err := s.ListSessions(t.Context(), u.ID, req.Now)
	if err != nil || len(live) != 1 {
		t.Fatalf("ListSessions = %v, %v; want 1", live, err)
	}
	checkSession(t, live[0], want)
	if revs := revocationsOf(t, s); len(revs) != 0 {
		t.Errorf("%d revocations, want none", len(revs))
	}
}

func testRotateInvalid(t *testing.T, s jot.Store) {
	ctx := t.Context()
	mustUser(t, s, "admin@example.com", jot.RoleAdmin)
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	now := base().Add(time.Hour)

	mustRotate(t, s, rotateReq(newHash(t), newHash(t), now, time.Minute), jot.RotateInvalid)

	// Expired: at ExpiresAt the session is no longer live. The refused token
	// is not consumed.
	exp, hExp := mustSession(t, s, u, base())
	mustRotate(t, s, rotateReq(hExp, newHash(t), exp.ExpiresAt, time.Minute), jot.RotateInvalid)
	mustRotate(t, s, rotateReq(hExp, newHash(t), exp.ExpiresAt.Add(time.Hour), time.Minute), jot.RotateInvalid)
	checkSession(t, mustSessionByID(t, s, exp.ID), exp)
	mustRotate(t, s, rotateReq(hExp, newHash(t), exp.ExpiresAt.Add(-time.Microsecond), time.Minute), jot.RotateOK)

	// Ended.
	ended, hEnded := mustSession(t, s, u, base())
	if err := s.EndSession(ctx, ended.ID, now); err != nil {
		t.Fatalf("EndSession: %v", err)
	}
	mustRotate(t, s, rotateReq(hEnded, newHash(t), now.Add(time.Second), time.Minute), jot.RotateInvalid)

	// A disabled user: nothing changes, and the token works once the user
	// is enabled again.
	dis, hDis := mustSession(t, s, u, base())
	yes, no := true, false
	if _, err := s.UpdateUser(ctx, u.ID, jot.UserUpdate{Disabled: &yes}, now); err != nil {
		t.Fatalf("UpdateUser(disable): %v", err)
	}
	mustRotate(t, s, rotateReq(hDis, newHash(t), now, time.Minute), jot.RotateInvalid)
	checkSession(t, mustSessionByID(t, s, dis.ID), dis)
	if _, err := s.UpdateUser(ctx, u.ID, jot.UserUpdate{Disabled: &no}, now); err != nil {
		t.Fatalf("UpdateUser(enable): %v", err)
	}
	mustRotate(t, s, rotateReq(hDis, newHash(t), now, time.Minute), jot.RotateOK)

	revs := revocationsOf(t, s)
	if len(revs) != 1 {
		t.Errorf("%d revocations, want 1 (the ended session's)", len(revs))
	}
}

func testRotateGrace(t *testing.T, s jot.Store) {
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	ss, h0 := mustSession(t, s, u, base())
	h1 := newHash(t)
	t1 := base().Add(10 * time.Minute)
	okReq := rotateReq(h0, h1, t1, 5*time.Second)
	mustRotate(t, s, okReq, jot.RotateOK)
	want := rotatedSession(ss, okReq)

	// A second tab presents h0 again: it gets the same successor, and only
	// LastUsedAt and AccessExp move.
	req := rotateReq(h0, h1, t1.Add(2*time.Second), 5*time.Second)
	req.UserAgent, req.IP = "agent/3.0", "203.0.113.9"
	res := mustRotate(t, s, req, jot.RotateGrace)
	want.LastUsedAt = req.Now
	want.AccessExp = req.AccessExp
	checkSession(t, res.Session, want)
	checkUser(t, res.User, u)
	checkSession(t, mustSessionByID(t, s, ss.ID), want)

	// Again within the grace, with an earlier AccessExp: it stays.
	req = rotateReq(h0, h1, t1.Add(3*time.Second), 5*time.Second)
	req.AccessExp = t1
	res = mustRotate(t, s, req, jot.RotateGrace)
	want.LastUsedAt = req.Now
	checkSession(t, res.Session, want)

	// h1 is still the live token.
	mustRotate(t, s, rotateReq(h1, newHash(t), t1.Add(4*time.Second), 5*time.Second), jot.RotateOK)
	if revs := revocationsOf(t, s); len(revs) != 0 {
		t.Errorf("%d revocations, want none", len(revs))
	}
}

func testRotateGraceBoundary(t *testing.T, s jot.Store) {
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	const grace = 5 * time.Second
	t1 := base().Add(10 * time.Minute)

	// Used less than Grace ago: grace.
	in, hIn := mustSession(t, s, u, base())
	hIn1 := newHash(t)
	mustRotate(t, s, rotateReq(hIn, hIn1, t1, grace), jot.RotateOK)
	res := mustRotate(t, s, rotateReq(hIn, hIn1, t1.Add(grace-time.Microsecond), grace), jot.RotateGrace)
	if res.Session.ID != in.ID {
		t.Errorf("grace session %s, want %s", res.Session.ID, in.ID)
	}

	// Used exactly Grace ago: reuse.
	out, hOut := mustSession(t, s, u, base())
	hOut1 := newHash(t)
	mustRotate(t, s, rotateReq(hOut, hOut1, t1, grace), jot.RotateOK)
	now := t1.Add(grace)
	res = mustRotate(t, s, rotateReq(hOut, hOut1, now, grace), jot.RotateReused)
	if res.Session == nil || res.Session.ID != out.ID {
		t.Fatalf("reused session %v, want %s", res.Session, out.ID)
	}
	checkTime(t, "reused session EndedAt", res.Session.EndedAt, now)
	revs := revocationsOf(t, s)
	checkEnded(t, s, revs, out.ID, now)
	checkLive(t, s, revs, in.ID)
	mustRotate(t, s, rotateReq(hOut1, newHash(t), now, grace), jot.RotateInvalid)
}

func testRotateGraceSuccessorUsed(t *testing.T, s jot.Store) {
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	ss, h0 := mustSession(t, s, u, base())
	h1, h2 := newHash(t), newHash(t)
	t1 := base().Add(10 * time.Minute)
	mustRotate(t, s, rotateReq(h0, h1, t1, time.Minute), jot.RotateOK)
	mustRotate(t, s, rotateReq(h1, h2, t1.Add(time.Second), time.Minute), jot.RotateOK)

	// h0 within its grace, but h1 is no longer live: someone else holds h2.
	now := t1.Add(2 * time.Second)
	res := mustRotate(t, s, rotateReq(h0, h1, now, time.Minute), jot.RotateReused)
	checkTime(t, "reused session EndedAt", res.Session.EndedAt, now)
	checkEnded(t, s, revocationsOf(t, s), ss.ID, now)
	mustRotate(t, s, rotateReq(h2, newHash(t), now, time.Minute), jot.RotateInvalid)
}

func testRotateGraceWrongSuccessor(t *testing.T, s jot.Store) {
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	ss, h0 := mustSession(t, s, u, base())
	h1 := newHash(t)
	t1 := base().Add(10 * time.Minute)
	mustRotate(t, s, rotateReq(h0, h1, t1, time.Minute), jot.RotateOK)

	now := t1.Add(time.Second)
	mustRotate(t, s, rotateReq(h0, newHash(t), now, time.Minute), jot.RotateReused)
	checkEnded(t, s, revocationsOf(t, s), ss.ID, now)
	mustRotate(t, s, rotateReq(h1, newHash(t), now, time.Minute), jot.RotateInvalid)
}

func testRotateReusedAfterGrace(t *testing.T, s jot.Store) {
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	ss, h0 := mustSession(t, s, u, base())
	other, hOther := mustSession(t, s, u, base().Add(time.Second))
	h1 := newHash(t)
	t1 := base().Add(10 * time.Minute)
	okReq := rotateReq(h0, h1, t1, 5*time.Second)
	mustRotate(t, s, okReq, jot.RotateOK)

	now := t1.Add(time.Minute)
	res := mustRotate(t, s, rotateReq(h0, h1, now, 5*time.Second), jot.RotateReused)
	want := rotatedSession(ss, okReq)
	want.EndedAt = now
	checkSession(t, res.Session, want)
	checkSession(t, mustSessionByID(t, s, ss.ID), want)
	revs := revocationsOf(t, s)
	checkEnded(t, s, revs, ss.ID, now)
	checkLive(t, s, revs, other.ID)
	if r := revs[ss.ID]; !r.Exp.Equal(okReq.AccessExp) {
		t.Errorf("revocation Exp = %v, want the last access token's exp %v", r.Exp, okReq.AccessExp)
	}

	// The session is over for every token of it; other sessions carry on.
	mustRotate(t, s, rotateReq(h1, newHash(t), now, 5*time.Second), jot.RotateInvalid)
	mustRotate(t, s, rotateReq(h0, h1, now, 5*time.Second), jot.RotateInvalid)
	live, err := s.ListSessions(t.Context(), u.ID, now)
	if err != nil || len(live) != 1 || live[0].ID != other.ID {
		t.Errorf("ListSessions = %v, %v; want only %s", live, err, other.ID)
	}
	mustRotate(t, s, rotateReq(hOther, newHash(t), now, 5*time.Second), jot.RotateOK)
}

func testRotateReusedNoGrace(t *testing.T, s jot.Store) {
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	ss, h0 := mustSession(t, s, u, base())
	h1 := newHash(t)
	t1 := base().Add(10 * time.Minute)
	mustRotate(t, s, rotateReq(h0, h1, t1, 0), jot.RotateOK)
	// Even at the same instant: a zero grace turns the grace off.
	mustRotate(t, s, rotateReq(h0, h1, t1, 0), jot.RotateReused)
	checkEnded(t, s, revocationsOf(t, s), ss.ID, t1)
}

// rotateConcurrently presents h0 with successor h1 from concurrency
// goroutines at once, each with its own clock reading around t1 (as
// concurrent requests read theirs), and counts the outcomes.
func rotateConcurrently(t *testing.T, s jot.Store, h0, h1 []byte, t1 time.Time, grace time.Duration) (map[jot.RotateOutcome]int, []*jot.RotateResult) {
	t.Helper()
	results := make([]*jot.RotateResult, concurrency)
	errs := make([]error, concurrency)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range concurrency {
		req := rotateReq(h0, h1, t1.Add(time.Duration(i)*time.Millisecond), grace)
		wg.Go(func() {
			<-start
			results[i], errs[i] = s.RotateRefresh(t.Context(), req)
		})
	}
	close(start)
	wg.Wait()
	counts := map[jot.RotateOutcome]int{}
	for i, err := range errs {
		if err != nil {
			t.Errorf("RotateRefresh %d: %v", i, err)
			continue
		}
		counts[results[i].Outcome]++
	}
	return counts, results
}

func testRotateConcurrentGrace(t *testing.T, s jot.Store) {
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	ss, h0 := mustSession(t, s, u, base())
	h1 := newHash(t)
	t1 := base().Add(10 * time.Minute)

	counts, results := rotateConcurrently(t, s, h0, h1, t1, time.Minute)
	if counts[jot.RotateOK] != 1 || counts[jot.RotateGrace] != concurrency-1 {
		t.Fatalf("outcomes %v, want 1 RotateOK and %d RotateGrace", counts, concurrency-1)
	}
	for _, res := range results {
		if res.Session == nil || res.Session.ID != ss.ID || res.User == nil || res.User.ID != u.ID {
			t.Fatalf("result %+v does not name the session and its user", res)
		}
	}
	// AccessExp is the latest of all the requests' exps.
	latest := t1.Add((concurrency - 1) * time.Millisecond).Add(accessTTL)
	got := mustSessionByID(t, s, ss.ID)
	checkTime(t, "AccessExp", got.AccessExp, latest)
	if !got.EndedAt.IsZero() {
		t.Fatalf("session ended at %v", got.EndedAt)
	}
	if revs := revocationsOf(t, s); len(revs) != 0 {
		t.Errorf("%d revocations, want none", len(revs))
	}
	// Every tab holds h1, which is the one live token.
	mustRotate(t, s, rotateReq(h1, newHash(t), t1.Add(time.Second), time.Minute), jot.RotateOK)
}

// With no grace the first use wins and the second ends the session. Every
// later one finds the session ended, which store.go lists first:
// RotateInvalid.
func testRotateConcurrentNoGrace(t *testing.T, s jot.Store) {
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	ss, h0 := mustSession(t, s, u, base())
	h1 := newHash(t)
	t1 := base().Add(10 * time.Minute)

	counts, _ := rotateConcurrently(t, s, h0, h1, t1, 0)
	if counts[jot.RotateOK] != 1 || counts[jot.RotateReused] != 1 || counts[jot.RotateInvalid] != concurrency-2 {
		t.Fatalf("outcomes %v, want 1 RotateOK, 1 RotateReused and %d RotateInvalid", counts, concurrency-2)
	}
	got := mustSessionByID(t, s, ss.ID)
	if got.EndedAt.IsZero() {
		t.Fatal("session still live after a reuse")
	}
	if revs := revocationsOf(t, s); len(revs) != 1 {
		t.Errorf("%d revocations, want 1", len(revs))
	}
	mustRotate(t, s, rotateReq(h1, newHash(t), t1.Add(time.Second), 0), jot.RotateInvalid)
}
