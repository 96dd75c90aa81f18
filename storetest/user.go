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
