package resources_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/policy"
	"github.com/jotauth/jot/resources"
	"github.com/jotauth/jot/sqlite"
)

// fixture is a migrated SQLite store with two users and an admin.
type fixture struct {
	store           *sqlite.DB
	ann, bob, admin policy.Subject
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := t.Context()
	db, err := sqlite.Open(ctx, sqlite.Memory)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: db}
	for _, u := range []struct {
		sub  *policy.Subject
		name string
		role jot.Role
	}{{&f.ann, "ann", jot.RoleUser}, {&f.bob, "bob", jot.RoleUser}, {&f.admin, "root", jot.RoleAdmin}} {
		now := time.Now().UTC()
		user := &jot.User{ID: jot.NewID(), Email: u.name + "@example.com", Name: u.name, Role: u.role,
			PasswordHash: "$2a$10$not-a-real-hash", CreatedAt: now, UpdatedAt: now}
		if err := db.CreateUser(ctx, user); err != nil {
			t.Fatal(err)
		}
		*u.sub = policy.Subject{UserID: user.ID, Role: u.role}
	}
	return f
}

// body returns a read function that sets the change to c.
func body[T any](c T) func(*T) error {
	return func(dst *T) error { *dst = c; return nil }
}

// unread fails the test if the service reads the body.
func unread[T any](t *testing.T) func(*T) error {
	return func(*T) error { t.Error("the body was read"); return nil }
}

func str(s string) resources.Field[string] { return resources.Field[string]{Set: true, V: s} }

func wantCode(t *testing.T, err error, code, msg string) {
	t.Helper()
	if jot.ErrorCode(err) != code || (msg != "" && jot.ErrorMessage(err) != msg) {
		t.Fatalf("got %v (%s), want %s %q", err, jot.ErrorCode(err), code, msg)
	}
}

func TestTasks(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	tasks := resources.NewTasks(f.store, resources.Options{})

	task, err := tasks.Create(ctx, f.ann, body(resources.TaskChange{Title: str("  buy milk ")}))
	if err != nil || task.Title != "buy milk" || task.OwnerID != f.ann.UserID {
		t.Fatalf("create: %+v, %v", task, err)
	}
	// Another user's task is not found, exactly as a missing one, and its
	// body is never read.
	_, err = tasks.Get(ctx, f.bob, task.ID)
	wantCode(t, err, jot.ENOTFOUND, "task not found")
	_, err = tasks.Get(ctx, f.bob, jot.NewID())
	wantCode(t, err, jot.ENOTFOUND, "task not found")
	_, err = tasks.Update(ctx, f.bob, task.ID, unread[resources.TaskChange](t))
	wantCode(t, err, jot.ENOTFOUND, "task not found")
	wantCode(t, tasks.Delete(ctx, f.bob, task.ID), jot.ENOTFOUND, "task not found")
	if got, err := tasks.Get(ctx, f.admin, task.ID); err != nil || got.ID != task.ID {
		t.Fatalf("admin get: %+v, %v", got, err)
	}

	// Validation: a missing title is a bad request, a blank or null one a
	// validation failure.
	_, err = tasks.Create(ctx, f.ann, body(resources.TaskChange{}))
	wantCode(t, err, jot.EINVALID, `missing field "title"`)
	_, err = tasks.Update(ctx, f.ann, task.ID, body(resources.TaskChange{Title: str(" "), Done: resources.Field[bool]{Set: true, Null: true}}))
	wantCode(t, err, jot.EVALIDATION, "")
	if fields := err.(*jot.Error).Fields; fields["title"] != "must not be empty" || fields["done"] != "must be true or false" {
		t.Errorf("fields %v", fields)
	}

	// An empty change answers the task as it is; a change is stored.
	if got, err := tasks.Update(ctx, f.ann, task.ID, body(resources.TaskChange{})); err != nil || got.UpdatedAt != task.UpdatedAt {
		t.Fatalf("empty update: %+v, %v", got, err)
	}
	if got, err := tasks.Update(ctx, f.admin, task.ID, body(resources.TaskChange{Done: resources.Field[bool]{Set: true, V: true}})); err != nil || !got.Done {
		t.Fatalf("admin update: %+v, %v", got, err)
	}

	// Listing everyone's tasks is for admins, refused before the page is read.
	_, err = tasks.List(ctx, f.ann, true, func() (jot.Page, error) { t.Error("page read"); return jot.Page{}, nil })
	wantCode(t, err, jot.EFORBIDDEN, "only an admin may list every user's tasks")
	page := func() (jot.Page, error) { return jot.Page{Limit: 10}, nil }
	if list, err := tasks.List(ctx, f.bob, false, page); err != nil || len(list) != 0 {
		t.Fatalf("bob's list: %v, %v", list, err)
	}
	if list, err := tasks.List(ctx, f.admin, true, page); err != nil || len(list) != 1 {
		t.Fatalf("admin's list: %v, %v", list, err)
	}

	if err := tasks.Delete(ctx, f.ann, task.ID); err != nil {
		t.Fatal(err)
	}
	_, err = tasks.Get(ctx, f.ann, task.ID)
	wantCode(t, err, jot.ENOTFOUND, "task not found")
}

func TestQuotaAndWrites(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	errBudget := errors.New("no writes left")
	var writes []string
	opts := resources.Options{MaxPerUser: 1, Writes: func(_ context.Context, userID string) error {
		writes = append(writes, userID)
		if userID == f.bob.UserID {
			return errBudget
		}
		return nil
	}}
	tasks := resources.NewTasks(f.store, opts)
	if _, err := tasks.Create(ctx, f.ann, body(resources.TaskChange{Title: str("one")})); err != nil {
		t.Fatal(err)
	}
	_, err := tasks.Create(ctx, f.ann, body(resources.TaskChange{Title: str("two")}))
	wantCode(t, err, jot.EQUOTA, "")
	// The write budget is taken first, before the body or the task.
	if _, err := tasks.Create(ctx, f.bob, unread[resources.TaskChange](t)); !errors.Is(err, errBudget) {
		t.Fatalf("bob over budget: %v", err)
	}
	if err := tasks.Delete(ctx, f.bob, "not-an-id"); !errors.Is(err, errBudget) {
		t.Fatalf("bob's delete over budget: %v", err)
	}
	if len(writes) != 4 {
		t.Errorf("writes taken: %d", len(writes))
	}

	recipes := resources.NewRecipes(f.store, opts)
	full := resources.RecipeChange{Title: str("soup"), Instructions: str("boil"),
		Ingredients: resources.Field[[]string]{Set: true, V: []string{" water "}}}
	if _, err := recipes.Create(ctx, f.ann, body(full)); err != nil {
		t.Fatal(err)
	}
	_, err = recipes.Create(ctx, f.ann, body(full))
	wantCode(t, err, jot.EQUOTA, "")
}

func TestRecipes(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	recipes := resources.NewRecipes(f.store, resources.Options{})

	_, err := recipes.Create(ctx, f.ann, body(resources.RecipeChange{Title: str("soup")}))
	wantCode(t, err, jot.EINVALID, `missing field "ingredients"`)
	rec, err := recipes.Create(ctx, f.ann, body(resources.RecipeChange{Title: str("soup"), Instructions: str("boil\n"),
		Ingredients: resources.Field[[]string]{Set: true, V: []string{" water ", "salt"}}}))
	if err != nil || rec.Ingredients[0] != "water" {
		t.Fatalf("create: %+v, %v", rec, err)
	}
	// Recipes are public to read, and changed by their owner or an admin:
	// another user is forbidden, not told it is missing.
	if got, err := recipes.Get(ctx, rec.ID); err != nil || got.Title != "soup" {
		t.Fatalf("get: %+v, %v", got, err)
	}
	_, err = recipes.Get(ctx, "nope")
	wantCode(t, err, jot.ENOTFOUND, "recipe not found")
	_, err = recipes.Update(ctx, f.bob, rec.ID, unread[resources.RecipeChange](t))
	wantCode(t, err, jot.EFORBIDDEN, "only the recipe's owner or an admin may change it")
	wantCode(t, recipes.Delete(ctx, f.bob, rec.ID), jot.EFORBIDDEN, "")
	_, err = recipes.Update(ctx, f.bob, jot.NewID(), unread[resources.RecipeChange](t))
	wantCode(t, err, jot.ENOTFOUND, "recipe not found")

	// A replace needs every field; an update changes the ones sent.
	_, err = recipes.Replace(ctx, f.ann, rec.ID, body(resources.RecipeChange{Title: str("stew")}))
	wantCode(t, err, jot.EINVALID, `missing field "ingredients"`)
	_, err = recipes.Update(ctx, f.ann, rec.ID, body(resources.RecipeChange{Ingredients: resources.Field[[]string]{Set: true}}))
	wantCode(t, err, jot.EVALIDATION, "")
	got, err := recipes.Update(ctx, f.admin, rec.ID, body(resources.RecipeChange{Title: str("stew")}))
	if err != nil || got.Title != "stew" || got.Instructions != "boil\n" {
		t.Fatalf("update: %+v, %v", got, err)
	}
	if list, err := recipes.List(ctx, jot.Page{Limit: 10}); err != nil || len(list) != 1 || list[0].Title != "stew" {
		t.Fatalf("list: %v, %v", list, err)
	}
	if err := recipes.Delete(ctx, f.ann, rec.ID); err != nil {
		t.Fatal(err)
	}
	_, err = recipes.Get(ctx, rec.ID)
	wantCode(t, err, jot.ENOTFOUND, "recipe not found")
}
