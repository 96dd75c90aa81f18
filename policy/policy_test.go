package policy_test

import (
	"testing"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/policy"
)

func TestRules(t *testing.T) {
	var (
		alice = policy.Subject{UserID: "alice", Role: jot.RoleUser}
		bob   = policy.Subject{UserID: "bob", Role: jot.RoleUser}
		admin = policy.Subject{UserID: "root", Role: jot.RoleAdmin}
		// A Subject with no user id must never pass an ownership check,
		// even against a resource with no owner.
		nobody   = policy.Subject{}
		roleless = policy.Subject{UserID: "alice"}
		// A role that is not exactly "admin" grants nothing.
		oddRole = policy.Subject{UserID: "eve", Role: jot.Role("Admin")}
		// An admin role without a user id is not an admin.
		anonAdmin = policy.Subject{Role: jot.RoleAdmin}
	)
	type rule struct {
		name string
		f    func(policy.Subject, string) bool
	}
	rules := []rule{
		{"CanSeeTask", policy.CanSeeTask},
		{"CanChangeTask", policy.CanChangeTask},
		{"CanChangeRecipe", policy.CanChangeRecipe},
	}
	cases := []struct {
		who   string
		s     policy.Subject
		owner string
		want  bool
	}{
		{"owner", alice, "alice", true},
		{"other user", bob, "alice", false},
		{"admin on another's", admin, "alice", true},
		{"admin on own", admin, "root", true},
		{"empty subject, empty owner", nobody, "", false},
		{"empty subject", nobody, "alice", false},
		{"owner without role", roleless, "alice", true},
		{"user with empty owner", alice, "", false},
		{"odd role", oddRole, "alice", false},
		{"admin role without id", anonAdmin, "alice", false},
	}
	for _, r := range rules {
		for _, c := range cases {
			if got := r.f(c.s, c.owner); got != c.want {
				t.Errorf("%s(%s): got %v, want %v", r.name, c.who, got, c.want)
			}
		}
	}

	roleCases := []struct {
		who  string
		s    policy.Subject
		want bool
	}{
		{"user", alice, false},
		{"admin", admin, true},
		{"empty", nobody, false},
		{"odd role", oddRole, false},
		{"admin role without id", anonAdmin, false},
	}
	for _, f := range []struct {
		name string
		f    func(policy.Subject) bool
	}{
		{"IsAdmin", policy.IsAdmin},
		{"CanListAllTasks", policy.CanListAllTasks},
		{"CanManageUsers", policy.CanManageUsers},
	} {
		for _, c := range roleCases {
			if got := f.f(c.s); got != c.want {
				t.Errorf("%s(%s): got %v, want %v", f.name, c.who, got, c.want)
			}
		}
	}

	for _, c := range []struct {
		who  string
		s    policy.Subject
		want bool
	}{
		{"user", alice, true},
		{"admin", admin, true},
		{"empty", nobody, false},
	} {
		if got := policy.CanCreateRecipe(c.s); got != c.want {
			t.Errorf("CanCreateRecipe(%s): got %v, want %v", c.who, got, c.want)
		}
	}
	if !policy.CanReadRecipes() {
		t.Error("recipes must be public")
	}
}

func TestRefuse(t *testing.T) {
	err := policy.Refuse("only an admin may do this")
	if jot.ErrorCode(err) != jot.EFORBIDDEN || jot.ErrorMessage(err) != "only an admin may do this" {
		t.Errorf("Refuse: %v", err)
	}
}
