package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/accounts"
	"github.com/jotauth/jot/config"
)

// makeAdmin signs a user up, promotes them and starts a new session for
// them: the promotion ends the signup session, whose token says "user".
// The session is started directly rather than by a login, which would
// spend another password hash.
func (e *env) makeAdmin(email string) tokens {
	e.t.Helper()
	ctx := context.Background()
	tk := e.signup(email, "pass-phrase-1")
	role := jot.RoleAdmin
	u, err := e.app.Accounts.AdminUpdateUser(ctx, tk.User.ID, accounts.AdminUpdate{Role: &role})
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := e.app.Accounts.StartSession(ctx, u, accounts.Client{})
	if err != nil {
		e.t.Fatal(err)
	}
	b, err := json.Marshal(resp)
	if err != nil {
		e.t.Fatal(err)
	}
	var admin tokens
	if err := json.Unmarshal(b, &admin); err != nil {
		e.t.Fatal(err)
	}
	if admin.User.Role != "admin" {
		e.t.Fatalf("role %q after promotion", admin.User.Role)
	}
	wantInvalidToken(e.t, e.do("GET", "/v1/users/me", tk.Access, nil), "revoked")
	return admin
}

// wantStatus checks a status and returns the body as a JSON object.
func wantStatus(t *testing.T, r *response, status int) map[string]any {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", r.StatusCode, status, r.body)
	}
	if status == http.StatusNoContent {
		return nil
	}
	return r.json()
}

// wantForbidden checks a 403 insufficient_scope with its challenge.
func wantForbidden(t *testing.T, r *response) {
	t.Helper()
	wantError(t, r, http.StatusForbidden, "insufficient_scope")
	if got, want := r.Header.Get("WWW-Authenticate"), `Bearer realm="jot", error="insufficient_scope"`; got != want {
		t.Errorf("WWW-Authenticate %q, want %q", got, want)
	}
}

// wantFields checks a 422 validation_failed naming exactly these fields.
func wantFields(t *testing.T, r *response, fields ...string) {
	t.Helper()
	m := wantError(t, r, http.StatusUnprocessableEntity, "validation_failed")
	got, _ := m["fields"].(map[string]any)
	for _, f := range fields {
		if msg, _ := got[f].(string); msg == "" {
			t.Errorf("no message for field %q: %s", f, r.body)
		}
	}
	if len(got) != len(fields) {
		t.Errorf("fields %v, want exactly %v", got, fields)
	}
}

func (e *env) createTask(bearer, title string) map[string]any {
	e.t.Helper()
	return wantStatus(e.t, e.do("POST", "/v1/tasks", bearer, map[string]any{"title": title}), http.StatusCreated)
}

func (e *env) createRecipe(bearer, title string) map[string]any {
	e.t.Helper()
	body := map[string]any{"title": title, "ingredients": []string{"flour", "water"}, "instructions": "Mix."}
	return wantStatus(e.t, e.do("POST", "/v1/recipes", bearer, body), http.StatusCreated)
}

// walk follows next_cursor through a whole list and returns the ids in the
// order served. Every page but the last must be full, and the last must
// say so with "next_cursor": null.
func (e *env) walk(path, bearer, key string, limit int) []string {
	e.t.Helper()
	var ids []string
	cursor := ""
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	for pages := 0; ; pages++ {
		if pages > 1000 {
			e.t.Fatal("pagination does not end")
		}
		u := fmt.Sprintf("%s%slimit=%d", path, sep, limit)
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		r := e.do("GET", u, bearer, nil)
		if r.StatusCode != http.StatusOK {
			e.t.Fatalf("GET %s: %d %s", u, r.StatusCode, r.body)
		}
		var page map[string]json.RawMessage
		if err := json.Unmarshal(r.body, &page); err != nil {
			e.t.Fatal(err)
		}
		var items []struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(page[key], &items); err != nil || items == nil {
			e.t.Fatalf("%s is not an array: %s", key, r.body)
		}
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		raw, ok := page["next_cursor"]
		if !ok {
			e.t.Fatalf("no next_cursor: %s", r.body)
		}
		if string(raw) == "null" {
			return ids
		}
		if len(items) != limit {
			e.t.Fatalf("a page with a next_cursor has %d items, want %d", len(items), limit)
		}
		if err := json.Unmarshal(raw, &cursor); err != nil || cursor == "" {
			e.t.Fatalf("next_cursor %s", raw)
		}
	}
}

// wantAllOnce checks that got holds every id of want exactly once, in a
// stable order (sorted, since ids are time-ordered UUIDv7).
func wantAllOnce(t *testing.T, got, want []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Fatalf("id %s served twice", id)
		}
		seen[id] = true
	}
	for _, id := range want {
		if !seen[id] {
			t.Fatalf("id %s never served (%d served, %d expected)", id, len(got), len(want))
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d ids served, want %d", len(got), len(want))
	}
	if !slices.IsSorted(got) {
		t.Fatal("list is not in id order")
	}
}

func TestTaskLifecycle(t *testing.T) {
	e := newEnv(t, nil)
	a := e.signup("ann@example.com", "pass-phrase-1")
	r := e.do("POST", "/v1/tasks", a.Access, map[string]any{"title": "  Buy milk  "})
	task := wantStatus(t, r, http.StatusCreated)
	id, _ := task["id"].(string)
	if task["title"] != "Buy milk" || task["done"] != false || task["owner_id"] != a.User.ID || id == "" {
		t.Fatalf("task %v", task)
	}
	for _, k := range []string{"created_at", "updated_at"} {
		if s, _ := task[k].(string); !strings.HasSuffix(s, "Z") {
			t.Errorf("%s %q is not UTC", k, s)
		}
	}
	if loc := r.Header.Get("Location"); loc != "/v1/tasks/"+id {
		t.Errorf("Location %q", loc)
	}
	if len(task) != 6 {
		t.Errorf("task has fields beyond docs/api.md: %v", task)
	}
	got := wantStatus(t, e.do("GET", "/v1/tasks/"+id, a.Access, nil), http.StatusOK)
	if fmt.Sprint(got) != fmt.Sprint(task) {
		t.Fatalf("GET %v, POST answered %v", got, task)
	}
	done := wantStatus(t, e.do("POST", "/v1/tasks", a.Access, map[string]any{"title": "Done already", "done": true}), http.StatusCreated)
	if done["done"] != true {
		t.Fatalf("done %v", done)
	}

	p := wantStatus(t, e.do("PATCH", "/v1/tasks/"+id, a.Access, map[string]any{"done": true}), http.StatusOK)
	if p["done"] != true || p["title"] != "Buy milk" {
		t.Fatalf("patch done: %v", p)
	}
	p = wantStatus(t, e.do("PATCH", "/v1/tasks/"+id, a.Access, map[string]any{"title": "Buy oat milk"}), http.StatusOK)
	if p["done"] != true || p["title"] != "Buy oat milk" {
		t.Fatalf("patch title: %v", p)
	}
	// An empty patch changes nothing, not even updated_at.
	same := wantStatus(t, e.do("PATCH", "/v1/tasks/"+id, a.Access, map[string]any{}), http.StatusOK)
	if fmt.Sprint(same) != fmt.Sprint(p) {
		t.Fatalf("empty patch changed the task: %v -> %v", p, same)
	}

	list := wantStatus(t, e.do("GET", "/v1/tasks", a.Access, nil), http.StatusOK)
	if tasks, _ := list["tasks"].([]any); len(tasks) != 2 {
		t.Fatalf("list %v", list)
	}
	if v, ok := list["next_cursor"]; !ok || v != nil {
		t.Fatalf("next_cursor of the only page: %v", list)
	}

	wantStatus(t, e.do("DELETE", "/v1/tasks/"+id, a.Access, nil), http.StatusNoContent)
	wantError(t, e.do("GET", "/v1/tasks/"+id, a.Access, nil), 404, "not_found")
	wantError(t, e.do("DELETE", "/v1/tasks/"+id, a.Access, nil), 404, "not_found")

	// Every task route wants a token.
	for _, m := range []string{"GET /v1/tasks", "POST /v1/tasks", "GET /v1/tasks/" + id, "PATCH /v1/tasks/" + id, "DELETE /v1/tasks/" + id} {
		method, path, _ := strings.Cut(m, " ")
		wantInvalidToken(t, e.do(method, path, "", nil), "missing")
	}
}

func TestTaskValidation(t *testing.T) {
	e := newEnv(t, nil)
	a := e.signup("bea@example.com", "pass-phrase-1")
	post := func(body any) *response { return e.do("POST", "/v1/tasks", a.Access, body) }
	wantError(t, post(map[string]any{}), 400, "invalid_request")
	wantError(t, post(map[string]any{"done": true}), 400, "invalid_request")
	wantError(t, post(map[string]any{"title": "x", "colour": "red"}), 400, "invalid_request")
	wantError(t, post(`{"title": "x"`), 400, "invalid_request")
	wantError(t, post(map[string]any{"title": 5}), 400, "invalid_request")
	wantError(t, post(map[string]any{"title": "x", "done": "yes"}), 400, "invalid_request")
	wantFields(t, post(map[string]any{"title": ""}), "title")
	wantFields(t, post(map[string]any{"title": "   "}), "title")
	wantFields(t, post(map[string]any{"title": nil}), "title")
	wantFields(t, post(map[string]any{"title": strings.Repeat("é", 201)}), "title")
	wantFields(t, post(map[string]any{"title": "a\x00b"}), "title")
	wantFields(t, post(map[string]any{"title": "", "done": nil}), "title", "done")
	// 200 characters, not bytes, is the limit.
	wantStatus(t, post(map[string]any{"title": strings.Repeat("é", 200)}), http.StatusCreated)

	id := e.createTask(a.Access, "valid")["id"].(string)
	patch := func(body any) *response { return e.do("PATCH", "/v1/tasks/"+id, a.Access, body) }
	wantFields(t, patch(map[string]any{"title": ""}), "title")
	wantFields(t, patch(map[string]any{"done": nil}), "done")
	wantError(t, patch(map[string]any{"owner_id": a.User.ID}), 400, "invalid_request")
	wantError(t, patch(map[string]any{"id": id}), 400, "invalid_request")
	wantError(t, patch(`[]`), 400, "invalid_request")
	if got := wantStatus(t, e.do("GET", "/v1/tasks/"+id, a.Access, nil), http.StatusOK); got["title"] != "valid" {
		t.Fatalf("a refused patch changed the task: %v", got)
	}
}

func TestTaskOfAnotherUserIsNotFound(t *testing.T) {
	e := newEnv(t, nil)
	a := e.signup("cat@example.com", "pass-phrase-1")
	b := e.signup("dov@example.com", "pass-phrase-1")
	id := e.createTask(a.Access, "private")["id"].(string)
	missing := jot.NewID()

	for _, c := range []struct {
		method string
		body   any
	}{
		{"GET", nil},
		{"PATCH", map[string]any{"title": "mine now"}},
		{"PATCH", `{"not": "even valid"`},
		{"DELETE", nil},
	} {
		theirs := e.do(c.method, "/v1/tasks/"+id, b.Access, c.body)
		absent := e.do(c.method, "/v1/tasks/"+missing, b.Access, c.body)
		wantError(t, theirs, 404, "not_found")
		wantError(t, absent, 404, "not_found")
		if string(theirs.body) != string(absent.body) {
			t.Errorf("%s: another's task and a missing one answer differently:\n%s\n%s", c.method, theirs.body, absent.body)
		}
		malformed := e.do(c.method, "/v1/tasks/not-an-id", b.Access, c.body)
		wantError(t, malformed, 404, "not_found")
		if string(malformed.body) != string(absent.body) {
			t.Errorf("%s: a malformed id answers differently:\n%s\n%s", c.method, malformed.body, absent.body)
		}
	}
	// B's list does not show it either.
	list := wantStatus(t, e.do("GET", "/v1/tasks", b.Access, nil), http.StatusOK)
	if tasks, _ := list["tasks"].([]any); len(tasks) != 0 {
		t.Fatalf("B sees %v", tasks)
	}
	// The task is untouched.
	got := wantStatus(t, e.do("GET", "/v1/tasks/"+id, a.Access, nil), http.StatusOK)
	if got["title"] != "private" {
		t.Fatalf("task changed: %v", got)
	}

	// An admin may do all of it.
	admin := e.makeAdmin("root@example.com")
	if got := wantStatus(t, e.do("GET", "/v1/tasks/"+id, admin.Access, nil), http.StatusOK); got["owner_id"] != a.User.ID {
		t.Fatalf("admin GET: %v", got)
	}
	p := wantStatus(t, e.do("PATCH", "/v1/tasks/"+id, admin.Access, map[string]any{"done": true}), http.StatusOK)
	if p["done"] != true || p["owner_id"] != a.User.ID {
		t.Fatalf("admin PATCH: %v", p)
	}
	wantStatus(t, e.do("DELETE", "/v1/tasks/"+id, admin.Access, nil), http.StatusNoContent)
	wantError(t, e.do("GET", "/v1/tasks/"+id, a.Access, nil), 404, "not_found")
}

func TestTaskListAll(t *testing.T) {
	e := newEnv(t, nil)
	a := e.signup("eli@example.com", "pass-phrase-1")
	b := e.signup("fox@example.com", "pass-phrase-1")
	ta := e.createTask(a.Access, "a's")["id"].(string)
	tb := e.createTask(b.Access, "b's")["id"].(string)

	wantForbidden(t, e.do("GET", "/v1/tasks?all=true", a.Access, nil))
	// all=false is the caller's own list, for anyone.
	if ids := e.walk("/v1/tasks?all=false", a.Access, "tasks", 10); !slices.Equal(ids, []string{ta}) {
		t.Fatalf("own list %v", ids)
	}
	admin := e.makeAdmin("boss@example.com")
	ids := e.walk("/v1/tasks?all=true", admin.Access, "tasks", 10)
	wantAllOnce(t, ids, []string{ta, tb})
	// Without all, an admin's list is their own, like anyone's.
	if ids := e.walk("/v1/tasks", admin.Access, "tasks", 10); len(ids) != 0 {
		t.Fatalf("admin's own list %v", ids)
	}
	wantError(t, e.do("GET", "/v1/tasks?all=maybe", admin.Access, nil), 400, "invalid_request")
}

func TestPaginationWalksTasksWithoutGapOrDuplicate(t *testing.T) {
	// 250 writes by one user: more than the default write rate allows.
	e := newEnv(t, manyWrites)
	a := e.signup("gus@example.com", "pass-phrase-1")
	b := e.signup("hub@example.com", "pass-phrase-1")
	var want []string
	for i := range 250 {
		want = append(want, e.createTask(a.Access, fmt.Sprint("task ", i))["id"].(string))
		// Other users' tasks interleave, and must not show.
		if i%50 == 0 {
			e.createTask(b.Access, "not a's")
		}
	}
	first := e.walk("/v1/tasks", a.Access, "tasks", 7)
	wantAllOnce(t, first, want)
	// The order is stable: a second walk, with another page size, agrees.
	if second := e.walk("/v1/tasks", a.Access, "tasks", 100); !slices.Equal(first, second) {
		t.Fatal("a second walk served another order")
	}
	// The default page is 20.
	page := wantStatus(t, e.do("GET", "/v1/tasks", a.Access, nil), http.StatusOK)
	if tasks, _ := page["tasks"].([]any); len(tasks) != 20 || page["next_cursor"] == nil {
		t.Fatalf("default page: %d tasks, next_cursor %v", len(tasks), page["next_cursor"])
	}
}

func TestPaginationRefusesBadParameters(t *testing.T) {
	e := newEnv(t, nil)
	a := e.signup("ivy@example.com", "pass-phrase-1")
	for range 3 {
		e.createTask(a.Access, "t")
		e.createRecipe(a.Access, "r")
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=-1", "limit=abc", "limit=1.5", "limit=", "limit=1&limit=2", "limit=99999999999999999999"} {
		wantError(t, e.do("GET", "/v1/tasks?"+q, a.Access, nil), 400, "invalid_request")
		wantError(t, e.do("GET", "/v1/recipes?"+q, "", nil), 400, "invalid_request")
	}
	for _, q := range []string{"limit=1", "limit=100"} {
		wantStatus(t, e.do("GET", "/v1/tasks?"+q, a.Access, nil), http.StatusOK)
	}

	taskPage := wantStatus(t, e.do("GET", "/v1/tasks?limit=1", a.Access, nil), http.StatusOK)
	taskCursor, _ := taskPage["next_cursor"].(string)
	recipePage := wantStatus(t, e.do("GET", "/v1/recipes?limit=1", "", nil), http.StatusOK)
	recipeCursor, _ := recipePage["next_cursor"].(string)
	if taskCursor == "" || recipeCursor == "" {
		t.Fatalf("no cursors: %v %v", taskPage, recipePage)
	}
	// A real cursor works.
	wantStatus(t, e.do("GET", "/v1/tasks?limit=1&cursor="+url.QueryEscape(taskCursor), a.Access, nil), http.StatusOK)
	// Tampered: one character changed.
	flip := []byte(taskCursor)
	if flip[len(flip)/2] == 'A' {
		flip[len(flip)/2] = 'B'
	} else {
		flip[len(flip)/2] = 'A'
	}
	// A raw id, as a client might guess the format.
	firstTask := taskPage["tasks"].([]any)[0].(map[string]any)["id"].(string)
	for _, c := range []string{"garbage", "!!!", string(flip), firstTask, recipeCursor, strings.Repeat("A", 400)} {
		wantError(t, e.do("GET", "/v1/tasks?cursor="+url.QueryEscape(c), a.Access, nil), 400, "invalid_request")
	}
	// A task cursor does not open the recipe list either.
	wantError(t, e.do("GET", "/v1/recipes?cursor="+url.QueryEscape(taskCursor), "", nil), 400, "invalid_request")
}

func TestRecipesArePublicToRead(t *testing.T) {
	e := newEnv(t, nil)
	a := e.signup("jon@example.com", "pass-phrase-1")
	rec := e.createRecipe(a.Access, "Bread")
	id := rec["id"].(string)
	if rec["owner_id"] != a.User.ID || rec["instructions"] != "Mix." || fmt.Sprint(rec["ingredients"]) != "[flour water]" || len(rec) != 7 {
		t.Fatalf("recipe %v", rec)
	}
	// No token, a garbage token and a revoked one: public reads ignore them.
	e.do("POST", "/v1/auth/logout", a.Access, nil)
	for _, bearer := range []string{"", "not-a-jwt", a.Access} {
		got := wantStatus(t, e.do("GET", "/v1/recipes/"+id, bearer, nil), http.StatusOK)
		if got["title"] != "Bread" {
			t.Fatalf("recipe %v", got)
		}
		list := wantStatus(t, e.do("GET", "/v1/recipes", bearer, nil), http.StatusOK)
		if recipes, _ := list["recipes"].([]any); len(recipes) != 1 {
			t.Fatalf("list %v", list)
		}
	}
	wantError(t, e.do("GET", "/v1/recipes/"+jot.NewID(), "", nil), 404, "not_found")
	wantError(t, e.do("GET", "/v1/recipes/nonsense", "", nil), 404, "not_found")
	// Writing wants a token.
	wantInvalidToken(t, e.do("POST", "/v1/recipes", "", map[string]any{"title": "x", "ingredients": []string{"y"}, "instructions": ""}), "missing")
	for _, m := range []string{"PUT", "PATCH", "DELETE"} {
		wantInvalidToken(t, e.do(m, "/v1/recipes/"+id, "", nil), "missing")
	}
}

func TestRecipeChangesByOwnerOrAdminOnly(t *testing.T) {
	e := newEnv(t, nil)
	a := e.signup("kay@example.com", "pass-phrase-1")
	b := e.signup("lou@example.com", "pass-phrase-1")
	id := e.createRecipe(a.Access, "Soup")["id"].(string)
	full := map[string]any{"title": "Stolen soup", "ingredients": []string{"stone"}, "instructions": "Boil."}

	wantForbidden(t, e.do("PUT", "/v1/recipes/"+id, b.Access, full))
	wantForbidden(t, e.do("PATCH", "/v1/recipes/"+id, b.Access, map[string]any{"title": "Mine"}))
	// The ownership check comes before the body: no validation hints.
	wantForbidden(t, e.do("PATCH", "/v1/recipes/"+id, b.Access, map[string]any{"title": ""}))
	wantForbidden(t, e.do("DELETE", "/v1/recipes/"+id, b.Access, nil))
	if got := wantStatus(t, e.do("GET", "/v1/recipes/"+id, "", nil), http.StatusOK); got["title"] != "Soup" {
		t.Fatalf("recipe changed: %v", got)
	}
	// A missing recipe is 404 for everyone.
	missing := jot.NewID()
	wantError(t, e.do("PUT", "/v1/recipes/"+missing, b.Access, full), 404, "not_found")
	wantError(t, e.do("PATCH", "/v1/recipes/"+missing, b.Access, full), 404, "not_found")
	wantError(t, e.do("DELETE", "/v1/recipes/"+missing, b.Access, nil), 404, "not_found")

	// The owner.
	p := wantStatus(t, e.do("PATCH", "/v1/recipes/"+id, a.Access, map[string]any{"instructions": "Stir\n\tgently."}), http.StatusOK)
	if p["title"] != "Soup" || p["instructions"] != "Stir\n\tgently." || fmt.Sprint(p["ingredients"]) != "[flour water]" {
		t.Fatalf("owner PATCH: %v", p)
	}
	put := wantStatus(t, e.do("PUT", "/v1/recipes/"+id, a.Access, map[string]any{"title": "Soup II", "ingredients": []string{" leek "}, "instructions": ""}), http.StatusOK)
	if put["title"] != "Soup II" || fmt.Sprint(put["ingredients"]) != "[leek]" || put["instructions"] != "" || put["owner_id"] != a.User.ID {
		t.Fatalf("owner PUT: %v", put)
	}
	// PUT replaces the whole recipe: every field is required.
	wantError(t, e.do("PUT", "/v1/recipes/"+id, a.Access, map[string]any{"title": "x"}), 400, "invalid_request")

	// An admin may change and delete anyone's recipe; it stays the owner's.
	admin := e.makeAdmin("chef@example.com")
	put = wantStatus(t, e.do("PUT", "/v1/recipes/"+id, admin.Access, full), http.StatusOK)
	if put["title"] != "Stolen soup" || put["owner_id"] != a.User.ID {
		t.Fatalf("admin PUT: %v", put)
	}
	p = wantStatus(t, e.do("PATCH", "/v1/recipes/"+id, admin.Access, map[string]any{"title": "Moderated"}), http.StatusOK)
	if p["title"] != "Moderated" || p["owner_id"] != a.User.ID {
		t.Fatalf("admin PATCH: %v", p)
	}
	wantStatus(t, e.do("DELETE", "/v1/recipes/"+id, admin.Access, nil), http.StatusNoContent)
	wantError(t, e.do("GET", "/v1/recipes/"+id, "", nil), 404, "not_found")
	// And the owner may delete their own.
	id2 := e.createRecipe(a.Access, "Tea")["id"].(string)
	wantStatus(t, e.do("DELETE", "/v1/recipes/"+id2, a.Access, nil), http.StatusNoContent)
}

func TestRecipeValidation(t *testing.T) {
	e := newEnv(t, nil)
	a := e.signup("mia@example.com", "pass-phrase-1")
	post := func(body map[string]any) *response {
		full := map[string]any{"title": "Cake", "ingredients": []string{"egg"}, "instructions": "Bake."}
		for k, v := range body {
			if v == "-" {
				delete(full, k)
			} else {
				full[k] = v
			}
		}
		return e.do("POST", "/v1/recipes", a.Access, full)
	}
	many := make([]string, 101)
	for i := range many {
		many[i] = "salt"
	}
	wantFields(t, post(map[string]any{"title": ""}), "title")
	wantFields(t, post(map[string]any{"title": strings.Repeat("x", 201)}), "title")
	wantFields(t, post(map[string]any{"ingredients": []string{}}), "ingredients")
	wantFields(t, post(map[string]any{"ingredients": many}), "ingredients")
	wantFields(t, post(map[string]any{"ingredients": []string{"egg", "  "}}), "ingredients")
	wantFields(t, post(map[string]any{"ingredients": []string{strings.Repeat("x", 201)}}), "ingredients")
	wantFields(t, post(map[string]any{"ingredients": nil}), "ingredients")
	wantFields(t, post(map[string]any{"instructions": strings.Repeat("x", 10001)}), "instructions")
	wantFields(t, post(map[string]any{"title": "", "ingredients": []string{}, "instructions": strings.Repeat("x", 10001)}), "title", "ingredients", "instructions")
	wantError(t, post(map[string]any{"title": "-"}), 400, "invalid_request")
	wantError(t, post(map[string]any{"ingredients": "-"}), 400, "invalid_request")
	wantError(t, post(map[string]any{"instructions": "-"}), 400, "invalid_request")
	wantError(t, post(map[string]any{"ingredients": "egg"}), 400, "invalid_request")
	wantError(t, post(map[string]any{"ingredients": []any{"egg", 2}}), 400, "invalid_request")
	wantError(t, post(map[string]any{"servings": 4}), 400, "invalid_request")
	// The limits themselves are fine.
	hundred := many[:100]
	wantStatus(t, post(map[string]any{"title": strings.Repeat("x", 200), "ingredients": hundred, "instructions": strings.Repeat("x", 10000)}), http.StatusCreated)

	id := e.createRecipe(a.Access, "Pie")["id"].(string)
	wantFields(t, e.do("PATCH", "/v1/recipes/"+id, a.Access, map[string]any{"ingredients": []string{}}), "ingredients")
	wantError(t, e.do("PATCH", "/v1/recipes/"+id, a.Access, map[string]any{"owner_id": "x"}), 400, "invalid_request")
	same := wantStatus(t, e.do("PATCH", "/v1/recipes/"+id, a.Access, map[string]any{}), http.StatusOK)
	if same["title"] != "Pie" {
		t.Fatalf("empty patch: %v", same)
	}
}

func TestPaginationWalksRecipesWithoutGapOrDuplicate(t *testing.T) {
	// 250 writes by one user: more than the default write rate allows.
	e := newEnv(t, manyWrites)
	a := e.signup("ned@example.com", "pass-phrase-1")
	b := e.signup("oli@example.com", "pass-phrase-1")
	var want []string
	for i := range 250 {
		tk := a
		if i%3 == 0 {
			tk = b
		}
		want = append(want, e.createRecipe(tk.Access, fmt.Sprint("recipe ", i))["id"].(string))
	}
	first := e.walk("/v1/recipes", "", "recipes", 7)
	wantAllOnce(t, first, want)
	if second := e.walk("/v1/recipes", a.Access, "recipes", 13); !slices.Equal(first, second) {
		t.Fatal("a second walk served another order")
	}
}

// manyWrites lifts the write rate for tests that create many resources.
func manyWrites(c *config.Config) { c.WriteRate = config.Rate{N: 10000, Per: time.Minute} }
