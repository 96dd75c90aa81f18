package storetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jotauth/jot"
)

// sessionUsedAt stores a session of u created at created and last used at
// used.
func sessionUsedAt(t *testing.T, s jot.Store, u *jot.User, created, used time.Time) *jot.Session {
	t.Helper()
	ss := &jot.Session{ID: jot.NewID(), UserID: u.ID, CreatedAt: created, LastUsedAt: used,
		ExpiresAt: created.Add(refreshTTL), AccessExp: used.Add(accessTTL)}
	if err := s.CreateSession(t.Context(), ss, newHash(t), nil); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	return ss
}

func testCreateSessionWithin(t *testing.T, s jot.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	o := mustUser(t, s, "bob@example.com", jot.RoleUser)
	b := base()
	// Created in one order, used in another: the least recently used is
	// the one used longest ago, not the oldest.
	s1 := sessionUsedAt(t, s, u, b, b.Add(3*time.Minute))
	s2 := sessionUsedAt(t, s, u, b.Add(time.Minute), b.Add(time.Minute))
	s3 := sessionUsedAt(t, s, u, b.Add(2*time.Minute), b.Add(2*time.Minute))
	// Neither an ended nor an expired session counts, nor another user's.
	gone := sessionUsedAt(t, s, u, b, b)
	if err := s.EndSession(ctx, gone.ID, b.Add(4*time.Minute)); err != nil {
		t.Fatal(err)
	}
	old := sessionUsedAt(t, s, u, b.Add(-2*refreshTTL), b.Add(-2*refreshTTL))
	sessionUsedAt(t, s, o, b, b)

	now := b.Add(5 * time.Minute)
	create := func(max int) (*jot.Session, int) {
		t.Helper()
		ss := &jot.Session{ID: jot.NewID(), UserID: u.ID, CreatedAt: now, LastUsedAt: now,
			ExpiresAt: now.Add(refreshTTL), AccessExp: now.Add(accessTTL)}
		n, err := s.CreateSessionWithin(ctx, ss, newHash(t), pinOf(u), max)
		if err != nil {
			t.Fatalf("CreateSessionWithin(%d): %v", max, err)
		}
		return ss, n
	}
	// Room for it: nothing ends.
	s4, n := create(4)
	if n != 0 {
		t.Fatalf("CreateSessionWithin under the bound ended %d", n)
	}
	// Past the bound: the least recently used of the others end, the new
	// one always stays.
	s5, n := create(3)
	if n != 2 {
		t.Fatalf("CreateSessionWithin(3) with 4 live ended %d, want 2", n)
	}
	revs := revocationsOf(t, s)
	checkEnded(t, s, revs, s2.ID, now)
	checkEnded(t, s, revs, s3.ID, now)
	for _, id := range []string{s1.ID, s4.ID, s5.ID, old.ID} {
		checkLive(t, s, revs, id)
	}
	live, err := s.ListSessions(ctx, u.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 3 {
		t.Fatalf("%d live sessions, want 3", len(live))
	}
	// 0 is no bound.
	if _, n := create(0); n != 0 {
		t.Fatalf("CreateSessionWithin(0) ended %d", n)
	}
	// A bound of 1 leaves the new session alone.
	s7, n := create(1)
	if n != 4 {
		t.Fatalf("CreateSessionWithin(1) with 4 live ended %d, want 4", n)
	}
	if live, _ := s.ListSessions(ctx, u.ID, now); len(live) != 1 || live[0].ID != s7.ID {
		t.Fatalf("live after CreateSessionWithin(1): %v", live)
	}
	// The pin still applies.
	stale := &jot.Session{ID: jot.NewID(), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(refreshTTL)}
	_, err = s.CreateSessionWithin(ctx, stale, newHash(t), &jot.UserPin{Role: jot.RoleAdmin, PasswordHash: u.PasswordHash}, 1)
	wantCode(t, err, jot.ECONFLICT, "CreateSessionWithin(stale pin)")
	if live, _ := s.ListSessions(ctx, u.ID, now); len(live) != 1 || live[0].ID != s7.ID {
		t.Fatalf("a refused session start ended sessions: %v", live)
	}
}

func testCreateSessionWithinConcurrent(t *testing.T, s jot.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	const max = 5
	now := base()
	var wg sync.WaitGroup
	var mu sync.Mutex
	ended := 0
	for range concurrency {
		wg.Go(func() {
			ss := &jot.Session{ID: jot.NewID(), UserID: u.ID, CreatedAt: now, LastUsedAt: now,
				ExpiresAt: now.Add(refreshTTL), AccessExp: now.Add(accessTTL)}
			n, err := s.CreateSessionWithin(ctx, ss, newHash(t), pinOf(u), max)
			if err != nil {
				t.Errorf("CreateSessionWithin: %v", err)
			}
			mu.Lock()
			ended += n
			mu.Unlock()
		})
	}
	wg.Wait()
	live, err := s.ListSessions(ctx, u.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != max || ended != concurrency-max {
		t.Fatalf("after %d concurrent starts bounded to %d: %d live, %d ended", concurrency, max, len(live), ended)
	}
	if revs := revocationsOf(t, s); len(revs) != concurrency-max {
		t.Fatalf("%d revocations, want %d", len(revs), concurrency-max)
	}
}

func testListSessionsPage(t *testing.T, s jot.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	o := mustUser(t, s, "bob@example.com", jot.RoleUser)
	now := base().Add(time.Hour)
	var want []string
	for i := range 8 {
		ss, _ := mustSession(t, s, u, base().Add(time.Duration(i)*time.Second))
		want = append(want, ss.ID)
		mustSession(t, s, o, base())
	}
	ended, _ := mustSession(t, s, u, base())
	if err := s.EndSession(ctx, ended.ID, now); err != nil {
		t.Fatal(err)
	}
	mustSession(t, s, u, base().Add(-2*refreshTTL))
	slices.Reverse(want)
	for _, limit := range []int{1, 3, 8, 100} {
		got := walk(t, limit, func(p jot.Page) ([]*jot.Session, error) {
			return s.ListSessionsPage(ctx, u.ID, now, p)
		}, func(x *jot.Session) string { return x.ID })
		checkIDs(t, "ListSessionsPage", got, want)
	}
	all, err := s.ListSessionsPage(ctx, u.ID, now, jot.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(want) {
		t.Fatalf("ListSessionsPage without a limit: %d sessions, want %d", len(all), len(want))
	}
	checkSession(t, all[0], mustSessionByID(t, s, want[0]))
}

func testRotateMaxAge(t *testing.T, s jot.Store) {
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	ss, h := mustSession(t, s, u, base())
	const maxAge = time.Hour
	// A refresh within the max age moves the expiry no further than
	// CreatedAt + max age.
	next := newHash(t)
	req := rotateReq(h, next, base().Add(30*time.Minute), 0)
	req.MaxAge = maxAge
	res := mustRotate(t, s, req, jot.RotateOK)
	checkTime(t, "ExpiresAt", res.Session.ExpiresAt, base().Add(maxAge))
	checkTime(t, "stored ExpiresAt", mustSessionByID(t, s, ss.ID).ExpiresAt, base().Add(maxAge))
	// A refresh TTL shorter than what is left applies as before.
	next2 := newHash(t)
	req = rotateReq(next, next2, base().Add(40*time.Minute), 0)
	req.MaxAge, req.ExpiresAt = maxAge, base().Add(50*time.Minute)
	res = mustRotate(t, s, req, jot.RotateOK)
	checkTime(t, "ExpiresAt", res.Session.ExpiresAt, base().Add(50*time.Minute))

	// A session past its max age is refused, whatever its ExpiresAt says
	// (it was refreshed before the max age was set).
	old, oh := mustSession(t, s, u, base())
	req = rotateReq(oh, newHash(t), base().Add(maxAge), 0)
	req.MaxAge = maxAge
	mustRotate(t, s, req, jot.RotateInvalid)
	if got := mustSessionByID(t, s, old.ID); !got.EndedAt.IsZero() || !got.LastUsedAt.Equal(old.LastUsedAt) {
		t.Errorf("a refused rotation changed the session: %+v", got)
	}
	// Without a max age, the same rotation goes through.
	req.MaxAge = 0
	mustRotate(t, s, req, jot.RotateOK)
}

func testResourceQuota(t *testing.T, s jot.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	o := mustUser(t, s, "bob@example.com", jot.RoleUser)
	const max = 2
	task := func(owner *jot.User) error {
		return s.CreateTaskWithin(ctx, &jot.Task{ID: jot.NewID(), OwnerID: owner.ID, Title: "t", CreatedAt: base(), UpdatedAt: base()}, max)
	}
	recipe := func(owner *jot.User) error {
		return s.CreateRecipeWithin(ctx, &jot.Recipe{ID: jot.NewID(), OwnerID: owner.ID, Title: "r",
			Ingredients: []string{"egg"}, CreatedAt: base(), UpdatedAt: base()}, max)
	}
	for range max {
		if err := task(u); err != nil {
			t.Fatalf("CreateTaskWithin: %v", err)
		}
	}
	wantCode(t, task(u), jot.EQUOTA, "CreateTaskWithin past the quota")
	// Each kind is counted apart, and each owner.
	for range max {
		if err := recipe(u); err != nil {
			t.Fatalf("CreateRecipeWithin: %v", err)
		}
	}
	wantCode(t, recipe(u), jot.EQUOTA, "CreateRecipeWithin past the quota")
	if err := task(o); err != nil {
		t.Fatalf("another owner's task: %v", err)
	}
	if err := recipe(o); err != nil {
		t.Fatalf("another owner's recipe: %v", err)
	}
	tasks, err := s.ListTasks(ctx, u.ID, jot.Page{})
	if err != nil || len(tasks) != max {
		t.Fatalf("ListTasks: %d tasks (%v), want %d", len(tasks), err, max)
	}
	// A delete makes room.
	if err := s.DeleteTask(ctx, tasks[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := task(u); err != nil {
		t.Fatalf("CreateTaskWithin after a delete: %v", err)
	}
	nobody := &jot.User{ID: jot.NewID()}
	wantCode(t, task(nobody), jot.ENOTFOUND, "CreateTaskWithin(unknown owner)")
	wantCode(t, recipe(nobody), jot.ENOTFOUND, "CreateRecipeWithin(unknown owner)")
}

func testResourceQuotaConcurrent(t *testing.T, s jot.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	const max = 5
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := map[string]int{}
	for i := range 2 * concurrency {
		wg.Go(func() {
			var err error
			kind := "tasks"
			if i%2 == 0 {
				err = s.CreateTaskWithin(ctx, &jot.Task{ID: jot.NewID(), OwnerID: u.ID, Title: "t", CreatedAt: base(), UpdatedAt: base()}, max)
			} else {
				kind = "recipes"
				err = s.CreateRecipeWithin(ctx, &jot.Recipe{ID: jot.NewID(), OwnerID: u.ID, Title: "r",
					Ingredients: []string{"egg"}, CreatedAt: base(), UpdatedAt: base()}, max)
			}
			if err == nil {
				mu.Lock()
				created[kind]++
				mu.Unlock()
			} else if jot.ErrorCode(err) != jot.EQUOTA {
				t.Errorf("create %s: %v", kind, err)
			}
		})
	}
	wg.Wait()
	if created["tasks"] != max || created["recipes"] != max {
		t.Fatalf("%d concurrent creates of each kind under a quota of %d created %v", concurrency, max, created)
	}
}
