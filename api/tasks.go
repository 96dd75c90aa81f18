package api

import (
	"net/http"
	"strconv"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/policy"
)

// errTaskNotFound answers a missing task and another user's task alike, to
// the byte, so that task ids cannot be probed.
func errTaskNotFound() error { return jot.Errorf(jot.ENOTFOUND, "task not found") }

// loadTask returns the task named by the path if the rule allows the
// caller it (policy.CanSeeTask or policy.CanChangeTask); any other task is
// not found.
func (rs *resources) loadTask(r *http.Request, sub policy.Subject, allowed func(policy.Subject, string) bool) (*jot.Task, error) {
	id := r.PathValue("id")
	if !jot.ValidID(id) {
		return nil, errTaskNotFound()
	}
	t, err := rs.opts.Store.TaskByID(r.Context(), id)
	if jot.ErrorCode(err) == jot.ENOTFOUND {
		return nil, errTaskNotFound()
	} else if err != nil {
		return nil, err
	}
	if !allowed(sub, t.OwnerID) {
		return nil, errTaskNotFound()
	}
	return t, nil
}

type taskList struct {
	Tasks      []*jot.Task `json:"tasks"`
	NextCursor *string     `json:"next_cursor"`
}

func (rs *resources) listTasks(w http.ResponseWriter, r *http.Request) error {
	sub := subject(r)
	all := false
	if vs, ok := r.URL.Query()["all"]; ok {
		b, err := strconv.ParseBool(vs[0])
		if err != nil || len(vs) > 1 {
			return jot.Errorf(jot.EINVALID, "all must be true or false")
		}
		all = b
	}
	owner := sub.UserID
	if all {
		if !policy.CanListAllTasks(sub) {
			return forbidden("only an admin may list every user's tasks")
		}
		owner = ""
	}
	page, limit, err := rs.cursors.pageRequest(r, "tasks")
	if err != nil {
		return err
	}
	tasks, err := rs.opts.Store.ListTasks(r.Context(), owner, page)
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

type taskBody struct {
	Title field[string] `json:"title"`
	Done  field[bool]   `json:"done"`
}

// check validates the fields that were sent and returns the title trimmed.
func (b *taskBody) check() (string, error) {
	fields := map[string]string{}
	title := b.Title.V
	if b.Title.Set {
		if b.Title.Null {
			fields["title"] = "must be a string"
		} else if t, msg := checkLine(title, maxTitle); msg != "" {
			fields["title"] = msg
		} else {
			title = t
		}
	}
	if b.Done.Set && b.Done.Null {
		fields["done"] = "must be true or false"
	}
	if len(fields) > 0 {
		return "", jot.ValidationError(fields)
	}
	return title, nil
}

func (rs *resources) createTask(w http.ResponseWriter, r *http.Request) error {
	sub := subject(r)
	if err := rs.writeAllowed(r); err != nil {
		return err
	}
	var body taskBody
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if !body.Title.Set {
		return missingField("title")
	}
	title, err := body.check()
	if err != nil {
		return err
	}
	now := rs.opts.Now().UTC()
	t := &jot.Task{ID: jot.NewID(), OwnerID: sub.UserID, Title: title, Done: body.Done.V, CreatedAt: now, UpdatedAt: now}
	if err := rs.storeTask(r, t); err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/tasks/"+t.ID)
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (rs *resources) getTask(w http.ResponseWriter, r *http.Request) error {
	t, err := rs.loadTask(r, subject(r), policy.CanSeeTask)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (rs *resources) patchTask(w http.ResponseWriter, r *http.Request) error {
	if err := rs.writeAllowed(r); err != nil {
		return err
	}
	// The task is looked up before the body is read, so that a missing
	// task and another user's answer alike whatever the body holds.
	t, err := rs.loadTask(r, subject(r), policy.CanChangeTask)
	if err != nil {
		return err
	}
	var body taskBody
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	title, err := body.check()
	if err != nil {
		return err
	}
	if !body.Title.Set && !body.Done.Set {
		// Nothing to change: answer the task as it is.
		writeJSON(w, http.StatusOK, t)
		return nil
	}
	if body.Title.Set {
		t.Title = title
	}
	if body.Done.Set {
		t.Done = body.Done.V
	}
	t.UpdatedAt = rs.opts.Now().UTC()
	if err := rs.opts.Store.UpdateTask(r.Context(), t); err != nil {
		if jot.ErrorCode(err) == jot.ENOTFOUND {
			return errTaskNotFound()
		}
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (rs *resources) deleteTask(w http.ResponseWriter, r *http.Request) error {
	if err := rs.writeAllowed(r); err != nil {
		return err
	}
	t, err := rs.loadTask(r, subject(r), policy.CanChangeTask)
	if err != nil {
		return err
	}
	if err := rs.opts.Store.DeleteTask(r.Context(), t.ID); err != nil {
		if jot.ErrorCode(err) == jot.ENOTFOUND {
			return errTaskNotFound()
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
