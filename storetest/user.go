package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jotauth/jot"
)

func testCreateUser(t *testing.T, s jot.Store) {
	ctx := t.Context()
	u := newUser("ada@example.com", jot.RoleAdmin)
	// Stored in another zone, it must come back as the same instant in UTC.
	u.CreatedAt = base().In(time.FixedZone("UTC+3", 3*3600))
	u.UpdatedAt = base().Add(time.Second)
	u.Disabled = true
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	checkUser(t, mustUserByID(t, s, u.ID), u)

	got, err := s.UserByEmail(ctx, "ada@example.com")
	if err != nil {
		t.Fatalf("UserByEmail: %v", err)
	}
	checkUser(t, got, u)
}

func testCreateUserDuplicateEmail(t *testing.T, s jot.Store) {
	ctx := t.Context()
	first := mustUser(t, s, "ada@example.com", jot.RoleUser)
	for _, email := range []string{"ada@example.com", "ADA@example.com", "Ada@Example.Com"} {
		err := s.CreateUser(ctx, newUser(email, jot.RoleUser))
		wantCode(t, err, jot.ECONFLICT, "CreateUser("+email+")")
	}
	mustUser(t, s, "bob@example.com", jot.RoleUser)

	got, err := s.UserByEmail(ctx, "ada@example.com")
	if err != nil {
		t.Fatalf("UserByEmail: %v", err)
	}
	checkUser(t, got, first)
	users, err := s.ListUsers(ctx, jot.Page{Limit: 100})
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if len(users) != 2 {
		t.Errorf("%d users stored, want 2", len(users))
	}
}

func testCreateUserConcurrent(t *testing.T, s jot.Store) {
	ctx := t.Context()
	users := make([]*jot.User, concurrency)
	errs := make([]error, concurrency)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range users {
		email := "race@example.com"
		if i%2 == 1 {
			email = "RACE@example.com"
		}
		users[i] = newUser(email, jot.RoleUser)
		wg.Go(func() {
			<-start
			errs[i] = s.CreateUser(ctx, users[i])
		})
	}
	close(start)
	wg.Wait()

	winner := -1
	for i, err := range errs {
		switch jot.ErrorCode(err) {
		case "":
			if winner >= 0 {
				t.Errorf("CreateUser succeeded for both %d and %d", winner, i)
			}
			winner = i
		case jot.ECONFLICT:
		default:
			t.Errorf("CreateUser %d: %v, want nil or ECONFLICT", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no CreateUser succeeded")
	}
	got, err := s.UserByEmail(ctx, "race@example.com")
	if err != nil {
		t.Fatalf("UserByEmail: %v", err)
	}
	checkUser(t, got, users[winner])
	all, err := s.ListUsers(ctx, jot.Page{Limit: 100})
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if len(all) != 1 {
		t.Errorf("%d users stored, want 1", len(all))
	}
}

func testCreateUsers(t *testing.T, s jot.Store) {
	ctx := t.Context()
	old := mustUser(t, s, "old@example.com", jot.RoleUser)

	batch := []*jot.User{
		newUser("a@example.com", jot.RoleUser),
		newUser("b@example.com", jot.RoleAdmin),
		newUser("c@example.com", jot.RoleUser),
	}
	if err := s.CreateUsers(ctx, batch); err != nil {
		t.Fatalf("CreateUsers: %v", err)
	}
	for _, u := range batch {
		checkUser(t, mustUserByID(t, s, u.ID), u)
	}
	if err := s.CreateUsers(ctx, nil); err != nil {
		t.Fatalf("CreateUsers(nil): %v", err)
	}

	// Each failing batch must leave no trace: none of its users is stored.
	failing := []struct {
		name  string
		batch []*jot.User
		named string // the email the error must name
		not   string // an email it must not name
	}{
		{"duplicate of stored", []*jot.User{
			newUser("d@example.com", jot.RoleUser),
			newUser("OLD@example.com", jot.RoleUser),
			newUser("e@example.com", jot.RoleUser),
			newUser("a@example.com", jot.RoleUser),
		}, "old@example.com", "a@example.com"},
		{"duplicate inside the batch", []*jot.User{
			newUser("f@example.com", jot.RoleUser),
			newUser("g@example.com", jot.RoleUser),
			newUser("F@example.com", jot.RoleUser),
		}, "f@example.com", "g@example.com"},
	}
	for _, tc := range failing {
		err := s.CreateUsers(ctx, tc.batch)
		wantCode(t, err, jot.ECONFLICT, "CreateUsers "+tc.name)
		msg := strings.ToLower(jot.ErrorMessage(err))
		if !strings.Contains(msg, tc.named) || strings.Contains(msg, tc.not) {
			t.Errorf("CreateUsers %s: message %q, want it to name %s only", tc.name, msg, tc.named)
		}
		for _, u := range tc.batch {
			got, err := s.UserByID(ctx, u.ID)
			if jot.ErrorCode(err) != jot.ENOTFOUND {
				t.Errorf("CreateUsers %s: user %s stored (%v, %v), want none", tc.name, u.Email, got, err)
			}
		}
	}
	got, err := s.UserByEmail(ctx, "old@example.com")
	if err != nil {
		t.Fatalf("UserByEmail: %v", err)
	}
	checkUser(t, got, old)
	all, err := s.ListUsers(ctx, jot.Page{Limit: 100})
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if len(all) != 4 {
		t.Errorf("%d users stored, want 4", len(all))
	}
}

func testUserNotFound(t *testing.T, s jot.Store) {
	ctx := t.Context()
	mustUser(t, s, "ada@example.com", jot.RoleUser)
	_, err := s.UserByID(ctx, jot.NewID())
	wantCode(t, err, jot.ENOTFOUND, "UserByID(unknown)")
	_, err = s.UserByEmail(ctx, "nobody@example.com")
	wantCode(t, err, jot.ENOTFOUND, "UserByEmail(unknown)")
}

func testUpdateUser(t *testing.T, s jot.Store) {
	ctx := t.Context()
	mustUser(t, s, "admin@example.com", jot.RoleAdmin)
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)

	now := base().Add(time.Hour)
	name := "Ada Lovelace"
	got, err := s.UpdateUser(ctx, u.ID, jot.UserUpdate{Name: &name}, now)
	if err != nil {
		t.Fatalf("UpdateUser(name): %v", err)
	}
	want := *u
	want.Name = name
	want.UpdatedAt = now
	checkUser(t, got, &want)
	checkUser(t, mustUserByID(t, s, u.ID), &want)

	now = now.Add(time.Minute)
	role, disabled, hash := jot.RoleAdmin, true, "$2a$12$new"
	got, err = s.UpdateUser(ctx, u.ID, jot.UserUpdate{Role: &role, Disabled: &disabled, PasswordHash: &hash}, now)
	if err != nil {
		t.Fatalf("UpdateUser(role, disabled, hash): %v", err)
	}
	want.Role, want.Disabled, want.PasswordHash, want.UpdatedAt = role, disabled, hash, now
	checkUser(t, got, &want)
	checkUser(t, mustUserByID(t, s, u.ID), &want)

	enabled := false
	now = now.Add(time.Minute)
	got, err = s.UpdateUser(ctx, u.ID, jot.UserUpdate{Disabled: &enabled}, now)
	if err != nil {
		t.Fatalf("UpdateUser(enable): %v", err)
	}
	want.Disabled, want.UpdatedAt = false, now
	checkUser(t, got, &want)

	_, err = s.UpdateUser(ctx, jot.NewID(), jot.UserUpdate{Name: &name}, now)
	wantCode(t, err, jot.ENOTFOUND, "UpdateUser(unknown)")
}

func testUpdateUserLastAdmin(t *testing.T, s jot.Store) {
	ctx := t.Context()
	now := base().Add(time.Hour)
	a := mustUser(t, s, "a@example.com", jot.RoleAdmin)
	mustUser(t, s, "user@example.com", jot.RoleUser)
	sess, _ := mustSession(t, s, a, base())
	yes, no := true, false
	user, admin := jot.RoleUser, jot.RoleAdmin

	refused := func(what string, id string, upd jot.UserUpdate) {
		t.Helper()
		before := mustUserByID(t, s, id)
		_, err := s.UpdateUser(ctx, id, upd, now)
		wantCode(t, err, jot.ECONFLICT, what)
		checkUser(t, mustUserByID(t, s, id), before)
	}
	allowed := func(what string, id string, upd jot.UserUpdate) {
		t.Helper()
		if _, err := s.UpdateUser(ctx, id, upd, now); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	refused("disable the only admin", a.ID, jot.UserUpdate{Disabled: &yes, EndSessions: true})
	refused("demote the only admin", a.ID, jot.UserUpdate{Role: &user, EndSessions: true})
	refused("demote and disable the only admin", a.ID, jot.UserUpdate{Role: &user, Disabled: &yes})
	// The refused updates ended nothing: it all happens in one transaction.
	checkLive(t, s, revocationsOf(t, s), sess.ID)
	name := "Still Admin"
	allowed("rename the only admin", a.ID, jot.UserUpdate{Name: &name})
	allowed("enable the only admin again", a.ID, jot.UserUpdate{Disabled: &no})

	// A disabled admin does not count as another admin.
	d := newUser("d@example.com", jot.RoleAdmin)
	d.Disabled = true
	if err := s.CreateUser(ctx, d); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	refused("disable the only active admin", a.ID, jot.UserUpdate{Disabled: &yes})
	allowed("demote a disabled admin", d.ID, jot.UserUpdate{Role: &user})

	b := mustUser(t, s, "b@example.com", jot.RoleAdmin)
	allowed("demote one of two admins", a.ID, jot.UserUpdate{Role: &user})
	refused("disable the remaining admin", b.ID, jot.UserUpdate{Disabled: &yes})
	refused("demote the remaining admin", b.ID, jot.UserUpdate{Role: &user})
	allowed("promote a user", a.ID, jot.UserUpdate{Role: &admin})
	allowed("disable one of two admins", b.ID, jot.UserUpdate{Disabled: &yes})
	if got := mustUserByID(t, s, b.ID); !got.Disabled || got.Role != jot.RoleAdmin {
		t.Errorf("user b = %+v, want a disabled admin", *got)
	}
}

func testUpdateUserEndSessions(t *testing.T, s jot.Store) {
	ctx := t.Context()
	mustUser(t, s, "admin@example.com", jot.RoleAdmin)
	e := newEndSet(t, s)
	u, o, s2 := e.u, e.o, e.s2

	now := base().Add(time.Minute)
	hash := "$2a$12$changed"
	got, err := s.UpdateUser(ctx, u.ID, jot.UserUpdate{PasswordHash: &hash, EndSessions: true, EndSessionsExcept: s2.ID}, now)
	if err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	if got.PasswordHash != hash {
		t.Errorf("PasswordHash = %q, want %q", got.PasswordHash, hash)
	}
	e.check(t, s, now, time.Time{})

	// Without an exception every session ends; already ended ones stay as
	// they were.
	later := now.Add(time.Minute)
	yes := true
	if _, err := s.UpdateUser(ctx, u.ID, jot.UserUpdate{Disabled: &yes, EndSessions: true}, later); err != nil {
		t.Fatalf("UpdateUser(disable): %v", err)
	}
	e.check(t, s, now, later)

	// Without EndSessions nothing ends.
	o2, _ := mustSession(t, s, o, base().Add(time.Hour))
	name := "x"
	if _, err := s.UpdateUser(ctx, o.ID, jot.UserUpdate{Name: &name}, later); err != nil {
		t.Fatalf("UpdateUser(name): %v", err)
	}
	revs := revocationsOf(t, s)
	checkLive(t, s, revs, e.so.ID)
	checkLive(t, s, revs, o2.ID)
}

func testUpdateUserIfPasswordHash(t *testing.T, s jot.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	sess, _ := mustSession(t, s, u, base())

	// The hash it names is the stored one: the update applies.
	now := base().Add(time.Minute)
	verified, rehashed := u.PasswordHash, "$2a$12$rehashed"
	got, err := s.UpdateUser(ctx, u.ID, jot.UserUpdate{PasswordHash: &rehashed, IfPasswordHash: &verified}, now)
	if err != nil {
		t.Fatalf("UpdateUser(matching IfPasswordHash): %v", err)
	}
	want := *u
	want.PasswordHash, want.UpdatedAt = rehashed, now
	checkUser(t, got, &want)
	checkUser(t, mustUserByID(t, s, u.ID), &want)

	// A stale one (the password changed since it was read): ECONFLICT, and
	// nothing changes, sessions included.
	stale, other, name := verified, "$2a$12$other", "Changed"
	_, err = s.UpdateUser(ctx, u.ID, jot.UserUpdate{
		Name: &name, PasswordHash: &other, IfPasswordHash: &stale, EndSessions: true,
	}, now.Add(time.Minute))
	wantCode(t, err, jot.ECONFLICT, "UpdateUser(stale IfPasswordHash)")
	checkUser(t, mustUserByID(t, s, u.ID), &want)
	revs := revocationsOf(t, s)
	checkLive(t, s, revs, sess.ID)
	if len(revs) != 0 {
		t.Errorf("%d revocations after a refused update, want 0", len(revs))
	}

	// The condition holds for any update, not only of the hash.
	later := now.Add(2 * time.Minute)
	got, err = s.UpdateUser(ctx, u.ID, jot.UserUpdate{Name: &name, IfPasswordHash: &rehashed}, later)
	if err != nil {
		t.Fatalf("UpdateUser(name, matching IfPasswordHash): %v", err)
	}
	want.Name, want.UpdatedAt = name, later
	checkUser(t, got, &want)

	_, err = s.UpdateUser(ctx, jot.NewID(), jot.UserUpdate{PasswordHash: &other, IfPasswordHash: &stale}, later)
	wantCode(t, err, jot.ENOTFOUND, "UpdateUser(unknown, IfPasswordHash)")
}

func testDeleteUser(t *testing.T, s jot.Store) {
	ctx := t.Context()
	mustUser(t, s, "admin@example.com", jot.RoleAdmin)
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	o := mustUser(t, s, "other@example.com", jot.RoleUser)

	ended, _ := mustSession(t, s, u, base())
	endedAt := base().Add(time.Minute)
	if err := s.EndSession(ctx, ended.ID, endedAt); err != nil {
		t.Fatalf("EndSession: %v", err)
	}
	live, liveHash := mustSession(t, s, u, base().Add(time.Second))
	other, _ := mustSession(t, s, o, base())
	task := mustTask(t, s, u, "mine")
	recipe := mustRecipe(t, s, u, "my soup")
	otherTask := mustTask(t, s, o, "theirs")
	otherRecipe := mustRecipe(t, s, o, "their soup")

	now := base().Add(time.Hour)
	if err := s.DeleteUser(ctx, u.ID, now); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err := s.UserByID(ctx, u.ID)
	wantCode(t, err, jot.ENOTFOUND, "UserByID(deleted)")
	_, err = s.UserByEmail(ctx, u.Email)
	wantCode(t, err, jot.ENOTFOUND, "UserByEmail(deleted)")
	for _, id := range []string{ended.ID, live.ID} {
		_, err = s.SessionByID(ctx, id)
		wantCode(t, err, jot.ENOTFOUND, "SessionByID(session of deleted user)")
	}
	_, err = s.TaskByID(ctx, task.ID)
	wantCode(t, err, jot.ENOTFOUND, "TaskByID(task of deleted user)")
	_, err = s.RecipeByID(ctx, recipe.ID)
	wantCode(t, err, jot.ENOTFOUND, "RecipeByID(recipe of deleted user)")

	// The revocations outlive the sessions: their access tokens are still out.
	revs := revocationsOf(t, s)
	if len(revs) != 2 {
		t.Errorf("%d revocations, want 2 (one for each session, no second for the ended one)", len(revs))
	}
	if r, ok := revs[live.ID]; !ok {
		t.Errorf("live session of the deleted user was not revoked")
	} else {
		checkTime(t, "revocation Exp", r.Exp, live.AccessExp)
		checkTime(t, "revocation EndedAt", r.EndedAt, now)
	}
	if r, ok := revs[ended.ID]; ok {
		checkTime(t, "revocation EndedAt of the session ended before", r.EndedAt, endedAt)
	}

	res, err := s.RotateRefresh(ctx, rotateReq(liveHash, newHash(t), now, time.Minute))
	if err != nil {
		t.Fatalf("RotateRefresh: %v", err)
	}
	if res.Outcome != jot.RotateInvalid {
		t.Errorf("RotateRefresh of a deleted user's token: outcome %v, want RotateInvalid", res.Outcome)
	}

	// The other user keeps everything.
	checkUser(t, mustUserByID(t, s, o.ID), o)
	checkSession(t, mustSessionByID(t, s, other.ID), other)
	if _, err := s.TaskByID(ctx, otherTask.ID); err != nil {
		t.Errorf("TaskByID(other's task): %v", err)
	}
	if _, err := s.RecipeByID(ctx, otherRecipe.ID); err != nil {
		t.Errorf("RecipeByID(other's recipe): %v", err)
	}

	err = s.DeleteUser(ctx, u.ID, now)
	wantCode(t, err, jot.ENOTFOUND, "DeleteUser twice")
}

func testDeleteUserLastAdmin(t *testing.T, s jot.Store) {
	ctx := t.Context()
	now := base().Add(time.Hour)
	a := mustUser(t, s, "a@example.com", jot.RoleAdmin)
	d := newUser("d@example.com", jot.RoleAdmin)
	d.Disabled = true
	if err := s.CreateUser(ctx, d); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	sess, _ := mustSession(t, s, a, base())

	err := s.DeleteUser(ctx, a.ID, now)
	wantCode(t, err, jot.ECONFLICT, "DeleteUser(only active admin)")
	checkUser(t, mustUserByID(t, s, a.ID), a)
	checkLive(t, s, revocationsOf(t, s), sess.ID)

	if err := s.DeleteUser(ctx, d.ID, now); err != nil {
		t.Fatalf("DeleteUser(disabled admin): %v", err)
	}
	b := mustUser(t, s, "b@example.com", jot.RoleAdmin)
	if err := s.DeleteUser(ctx, a.ID, now); err != nil {
		t.Fatalf("DeleteUser(one of two admins): %v", err)
	}
	err = s.DeleteUser(ctx, b.ID, now)
	wantCode(t, err, jot.ECONFLICT, "DeleteUser(remaining admin)")
}

func testListUsers(t *testing.T, s jot.Store) {
	ctx := t.Context()
	const n = 250
	users := make([]*jot.User, n)
	want := make([]string, n)
	for i := range users {
		users[i] = newUser(label("user", i)+"@example.com", jot.RoleUser)
		want[i] = users[i].ID
	}
	slices.Sort(want)
	// Stored out of id order, so insertion order cannot pass for id order.
	rand.Shuffle(n, func(i, j int) { users[i], users[j] = users[j], users[i] })
	if err := s.CreateUsers(ctx, users); err != nil {
		t.Fatalf("CreateUsers: %v", err)
	}
	list := func(p jot.Page) ([]*jot.User, error) { return s.ListUsers(ctx, p) }
	id := func(u *jot.User) string { return u.ID }
	for _, limit := range []int{7, 50, n, n + 1} {
		checkIDs(t, fmt.Sprintf("ListUsers by %d", limit), walk(t, limit, list, id), want)
	}
	page, err := s.ListUsers(ctx, jot.Page{After: want[n-1], Limit: 10})
	if err != nil || len(page) != 0 {
		t.Errorf("ListUsers after the last id = %d users, %v; want none", len(page), err)
	}
	page, err = s.ListUsers(ctx, jot.Page{After: want[99], Limit: 3})
	if err != nil || len(page) != 3 {
		t.Fatalf("ListUsers after the 100th = %d users, %v; want 3", len(page), err)
	}
	checkIDs(t, "ListUsers after the 100th", []string{page[0].ID, page[1].ID, page[2].ID}, want[100:103])
	for _, u := range users {
		if u.ID == page[0].ID {
			checkUser(t, page[0], u)
		}
	}
}

// testMaxBcryptCost checks a store that implements jot.HashCostStore: the
// highest cost among bcrypt hashes, whatever their variant letter, with
// other hashes (argon2id) left out, following updates and deletions.
func testMaxBcryptCost(t *testing.T, s jot.Store) {
	hs, ok := s.(jot.HashCostStore)
	if !ok {
		t.Skip("the store does not implement jot.HashCostStore")
	}
	want := func(n int) {
		t.Helper()
		got, err := hs.MaxBcryptCost(t.Context())
		if err != nil || got != n {
			t.Fatalf("MaxBcryptCost = %d, %v; want %d", got, err, n)
		}
	}
	want(0)
	a := newUser("argon@example.com", jot.RoleUser)
	a.PasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"
	if err := s.CreateUser(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	want(0)
	mustUser(t, s, "ten@example.com", jot.RoleUser) // $2a$10$
	want(10)
	b := newUser("thirteen@example.com", jot.RoleUser)
	b.PasswordHash = "$2y$13$" + b.Email
	if err := s.CreateUser(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	want(13)
	lower := "$2b$09$x"
	if _, err := s.UpdateUser(t.Context(), b.ID, jot.UserUpdate{PasswordHash: &lower}, base()); err != nil {
		t.Fatal(err)
	}
	want(10)
	b2 := newUser("twelve@example.com", jot.RoleUser)
	b2.PasswordHash = "$2a$12$" + b2.Email
	if err := s.CreateUser(t.Context(), b2); err != nil {
		t.Fatal(err)
	}
	want(12)
	if err := s.DeleteUser(t.Context(), b2.ID, base()); err != nil {
		t.Fatal(err)
	}
	want(10)
}
