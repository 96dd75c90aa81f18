package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/sqlite"
)

func TestUserAdminIsForAdminsOnly(t *testing.T) {
	e := newEnv(t, nil)
	a := e.signup("pat@example.com", "pass-phrase-1")
	b := e.signup("quy@example.com", "pass-phrase-1")
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/users", nil},
		{"GET", "/v1/users/" + b.User.ID, nil},
		{"GET", "/v1/users/" + a.User.ID, nil},
		{"PATCH", "/v1/users/" + b.User.ID, map[string]any{"role": "admin"}},
		// Not even for oneself: that is what /v1/users/me is for.
		{"PATCH", "/v1/users/" + a.User.ID, map[string]any{"role": "admin"}},
		{"DELETE", "/v1/users/" + b.User.ID, nil},
		// The role decides before the id or the body is looked at.
		{"GET", "/v1/users/" + jot.NewID(), nil},
		{"PATCH", "/v1/users/" + b.User.ID, `{"broken"`},
	} {
		r := e.do(c.method, c.path, a.Access, c.body)
		wantForbidden(t, r)
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s %s: Cache-Control %q", c.method, c.path, r.Header.Get("Cache-Control"))
		}
		wantInvalidToken(t, e.do(c.method, c.path, "", c.body), "missing")
	}
	// Nothing happened to b.
	if me := wantStatus(t, e.do("GET", "/v1/users/me", b.Access, nil), http.StatusOK); me["role"] != "user" {
		t.Fatalf("b: %v", me)
	}
	// The /me routes are not taken for an id.
	if me := wantStatus(t, e.do("GET", "/v1/users/me", a.Access, nil), http.StatusOK); me["id"] != a.User.ID {
		t.Fatalf("me: %v", me)
	}
}

func TestAdminReadsAndEditsUsers(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.makeAdmin("rex@example.com")
	u := e.signup("sue@example.com", "pass-phrase-1")

	r := e.do("GET", "/v1/users/"+u.User.ID, admin.Access, nil)
	got := wantStatus(t, r, http.StatusOK)
	if got["email"] != "sue@example.com" || got["role"] != "user" || got["disabled"] != false {
		t.Fatalf("user %v", got)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", r.Header.Get("Cache-Control"))
	}
	if strings.Contains(string(r.body), "$2") || strings.Contains(string(r.body), "hash") {
		t.Fatalf("user leaks a hash: %s", r.body)
	}
	for _, id := range []string{jot.NewID(), "nonsense"} {
		wantError(t, e.do("GET", "/v1/users/"+id, admin.Access, nil), 404, "not_found")
		wantError(t, e.do("PATCH", "/v1/users/"+id, admin.Access, map[string]any{"name": "x"}), 404, "not_found")
		wantError(t, e.do("DELETE", "/v1/users/"+id, admin.Access, nil), 404, "not_found")
	}

	p := wantStatus(t, e.do("PATCH", "/v1/users/"+u.User.ID, admin.Access, map[string]any{"name": "  Susan  "}), http.StatusOK)
	if p["name"] != "Susan" || p["role"] != "user" {
		t.Fatalf("rename: %v", p)
	}
	// A rename ends no session.
	wantStatus(t, e.do("GET", "/v1/users/me", u.Access, nil), http.StatusOK)
	// Nor does sending the role the user already has.
	wantStatus(t, e.do("PATCH", "/v1/users/"+u.User.ID, admin.Access, map[string]any{"role": "user", "disabled": false}), http.StatusOK)
	wantStatus(t, e.do("GET", "/v1/users/me", u.Access, nil), http.StatusOK)
	// An empty patch changes nothing.
	same := wantStatus(t, e.do("PATCH", "/v1/users/"+u.User.ID, admin.Access, map[string]any{}), http.StatusOK)
	if same["name"] != "Susan" {
		t.Fatalf("empty patch: %v", same)
	}

	wantFields(t, e.do("PATCH", "/v1/users/"+u.User.ID, admin.Access, map[string]any{"role": "superuser"}), "role")
	wantFields(t, e.do("PATCH", "/v1/users/"+u.User.ID, admin.Access, map[string]any{"role": "Admin"}), "role")
	wantFields(t, e.do("PATCH", "/v1/users/"+u.User.ID, admin.Access, map[string]any{"role": nil}), "role")
	wantFields(t, e.do("PATCH", "/v1/users/"+u.User.ID, admin.Access, map[string]any{"disabled": nil}), "disabled")
	wantFields(t, e.do("PATCH", "/v1/users/"+u.User.ID, admin.Access, map[string]any{"name": strings.Repeat("n", 101)}), "name")
	wantFields(t, e.do("PATCH", "/v1/users/"+u.User.ID, admin.Access, map[string]any{"name": strings.Repeat("n", 101), "role": "root"}), "name", "role")
	wantError(t, e.do("PATCH", "/v1/users/"+u.User.ID, admin.Access, map[string]any{"email": "x@example.com"}), 400, "invalid_request")
	wantError(t, e.do("PATCH", "/v1/users/"+u.User.ID, admin.Access, map[string]any{"disabled": "yes"}), 400, "invalid_request")
	// None of the refused patches changed anything or ended a session.
	if got := wantStatus(t, e.do("GET", "/v1/users/me", u.Access, nil), http.StatusOK); got["role"] != "user" || got["name"] != "Susan" {
		t.Fatalf("after refused patches: %v", got)
	}
}

// wantLastAdminKept checks that the last active admin, id, cannot be
// disabled, demoted or deleted by bearer.
func wantLastAdminKept(t *testing.T, e *env, id, bearer string) {
	t.Helper()
	for _, c := range []struct {
		method string
		body   any
	}{
		{"PATCH", map[string]any{"disabled": true}},
		{"PATCH", map[string]any{"role": "user"}},
		{"DELETE", nil},
	} {
		wantError(t, e.do(c.method, "/v1/users/"+id, bearer, c.body), 409, "conflict")
	}
}

func TestLastAdminCannotBeRemoved(t *testing.T) {
	e := newEnv(t, nil)
	root := e.makeAdmin("sol@example.com")
	id := root.User.ID
	wantLastAdminKept(t, e, id, root.Access)
	// Refused, so the admin and their session are intact.
	if me := wantStatus(t, e.do("GET", "/v1/users/me", root.Access, nil), http.StatusOK); me["role"] != "admin" || me["disabled"] != false {
		t.Fatalf("admin after refusals: %v", me)
	}

	// With a second admin, the first may step down; then the second is
	// the last one.
	second := e.makeAdmin("tom@example.com")
	p := wantStatus(t, e.do("PATCH", "/v1/users/"+id, root.Access, map[string]any{"role": "user"}), http.StatusOK)
	if p["role"] != "user" {
		t.Fatalf("demote self: %v", p)
	}
	// The demotion ended the caller's own session too.
	wantInvalidToken(t, e.do("GET", "/v1/users", root.Access, nil), "revoked")
	wantLastAdminKept(t, e, second.User.ID, second.Access)
	// A disabled admin does not count: promote the first again, disable
	// them, and the second is still the last active admin.
	wantStatus(t, e.do("PATCH", "/v1/users/"+id, second.Access, map[string]any{"role": "admin", "disabled": true}), http.StatusOK)
	wantError(t, e.do("DELETE", "/v1/users/"+second.User.ID, second.Access, nil), 409, "conflict")
	// An admin may delete themselves when another active admin remains.
	wantStatus(t, e.do("PATCH", "/v1/users/"+id, second.Access, map[string]any{"disabled": false}), http.StatusOK)
	wantStatus(t, e.do("DELETE", "/v1/users/"+second.User.ID, second.Access, nil), http.StatusNoContent)
	wantInvalidToken(t, e.do("GET", "/v1/users/me", second.Access, nil), "revoked")
	again := e.login("sol@example.com", "pass-phrase-1")
	if again.User.Role != "admin" {
		t.Fatalf("remaining admin: %+v", again.User)
	}
	wantError(t, e.do("DELETE", "/v1/users/"+id, again.Access, nil), 409, "conflict")
}

func TestDisablingUserEndsSessionsAtOnce(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.makeAdmin("uma@example.com")
	u := e.signup("vic@example.com", "pass-phrase-1")
	other := e.login("vic@example.com", "pass-phrase-1")
	wantStatus(t, e.do("GET", "/v1/users/me", u.Access, nil), http.StatusOK)

	p := wantStatus(t, e.do("PATCH", "/v1/users/"+u.User.ID, admin.Access, map[string]any{"disabled": true}), http.StatusOK)
	if p["disabled"] != true {
		t.Fatalf("patch: %v", p)
	}
	// The very next request with either token is refused: no waiting for
	// a background sync.
	wantInvalidToken(t, e.do("GET", "/v1/users/me", u.Access, nil), "revoked")
	wantInvalidToken(t, e.do("GET", "/v1/tasks", other.Access, nil), "revoked")
	wantError(t, e.refresh(u.Refresh), 400, "invalid_grant")
	wantError(t, e.refresh(other.Refresh), 400, "invalid_grant")
	// Login answers exactly as for a wrong password.
	disabled := e.do("POST", "/v1/auth/login", "", map[string]string{"email": "vic@example.com", "password": "pass-phrase-1"})
	wrong := e.do("POST", "/v1/auth/login", "", map[string]string{"email": "vic@example.com", "password": "pass-phrase-2"})
	wantError(t, disabled, 401, "invalid_credentials")
	if string(disabled.body) != string(wrong.body) {
		t.Fatalf("disabled and wrong password answer differently:\n%s\n%s", disabled.body, wrong.body)
	}
	wantError(t, e.do("POST", "/v1/auth/token", "", url.Values{"grant_type": {"password"}, "username": {"vic@example.com"}, "password": {"pass-phrase-1"}}), 400, "invalid_grant")
	// The admin still sees the account.
	if got := wantStatus(t, e.do("GET", "/v1/users/"+u.User.ID, admin.Access, nil), http.StatusOK); got["disabled"] != true {
		t.Fatalf("user %v", got)
	}
	// Enabling lets them log in again; the old sessions stay ended.
	wantStatus(t, e.do("PATCH", "/v1/users/"+u.User.ID, admin.Access, map[string]any{"disabled": false}), http.StatusOK)
	back := e.login("vic@example.com", "pass-phrase-1")
	wantStatus(t, e.do("GET", "/v1/users/me", back.Access, nil), http.StatusOK)
	wantInvalidToken(t, e.do("GET", "/v1/users/me", u.Access, nil), "revoked")
}

func TestRoleChangesEndSessionsAtOnce(t *testing.T) {
	e := newEnv(t, nil)
	root := e.makeAdmin("wes@example.com")
	deputy := e.makeAdmin("xia@example.com")
	wantStatus(t, e.do("GET", "/v1/users", deputy.Access, nil), http.StatusOK)

	// A demoted admin's token, which says "admin", stops working at once.
	p := wantStatus(t, e.do("PATCH", "/v1/users/"+deputy.User.ID, root.Access, map[string]any{"role": "user"}), http.StatusOK)
	if p["role"] != "user" {
		t.Fatalf("demote: %v", p)
	}
	wantInvalidToken(t, e.do("GET", "/v1/users", deputy.Access, nil), "revoked")
	wantInvalidToken(t, e.do("GET", "/v1/tasks?all=true", deputy.Access, nil), "revoked")
	wantError(t, e.refresh(deputy.Refresh), 400, "invalid_grant")
	again := e.login("xia@example.com", "pass-phrase-1")
	if again.User.Role != "user" {
		t.Fatalf("role after demotion: %q", again.User.Role)
	}
	wantForbidden(t, e.do("GET", "/v1/users", again.Access, nil))

	// A promotion ends sessions too: the old token says "user".
	p = wantStatus(t, e.do("PATCH", "/v1/users/"+again.User.ID, root.Access, map[string]any{"role": "admin"}), http.StatusOK)
	if p["role"] != "admin" {
		t.Fatalf("promote: %v", p)
	}
	wantInvalidToken(t, e.do("GET", "/v1/users/me", again.Access, nil), "revoked")
	promoted := e.login("xia@example.com", "pass-phrase-1")
	wantStatus(t, e.do("GET", "/v1/users", promoted.Access, nil), http.StatusOK)
}

func TestDeletingUserTakesSessionsAndResources(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.makeAdmin("yan@example.com")
	u := e.signup("zoe@example.com", "pass-phrase-1")
	keep := e.signup("abe@example.com", "pass-phrase-1")
	var gone []string
	for i := range 3 {
		gone = append(gone, e.createTask(u.Access, fmt.Sprint("t", i))["id"].(string))
	}
	kept := e.createTask(keep.Access, "stays")["id"].(string)
	recipe := e.createRecipe(u.Access, "Zoe's")["id"].(string)
	keptRecipe := e.createRecipe(keep.Access, "Abe's")["id"].(string)

	wantStatus(t, e.do("DELETE", "/v1/users/"+u.User.ID, admin.Access, nil), http.StatusNoContent)

	wantInvalidToken(t, e.do("GET", "/v1/users/me", u.Access, nil), "revoked")
	wantError(t, e.refresh(u.Refresh), 400, "invalid_grant")
	wantError(t, e.do("POST", "/v1/auth/login", "", map[string]string{"email": "zoe@example.com", "password": "pass-phrase-1"}), 401, "invalid_credentials")
	wantError(t, e.do("GET", "/v1/users/"+u.User.ID, admin.Access, nil), 404, "not_found")
	wantError(t, e.do("DELETE", "/v1/users/"+u.User.ID, admin.Access, nil), 404, "not_found")

	all := e.walk("/v1/tasks?all=true", admin.Access, "tasks", 100)
	if !slices.Equal(all, []string{kept}) {
		t.Fatalf("tasks left %v, want only %s (deleted: %v)", all, kept, gone)
	}
	for _, id := range gone {
		wantError(t, e.do("GET", "/v1/tasks/"+id, admin.Access, nil), 404, "not_found")
	}
	wantError(t, e.do("GET", "/v1/recipes/"+recipe, "", nil), 404, "not_found")
	if recipes := e.walk("/v1/recipes", "", "recipes", 100); !slices.Equal(recipes, []string{keptRecipe}) {
		t.Fatalf("recipes left %v", recipes)
	}
	// The email is free again.
	e.signup("zoe@example.com", "pass-phrase-1")
	wantStatus(t, e.do("GET", "/v1/users/me", keep.Access, nil), http.StatusOK)
}

func TestPaginationWalksUsersWithoutGapOrDuplicate(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.makeAdmin("ada@example.com")
	// 250 users through signup would spend most of the test hashing; the
	// store takes them in one transaction.
	ctx := context.Background()
	st, err := sqlite.OpenURL(ctx, e.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	users := make([]*jot.User, 250)
	want := []string{admin.User.ID}
	for i := range users {
		users[i] = &jot.User{
			ID: jot.NewID(), Email: fmt.Sprintf("bulk%03d@example.com", i), Role: jot.RoleUser,
			PasswordHash: "$2a$10$abcdefghijklmnopqrstuu", CreatedAt: now, UpdatedAt: now,
		}
		want = append(want, users[i].ID)
	}
	if err := st.CreateUsers(ctx, users); err != nil {
		t.Fatal(err)
	}
	first := e.walk("/v1/users", admin.Access, "users", 7)
	wantAllOnce(t, first, want)
	if second := e.walk("/v1/users", admin.Access, "users", 100); !slices.Equal(first, second) {
		t.Fatal("a second walk served another order")
	}
	wantError(t, e.do("GET", "/v1/users?limit=0", admin.Access, nil), 400, "invalid_request")
	wantError(t, e.do("GET", "/v1/users?cursor=bogus", admin.Access, nil), 400, "invalid_request")
	// A cursor of another list is not one of this list.
	page := wantStatus(t, e.do("GET", "/v1/users?limit=1", admin.Access, nil), http.StatusOK)
	cursor, _ := page["next_cursor"].(string)
	wantError(t, e.do("GET", "/v1/tasks?cursor="+url.QueryEscape(cursor), admin.Access, nil), 400, "invalid_request")
	wantStatus(t, e.do("GET", "/v1/users?limit=1&cursor="+url.QueryEscape(cursor), admin.Access, nil), http.StatusOK)
}
