package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jotauth/jot"
)

func newTask(owner *jot.User, title string) *jot.Task {
	return &jot.Task{ID: jot.NewID(), OwnerID: owner.ID, Title: title, CreatedAt: base(), UpdatedAt: base()}
}

func mustTask(t *testing.T, s jot.Store, owner *jot.User, title string) *jot.Task {
	t.Helper()
	task := newTask(owner, title)
	if err := s.CreateTask(t.Context(), task); err != nil {
		t.Fatalf("CreateTask: %v", err)
	}
	return task
}

func newRecipe(owner *jot.User, title string) *jot.Recipe {
	return &jot.Recipe{
		ID:           jot.NewID(),
		OwnerID:      owner.ID,
		Title:        title,
		Ingredients:  []string{"1 onion", `2 "large" carrots`, "", "½ l Wasser, kalt"},
		Instructions: "Chop.\nBoil for 20 minutes.",
		CreatedAt:    base(),
		UpdatedAt:    base(),
	}
}

func mustRecipe(t *testing.T, s jot.Store, owner *jot.User, title string) *jot.Recipe {
	t.Helper()
	r := newRecipe(owner, title)
	if err := s.CreateRecipe(t.Context(), r); err != nil {
		t.Fatalf("CreateRecipe: %v", err)
	}
	return r
}

func checkTask(t *testing.T, got, want *jot.Task) {
	t.Helper()
	if got.ID != want.ID || got.OwnerID != want.OwnerID || got.Title != want.Title || got.Done != want.Done {
		t.Errorf("task = %+v, want %+v", *got, *want)
	}
	checkTime(t, "task CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "task UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func checkRecipe(t *testing.T, got, want *jot.Recipe) {
	t.Helper()
	if got.ID != want.ID || got.OwnerID != want.OwnerID || got.Title != want.Title ||
		!slices.Equal(got.Ingredients, want.Ingredients) || got.Instructions != want.Instructions {
		t.Errorf("recipe = %+v, want %+v", *got, *want)
	}
	checkTime(t, "recipe CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "recipe UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func testTasks(t *testing.T, s jot.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	o := mustUser(t, s, "other@example.com", jot.RoleUser)
	task := mustTask(t, s, u, "write the store")
	get := func(id string) *jot.Task {
		t.Helper()
		got, err := s.TaskByID(ctx, id)
		if err != nil {
			t.Fatalf("TaskByID: %v", err)
		}
		return got
	}
	checkTask(t, get(task.ID), task)

	// UpdateTask writes Title, Done and UpdatedAt, never the owner: a
	// handler that passes a decoded body through cannot move a task.
	upd := *task
	upd.Title, upd.Done, upd.UpdatedAt = "write the store, tested", true, base().Add(time.Hour)
	upd.OwnerID, upd.CreatedAt = o.ID, base().Add(time.Hour)
	if err := s.UpdateTask(ctx, &upd); err != nil {
		t.Fatalf("UpdateTask: %v", err)
	}
	want := *task
	want.Title, want.Done, want.UpdatedAt = upd.Title, upd.Done, upd.UpdatedAt
	checkTask(t, get(task.ID), &want)

	missing := newTask(u, "nothing")
	wantCode(t, s.UpdateTask(ctx, missing), jot.ENOTFOUND, "UpdateTask(unknown)")
	_, err := s.TaskByID(ctx, missing.ID)
	wantCode(t, err, jot.ENOTFOUND, "TaskByID(unknown)")
	if err := s.CreateTask(ctx, newTask(&jot.User{ID: jot.NewID()}, "orphan")); err == nil {
		t.Error("CreateTask for an unknown owner succeeded")
	}

	kept := mustTask(t, s, u, "keep me")
	if err := s.DeleteTask(ctx, task.ID); err != nil {
		t.Fatalf("DeleteTask: %v", err)
	}
	_, err = s.TaskByID(ctx, task.ID)
	wantCode(t, err, jot.ENOTFOUND, "TaskByID(deleted)")
	wantCode(t, s.DeleteTask(ctx, task.ID), jot.ENOTFOUND, "DeleteTask twice")
	checkTask(t, get(kept.ID), kept)
}

func testListTasks(t *testing.T, s jot.Store) {
	ctx := t.Context()
	a := mustUser(t, s, "a@example.com", jot.RoleUser)
	b := mustUser(t, s, "b@example.com", jot.RoleUser)
	const n = 250
	tasks := make([]*jot.Task, n)
	var all, ofA, ofB []string
	for i := range tasks {
		owner := b
		if i%3 == 0 {
			owner = a
		}
		tasks[i] = newTask(owner, label("task", i))
		all = append(all, tasks[i].ID)
		if owner == a {
			ofA = append(ofA, tasks[i].ID)
		} else {
			ofB = append(ofB, tasks[i].ID)
		}
	}
	slices.Sort(all)
	slices.Sort(ofA)
	slices.Sort(ofB)
	rand.Shuffle(n, func(i, j int) { tasks[i], tasks[j] = tasks[j], tasks[i] })
	for _, task := range tasks {
		if err := s.CreateTask(ctx, task); err != nil {
			t.Fatalf("CreateTask: %v", err)
		}
	}

	id := func(x *jot.Task) string { return x.ID }
	lister := func(owner string) func(jot.Page) ([]*jot.Task, error) {
		return func(p jot.Page) ([]*jot.Task, error) { return s.ListTasks(ctx, owner, p) }
	}
	for _, limit := range []int{7, 100} {
		checkIDs(t, fmt.Sprintf("ListTasks(all) by %d", limit), walk(t, limit, lister(""), id), all)
		checkIDs(t, fmt.Sprintf("ListTasks(a) by %d", limit), walk(t, limit, lister(a.ID), id), ofA)
		checkIDs(t, fmt.Sprintf("ListTasks(b) by %d", limit), walk(t, limit, lister(b.ID), id), ofB)
	}
	got, err := s.ListTasks(ctx, jot.NewID(), jot.Page{Limit: 100})
	if err != nil || len(got) != 0 {
		t.Errorf("ListTasks(unknown owner) = %d tasks, %v; want none", len(got), err)
	}
	// A cursor from another owner's list still works: it is only an id.
	got, err = s.ListTasks(ctx, a.ID, jot.Page{After: ofB[0], Limit: 1})
	if err != nil || len(got) != 1 {
		t.Fatalf("ListTasks(a after b's first) = %d tasks, %v; want 1", len(got), err)
	}
	i, _ := slices.BinarySearch(ofA, ofB[0])
	if got[0].ID != ofA[i] {
		t.Errorf("ListTasks(a after b's first) = %s, want %s", got[0].ID, ofA[i])
	}
	for _, task := range tasks {
		if task.ID == got[0].ID {
			checkTask(t, got[0], task)
		}
	}
}

func testRecipes(t *testing.T, s jot.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	o := mustUser(t, s, "other@example.com", jot.RoleUser)
	r := mustRecipe(t, s, u, "soup")
	get := func(id string) *jot.Recipe {
		t.Helper()
		got, err := s.RecipeByID(ctx, id)
		if err != nil {
			t.Fatalf("RecipeByID: %v", err)
		}
		return got
	}
	checkRecipe(t, get(r.ID), r)

	upd := *r
	upd.Title, upd.Instructions, upd.UpdatedAt = "better soup", "Chop finer.", base().Add(time.Hour)
	upd.Ingredients = []string{"3 leeks"}
	upd.OwnerID, upd.CreatedAt = o.ID, base().Add(time.Hour)
	if err := s.UpdateRecipe(ctx, &upd); err != nil {
		t.Fatalf("UpdateRecipe: %v", err)
	}
	want := *r
	want.Title, want.Instructions, want.UpdatedAt, want.Ingredients = upd.Title, upd.Instructions, upd.UpdatedAt, upd.Ingredients
	checkRecipe(t, get(r.ID), &want)

	upd.Ingredients = nil
	if err := s.UpdateRecipe(ctx, &upd); err != nil {
		t.Fatalf("UpdateRecipe(no ingredients): %v", err)
	}
	if got := get(r.ID); len(got.Ingredients) != 0 {
		t.Errorf("Ingredients = %q, want none", got.Ingredients)
	}

	missing := newRecipe(u, "nothing")
	wantCode(t, s.UpdateRecipe(ctx, missing), jot.ENOTFOUND, "UpdateRecipe(unknown)")
	_, err := s.RecipeByID(ctx, missing.ID)
	wantCode(t, err, jot.ENOTFOUND, "RecipeByID(unknown)")
	if err := s.CreateRecipe(ctx, newRecipe(&jot.User{ID: jot.NewID()}, "orphan")); err == nil {
		t.Error("CreateRecipe for an unknown owner succeeded")
	}

	kept := mustRecipe(t, s, o, "bread")
	if err := s.DeleteRecipe(ctx, r.ID); err != nil {
		t.Fatalf("DeleteRecipe: %v", err)
	}
	_, err = s.RecipeByID(ctx, r.ID)
	wantCode(t, err, jot.ENOTFOUND, "RecipeByID(deleted)")
	wantCode(t, s.DeleteRecipe(ctx, r.ID), jot.ENOTFOUND, "DeleteRecipe twice")
	checkRecipe(t, get(kept.ID), kept)
}

func testListRecipes(t *testing.T, s jot.Store) {
	ctx := t.Context()
	a := mustUser(t, s, "a@example.com", jot.RoleUser)
	b := mustUser(t, s, "b@example.com", jot.RoleUser)
	const n = 250
	recipes := make([]*jot.Recipe, n)
	want := make([]string, n)
	for i := range recipes {
		owner := a
		if i%2 == 1 {
			owner = b
		}
		recipes[i] = newRecipe(owner, label("recipe", i))
		want[i] = recipes[i].ID
	}
	slices.Sort(want)
	rand.Shuffle(n, func(i, j int) { recipes[i], recipes[j] = recipes[j], recipes[i] })
	for _, r := range recipes {
		if err := s.CreateRecipe(ctx, r); err != nil {
			t.Fatalf("CreateRecipe: %v", err)
		}
	}
	list := func(p jot.Page) ([]*jot.Recipe, error) { return s.ListRecipes(ctx, p) }
	id := func(r *jot.Recipe) string { return r.ID }
	for _, limit := range []int{7, 100} {
		checkIDs(t, fmt.Sprintf("ListRecipes by %d", limit), walk(t, limit, list, id), want)
	}
	page, err := s.ListRecipes(ctx, jot.Page{After: want[41], Limit: 1})
	if err != nil || len(page) != 1 || page[0].ID != want[42] {
		t.Fatalf("ListRecipes after the 42nd = %v, %v; want the 43rd", page, err)
	}
	for _, r := range recipes {
		if r.ID == page[0].ID {
			checkRecipe(t, page[0], r)
		}
	}
}
