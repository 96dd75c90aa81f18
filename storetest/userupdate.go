package storetest

import (
	"testing"
	"time"

	"github.com/jotauth/jot"
)

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
