package api

import (
	"net/http"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/accounts"
	"github.com/jotauth/jot/policy"
)

// requireAdmin refuses callers who may not manage users, before anything
// about the request (the id, the body) is looked at.
func requireAdmin(r *http.Request) error {
	if !policy.CanManageUsers(subject(r)) {
		return policy.Refuse("only an admin may manage users")
	}
	return nil
}

type userList struct {
	Users      []*jot.User `json:"users"`
	NextCursor *string     `json:"next_cursor"`
}

func (rs *resourceAPI) listUsers(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r); err != nil {
		return err
	}
	page, limit, err := rs.cursors.pageRequest(r, "users")
	if err != nil {
		return err
	}
	users, err := rs.opts.Accounts.ListUsers(r.Context(), page)
	if err != nil {
		return err
	}
	users, next, err := nextCursor(r.Context(), rs.cursors, "users", users, limit, func(u *jot.User) string { return u.ID })
	if err != nil {
		return err
	}
	if users == nil {
		users = []*jot.User{}
	}
	writeJSON(w, http.StatusOK, userList{Users: users, NextCursor: next})
	return nil
}

func (rs *resourceAPI) getUser(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r); err != nil {
		return err
	}
	u, err := rs.opts.Accounts.User(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

type patchUserBody struct {
	Role     field[string] `json:"role"`
	Disabled field[bool]   `json:"disabled"`
	Name     field[string] `json:"name"`
}

func (rs *resourceAPI) patchUser(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r); err != nil {
		return err
	}
	var body patchUserBody
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	var upd accounts.AdminUpdate
	fields := map[string]string{}
	if body.Role.Set {
		// The service checks the value, with the other fields.
		role := jot.Role(body.Role.V)
		if body.Role.Null {
			fields["role"] = `must be "user" or "admin"`
		}
		upd.Role = &role
	}
	if body.Disabled.Set {
		if body.Disabled.Null {
			fields["disabled"] = "must be true or false"
		}
		upd.Disabled = &body.Disabled.V
	}
	if body.Name.Set {
		if body.Name.Null {
			fields["name"] = "must be a string"
		}
		upd.Name = &body.Name.V
	}
	if len(fields) > 0 {
		return jot.ValidationError(fields)
	}
	u, err := rs.opts.Accounts.AdminUpdateUser(r.Context(), r.PathValue("id"), upd)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (rs *resourceAPI) deleteUser(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r); err != nil {
		return err
	}
	if err := rs.opts.Accounts.AdminDeleteUser(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
