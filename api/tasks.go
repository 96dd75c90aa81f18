package api

import (
	"net/http"
	"strconv"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/resources"
)

type taskList struct {
	Tasks      []*jot.Task `json:"tasks"`
	NextCursor *string     `json:"next_cursor"`
}

func (rs *resourceAPI) listTasks(w http.ResponseWriter, r *http.Request) error {
	sub := subject(r)
	all := false
	if vs, ok := r.URL.Query()["all"]; ok {
		b, err := strconv.ParseBool(vs[0])
		if err != nil || len(vs) > 1 {
			return jot.Errorf(jot.EINVALID, "all must be true or false")
		}
		all = b
	}
	var limit int
	tasks, err := rs.tasks.List(r.Context(), sub, all, func() (p jot.Page, err error) {
		p, limit, err = rs.cursors.pageRequest(r, "tasks")
		return p, err
	})
	if err != nil {
		return err
	}
	tasks, next, err := nextCursor(r.Context(), rs.cursors, "tasks", tasks, limit, func(t *jot.Task) string { return t.ID })
	if err != nil {
		return err
	}
	if tasks == nil {
		tasks = []*jot.Task{}
	}
	writeJSON(w, http.StatusOK, taskList{Tasks: tasks, NextCursor: next})
	return nil
}

// taskBody decodes a task change from the request body.
func taskBody(r *http.Request) func(*resources.TaskChange) error {
	return func(c *resources.TaskChange) error { return decodeJSON(r, c) }
}

func (rs *resourceAPI) createTask(w http.ResponseWriter, r *http.Request) error {
	t, err := rs.tasks.Create(r.Context(), subject(r), taskBody(r))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/tasks/"+t.ID)
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (rs *resourceAPI) getTask(w http.ResponseWriter, r *http.Request) error {
	t, err := rs.tasks.Get(r.Context(), subject(r), r.PathValue("id"))
	return answer(w, http.StatusOK, t, err)
}

func (rs *resourceAPI) patchTask(w http.ResponseWriter, r *http.Request) error {
	t, err := rs.tasks.Update(r.Context(), subject(r), r.PathValue("id"), taskBody(r))
	return answer(w, http.StatusOK, t, err)
}

func (rs *resourceAPI) deleteTask(w http.ResponseWriter, r *http.Request) error {
	if err := rs.tasks.Delete(r.Context(), subject(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
