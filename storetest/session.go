package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/jotauth/jot"
)

func testCreateSession(t *testing.T, s jot.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	ss, _ := mustSession(t, s, u, base())
	checkSession(t, mustSessionByID(t, s, ss.ID), ss)

	// Zero times the caller leaves out come back zero.
	bare := &jot.Session{ID: jot.NewID(), UserID: u.ID, CreatedAt: base(), ExpiresAt: base().Add(refreshTTL)}
	if err := s.CreateSession(ctx, bare, newHash(t), nil); err != nil {
		t.Fatalf("CreateSession(bare): %v", err)
	}
	checkSession(t, mustSessionByID(t, s, bare.ID), bare)

	_, err := s.SessionByID(ctx, jot.NewID())
	wantCode(t, err, jot.ENOTFOUND, "SessionByID(unknown)")

	orphan := &jot.Session{ID: jot.NewID(), UserID: jot.NewID(), CreatedAt: base(), ExpiresAt: base().Add(refreshTTL)}
	if err := s.CreateSession(ctx, orphan, newHash(t), nil); err == nil {
		t.Error("CreateSession for an unknown user succeeded")
	}
}

// pinOf is the pin of a session issued from u as it is now.
func pinOf(u *jot.User) *jot.UserPin {
	return &jot.UserPin{Role: u.Role, PasswordHash: u.PasswordHash}
}

// newSession returns a session of u created at base(), not stored yet.
func newSession(u *jot.User) *jot.Session {
	return &jot.Session{ID: jot.NewID(), UserID: u.ID, CreatedAt: base(), LastUsedAt: base(),
		ExpiresAt: base().Add(refreshTTL), AccessExp: base().Add(accessTTL)}
}

func testCreateSessionPin(t *testing.T, s jot.Store) {
	ctx := t.Context()
	mustUser(t, s, "admin@example.com", jot.RoleAdmin)
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)

	// The user is as the pin says: stored.
	ok := newSession(u)
	if err := s.CreateSession(ctx, ok, newHash(t), pinOf(u)); err != nil {
		t.Fatalf("CreateSession(matching pin): %v", err)
	}
	checkSession(t, mustSessionByID(t, s, ok.ID), ok)

	// refused checks that CreateSession with pin is ECONFLICT and stores
	// nothing: neither the session nor its refresh token, which a later
	// insert of both, unpinned, proves.
	refused := func(what string, pin *jot.UserPin) {
		t.Helper()
		ss, h := newSession(u), newHash(t)
		err := s.CreateSession(ctx, ss, h, pin)
		wantCode(t, err, jot.ECONFLICT, what)
		_, err = s.SessionByID(ctx, ss.ID)
		wantCode(t, err, jot.ENOTFOUND, what+": SessionByID")
		if err := s.CreateSession(ctx, ss, h, nil); err != nil {
			t.Fatalf("%s: CreateSession again without a pin: %v (something was stored)", what, err)
		}
		if err := s.EndSession(ctx, ss.ID, base()); err != nil {
			t.Fatalf("%s: EndSession: %v", what, err)
		}
	}

	// The role changed since the tokens were issued.
	stale := pinOf(u)
	admin := jot.RoleAdmin
	now := base().Add(time.Minute)
	u2, err := s.UpdateUser(ctx, u.ID, jot.UserUpdate{Role: &admin}, now)
	if err != nil {
		t.Fatalf("UpdateUser(promote): %v", err)
	}
	refused("role changed", stale)
	fresh := newSession(u2)
	if err := s.CreateSession(ctx, fresh, newHash(t), pinOf(u2)); err != nil {
		t.Fatalf("CreateSession(pin of the promoted user): %v", err)
	}

	// The password hash changed.
	stale = pinOf(u2)
	hash := "$2a$12$changed"
	u3, err := s.UpdateUser(ctx, u.ID, jot.UserUpdate{PasswordHash: &hash}, now)
	if err != nil {
		t.Fatalf("UpdateUser(password): %v", err)
	}
	refused("password hash changed", stale)

	// Disabled, with role and hash as pinned.
	yes := true
	u4, err := s.UpdateUser(ctx, u.ID, jot.UserUpdate{Disabled: &yes}, now)
	if err != nil {
		t.Fatalf("UpdateUser(disable): %v", err)
	}
	if u4.Role != u3.Role || u4.PasswordHash != u3.PasswordHash {
		t.Fatalf("disabling changed more: %+v", *u4)
	}
	refused("disabled", pinOf(u3))

	// nil: no condition, even for a disabled user.
	bare := newSession(u4)
	if err := s.CreateSession(ctx, bare, newHash(t), nil); err != nil {
		t.Fatalf("CreateSession(nil pin, disabled user): %v", err)
	}
	checkSession(t, mustSessionByID(t, s, bare.ID), bare)

	// An unknown user is ENOTFOUND, pinned or not.
	orphan := &jot.Session{ID: jot.NewID(), UserID: jot.NewID(), CreatedAt: base(), ExpiresAt: base().Add(refreshTTL)}
	err = s.CreateSession(ctx, orphan, newHash(t), &jot.UserPin{Role: jot.RoleUser, PasswordHash: "x"})
	wantCode(t, err, jot.ENOTFOUND, "CreateSession(unknown user, pin)")
}

// testCreateSessionPinConcurrent races pinned logins against a disable or
// a password change that ends the user's sessions: whichever goes first,
// no session of the user is live afterwards.
func testCreateSessionPinConcurrent(t *testing.T, s jot.Store) {
	ctx := t.Context()
	users := make([]*jot.User, concurrency)
	for i := range users {
		users[i] = mustUser(t, s, label("u", i)+"@example.com", jot.RoleUser)
	}
	now := base().Add(time.Second)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, u := range users {
		pin := pinOf(u)
		wg.Go(func() {
			<-start
			err := s.CreateSession(ctx, newSession(u), newHash(t), pin)
			if err != nil && jot.ErrorCode(err) != jot.ECONFLICT {
				t.Errorf("CreateSession(%s): %v", u.Email, err)
			}
		})
		wg.Go(func() {
			<-start
			upd := jot.UserUpdate{EndSessions: true}
			if i%2 == 0 {
				yes := true
				upd.Disabled = &yes
			} else {
				hash := "$2a$12$changed" + label("", i)
				upd.PasswordHash = &hash
			}
			if _, err := s.UpdateUser(ctx, u.ID, upd, now); err != nil {
				t.Errorf("UpdateUser(%s): %v", u.Email, err)
			}
		})
	}
	close(start)
	wg.Wait()
	for _, u := range users {
		live, err := s.ListSessions(ctx, u.ID, now)
		if err != nil {
			t.Fatalf("ListSessions: %v", err)
		}
		if len(live) != 0 {
			t.Errorf("%s has %d live sessions after the change, want 0", u.Email, len(live))
		}
	}
}

func testListSessions(t *testing.T, s jot.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	o := mustUser(t, s, "other@example.com", jot.RoleUser)
	now := base().Add(time.Hour)

	s1, _ := mustSession(t, s, u, base())
	s3, _ := mustSession(t, s, u, base().Add(2*time.Minute))
	s2, _ := mustSession(t, s, u, base().Add(time.Minute))
	ended, _ := mustSession(t, s, u, base().Add(3*time.Minute))
	if err := s.EndSession(ctx, ended.ID, base().Add(4*time.Minute)); err != nil {
		t.Fatalf("EndSession: %v", err)
	}
	expired := &jot.Session{ID: jot.NewID(), UserID: u.ID, CreatedAt: base().Add(5 * time.Minute),
		LastUsedAt: base().Add(5 * time.Minute), ExpiresAt: now, AccessExp: now}
	if err := s.CreateSession(ctx, expired, newHash(t), nil); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	so, _ := mustSession(t, s, o, base().Add(10*time.Minute))

	got, err := s.ListSessions(ctx, u.ID, now)
	if err != nil {
		t.Fatalf("ListSessions: %v", err)
	}
	want := []*jot.Session{s3, s2, s1}
	if len(got) != len(want) {
		t.Fatalf("ListSessions = %d sessions, want %d (live only)", len(got), len(want))
	}
	for i := range want {
		checkSession(t, got[i], want[i])
	}

	// Just before it expires the expired one is live, and it is the newest.
	got, err = s.ListSessions(ctx, u.ID, now.Add(-time.Microsecond))
	if err != nil {
		t.Fatalf("ListSessions: %v", err)
	}
	if len(got) != 4 || got[0].ID != expired.ID {
		t.Errorf("ListSessions before the expiry = %d sessions, want 4 with %s first", len(got), expired.ID)
	}

	got, err = s.ListSessions(ctx, o.ID, now)
	if err != nil || len(got) != 1 || got[0].ID != so.ID {
		t.Errorf("ListSessions(other) = %v, %v; want only %s", got, err, so.ID)
	}
	got, err = s.ListSessions(ctx, jot.NewID(), now)
	if err != nil || len(got) != 0 {
		t.Errorf("ListSessions(unknown) = %v, %v; want none", got, err)
	}
}

func testExtendAccess(t *testing.T, s jot.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	ss, _ := mustSession(t, s, u, base())
	want := *ss

	want.AccessExp = base().Add(30 * time.Minute)
	if err := s.ExtendAccess(ctx, ss.ID, want.AccessExp); err != nil {
		t.Fatalf("ExtendAccess: %v", err)
	}
	checkSession(t, mustSessionByID(t, s, ss.ID), &want)

	// An earlier exp never shortens the window verifiers must cover.
	if err := s.ExtendAccess(ctx, ss.ID, base().Add(20*time.Minute)); err != nil {
		t.Fatalf("ExtendAccess(earlier): %v", err)
	}
	checkSession(t, mustSessionByID(t, s, ss.ID), &want)

	err := s.ExtendAccess(ctx, jot.NewID(), base())
	wantCode(t, err, jot.ENOTFOUND, "ExtendAccess(unknown)")
}

func testEndSession(t *testing.T, s jot.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	s1, h1 := mustSession(t, s, u, base())
	s2, _ := mustSession(t, s, u, base().Add(time.Second))
	now := base().Add(time.Hour)

	if err := s.EndSession(ctx, s1.ID, now); err != nil {
		t.Fatalf("EndSession: %v", err)
	}
	revs := revocationsOf(t, s)
	checkEnded(t, s, revs, s1.ID, now)
	checkLive(t, s, revs, s2.ID)
	if len(revs) != 1 {
		t.Errorf("%d revocations, want 1", len(revs))
	}
	live, err := s.ListSessions(ctx, u.ID, now)
	if err != nil || len(live) != 1 || live[0].ID != s2.ID {
		t.Errorf("ListSessions = %v, %v; want only %s", live, err, s2.ID)
	}

	err = s.EndSession(ctx, s1.ID, now.Add(time.Minute))
	wantCode(t, err, jot.ENOTFOUND, "EndSession twice")
	revs = revocationsOf(t, s)
	checkEnded(t, s, revs, s1.ID, now)
	if len(revs) != 1 {
		t.Errorf("%d revocations after ending twice, want 1", len(revs))
	}
	err = s.EndSession(ctx, jot.NewID(), now)
	wantCode(t, err, jot.ENOTFOUND, "EndSession(unknown)")

	res, err := s.RotateRefresh(ctx, rotateReq(h1, newHash(t), now, time.Minute))
	if err != nil {
		t.Fatalf("RotateRefresh: %v", err)
	}
	if res.Outcome != jot.RotateInvalid {
		t.Errorf("RotateRefresh of an ended session: outcome %v, want RotateInvalid", res.Outcome)
	}
}

func testEndUserSessions(t *testing.T, s jot.Store) {
	ctx := t.Context()
	e := newEndSet(t, s)
	u, s2 := e.u, e.s2

	now := base().Add(time.Hour)
	if err := s.EndUserSessions(ctx, u.ID, s2.ID, now); err != nil {
		t.Fatalf("EndUserSessions: %v", err)
	}
	e.check(t, s, now, time.Time{})

	later := now.Add(time.Minute)
	if err := s.EndUserSessions(ctx, u.ID, "", later); err != nil {
		t.Fatalf("EndUserSessions(all): %v", err)
	}
	if err := s.EndUserSessions(ctx, u.ID, "", later.Add(time.Minute)); err != nil {
		t.Fatalf("EndUserSessions(none left): %v", err)
	}
	if err := s.EndUserSessions(ctx, jot.NewID(), "", later); err != nil {
		t.Fatalf("EndUserSessions(unknown user): %v", err)
	}
	e.check(t, s, now, later)
}

// endSet is a user's three sessions, a second apart, and another user's
// one: what the tests of ending all of a user's sessions but one use.
type endSet struct {
	u, o           *jot.User
	s1, s2, s3, so *jot.Session
}

func newEndSet(t *testing.T, s jot.Store) endSet {
	t.Helper()
	var e endSet
	e.u = mustUser(t, s, "ada@example.com", jot.RoleUser)
	e.o = mustUser(t, s, "other@example.com", jot.RoleUser)
	e.s1, _ = mustSession(t, s, e.u, base())
	e.s2, _ = mustSession(t, s, e.u, base().Add(time.Second))
	e.s3, _ = mustSession(t, s, e.u, base().Add(2*time.Second))
	e.so, _ = mustSession(t, s, e.o, base())
	return e
}

// check checks the revocations: s1 and s3 ended at now, s2 at s2Ended or
// live when that is zero, the other user's session live.
func (e endSet) check(t *testing.T, s jot.Store, now, s2Ended time.Time) {
	t.Helper()
	revs := revocationsOf(t, s)
	checkEnded(t, s, revs, e.s1.ID, now)
	checkEnded(t, s, revs, e.s3.ID, now)
	want := 2
	if s2Ended.IsZero() {
		checkLive(t, s, revs, e.s2.ID)
	} else {
		checkEnded(t, s, revs, e.s2.ID, s2Ended)
		want = 3
	}
	checkLive(t, s, revs, e.so.ID)
	if len(revs) != want {
		t.Errorf("%d revocations, want %d", len(revs), want)
	}
}
