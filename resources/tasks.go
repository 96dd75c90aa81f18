package resources

import (
	"context"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/policy"
)

// Tasks is the service of tasks: private to their owner, and to admins.
type Tasks struct {
	store jot.TaskStore
	opts  Options
}

// NewTasks returns the service of the tasks kept in store.
func NewTasks(store jot.TaskStore, opts Options) *Tasks {
	return &Tasks{store: store, opts: opts}
}

// TaskChange is the body of a create (title required) or an update of a
// task; an update changes the fields that were sent.
type TaskChange struct {
	Title Field[string] `json:"title"`
	Done  Field[bool]   `json:"done"`
}

// check validates the fields that were sent and returns the title trimmed.
func (c *TaskChange) check() (string, error) {
	fields := map[string]string{}
	title := c.Title.V
	if c.Title.Set {
		if c.Title.Null {
			fields["title"] = "must be a string"
		} else if t, msg := checkLine(title, maxTitle); msg != "" {
			fields["title"] = msg
		} else {
			title = t
		}
	}
	if c.Done.Set && c.Done.Null {
		fields["done"] = "must be true or false"
	}
	if len(fields) > 0 {
		return "", jot.ValidationError(fields)
	}
	return title, nil
}

// errTaskNotFound answers a missing task and another user's task alike, to
// the byte, so that task ids cannot be probed.
func errTaskNotFound() error { return jot.Errorf(jot.ENOTFOUND, "task not found") }

// List returns one page of the caller's tasks, or with all of every user's
// (admins only). page reads which page, once the listing is allowed.
func (s *Tasks) List(ctx context.Context, sub policy.Subject, all bool, page func() (jot.Page, error)) ([]*jot.Task, error) {
	owner := sub.UserID
	if all {
		if !policy.CanListAllTasks(sub) {
			return nil, policy.Refuse("only an admin may list every user's tasks")
		}
		owner = ""
	}
	p, err := page()
	if err != nil {
		return nil, err
	}
	return s.store.ListTasks(ctx, owner, p)
}

// Get returns the task id if the caller may see it; any other task is not
// found.
func (s *Tasks) Get(ctx context.Context, sub policy.Subject, id string) (*jot.Task, error) {
	return s.load(ctx, sub, id, policy.CanSeeTask)
}

// Create creates a task of the caller's from the change read decodes,
// within the caller's quota.
func (s *Tasks) Create(ctx context.Context, sub policy.Subject, read func(*TaskChange) error) (*jot.Task, error) {
	if err := s.opts.write(ctx, sub); err != nil {
		return nil, err
	}
	var c TaskChange
	if err := read(&c); err != nil {
		return nil, err
	}
	if !c.Title.Set {
		return nil, missingField("title")
	}
	title, err := c.check()
	if err != nil {
		return nil, err
	}
	now := s.opts.now()
	t := &jot.Task{ID: jot.NewID(), OwnerID: sub.UserID, Title: title, Done: c.Done.V, CreatedAt: now, UpdatedAt: now}
	if s.opts.MaxPerUser > 0 {
		err = s.store.CreateTaskWithin(ctx, t, s.opts.MaxPerUser)
	} else {
		err = s.store.CreateTask(ctx, t)
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// Update changes the task id, if the caller may, by the change read
// decodes; the task is looked up before the body is read, so that a
// missing task and another user's answer alike whatever the body holds.
// A change that sets nothing returns the task as it is.
func (s *Tasks) Update(ctx context.Context, sub policy.Subject, id string, read func(*TaskChange) error) (*jot.Task, error) {
	if err := s.opts.write(ctx, sub); err != nil {
		return nil, err
	}
	t, err := s.load(ctx, sub, id, policy.CanChangeTask)
	if err != nil {
		return nil, err
	}
	var c TaskChange
	if err := read(&c); err != nil {
		return nil, err
	}
	title, err := c.check()
	if err != nil {
		return nil, err
	}
	if !c.Title.Set && !c.Done.Set {
		return t, nil
	}
	if c.Title.Set {
		t.Title = title
	}
	if c.Done.Set {
		t.Done = c.Done.V
	}
	t.UpdatedAt = s.opts.now()
	if err := s.store.UpdateTask(ctx, t); err != nil {
		return nil, notFound(err, errTaskNotFound)
	}
	return t, nil
}

// Delete deletes the task id, if the caller may.
func (s *Tasks) Delete(ctx context.Context, sub policy.Subject, id string) error {
	if err := s.opts.write(ctx, sub); err != nil {
		return err
	}
	t, err := s.load(ctx, sub, id, policy.CanChangeTask)
	if err != nil {
		return err
	}
	return notFound(s.store.DeleteTask(ctx, t.ID), errTaskNotFound)
}

// load returns the task id if the rule allows the caller it
// (policy.CanSeeTask or policy.CanChangeTask); any other task is not found.
func (s *Tasks) load(ctx context.Context, sub policy.Subject, id string, allowed func(policy.Subject, string) bool) (*jot.Task, error) {
	t, err := find(ctx, id, s.store.TaskByID, errTaskNotFound)
	if err != nil {
		return nil, err
	}
	if !allowed(sub, t.OwnerID) {
		return nil, errTaskNotFound()
	}
	return t, nil
}

// find returns the thing id with get, answering a malformed id and one the
// store does not have with missing.
func find[T any](ctx context.Context, id string, get func(context.Context, string) (T, error), missing func() error) (T, error) {
	var none T
	if !jot.ValidID(id) {
		return none, missing()
	}
	v, err := get(ctx, id)
	if err != nil {
		return none, notFound(err, missing)
	}
	return v, nil
}

// notFound returns the resource's own not-found answer for a store's
// ENOTFOUND, and err otherwise.
func notFound(err error, answer func() error) error {
	if jot.ErrorCode(err) == jot.ENOTFOUND {
		return answer()
	}
	return err
}
