package api

import (
	"github.com/jotauth/jot/resources"
)

// resourceAPI serves the example resources and the admin endpoints. It is
// the Server plus what only these endpoints need.
type resourceAPI struct {
	*Server
	cursors *cursorCodec
	tasks   *resources.Tasks
	recipes *resources.Recipes
}

// resourceRoutes registers the example resources and the admin endpoints.
func (s *Server) resourceRoutes() {
	opts := resources.Options{MaxPerUser: s.opts.MaxResources, Writes: s.writeAllowed, Now: s.opts.Now}
	rs := &resourceAPI{
		Server:  s,
		cursors: newCursorCodec(s.opts.Store),
		tasks:   resources.NewTasks(s.opts.Store, opts),
		recipes: resources.NewRecipes(s.opts.Store, opts),
	}
	m := s.mux
	// Tasks: private to their owner (and admins).
	m.Handle("GET /v1/tasks", s.protect(s.handle("listTasks", rs.listTasks)))
	m.Handle("POST /v1/tasks", s.protect(s.handle("createTask", rs.createTask)))
	m.Handle("GET /v1/tasks/{id}", s.protect(s.handle("getTask", rs.getTask)))
	m.Handle("PATCH /v1/tasks/{id}", s.protect(s.handle("patchTask", rs.patchTask)))
	m.Handle("DELETE /v1/tasks/{id}", s.protect(s.handle("deleteTask", rs.deleteTask)))
	// Recipes: public to read, so the reads are not behind the guard at
	// all; a stale token sent along must not turn a public read into 401.
	m.Handle("GET /v1/recipes", s.handle("listRecipes", rs.listRecipes))
	m.Handle("GET /v1/recipes/{id}", s.handle("getRecipe", rs.getRecipe))
	m.Handle("POST /v1/recipes", s.protect(s.handle("createRecipe", rs.createRecipe)))
	m.Handle("PUT /v1/recipes/{id}", s.protect(s.handle("putRecipe", rs.putRecipe)))
	m.Handle("PATCH /v1/recipes/{id}", s.protect(s.handle("patchRecipe", rs.patchRecipe)))
	m.Handle("DELETE /v1/recipes/{id}", s.protect(s.handle("deleteRecipe", rs.deleteRecipe)))
	// Users, for admins. "GET /v1/users/me" and the other /me routes are
	// more specific patterns, so ServeMux keeps them apart from {id}.
	m.Handle("GET /v1/users", s.protect(s.handle("listUsers", rs.listUsers)))
	m.Handle("GET /v1/users/{id}", s.protect(s.handle("getUser", rs.getUser)))
	m.Handle("PATCH /v1/users/{id}", s.protect(s.handle("patchUser", rs.patchUser)))
	m.Handle("DELETE /v1/users/{id}", s.protect(s.handle("deleteUser", rs.deleteUser)))
}

// field is a JSON field of a request body that remembers whether it was
// sent and whether it was null (see resources.Field).
type field[T any] = resources.Field[T]
