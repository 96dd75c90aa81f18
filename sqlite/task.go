package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jotauth/jot"
)

const taskColumns = `id, owner_id, title, done, created_at, updated_at`

func scanTask(s scanner) (*jot.Task, error) {
	var t jot.Task
	var created, updated int64
	if err := s.Scan(&t.ID, &t.OwnerID, &t.Title, &t.Done, &created, &updated); err != nil {
		return nil, err
	}
	t.CreatedAt = fromNanos(created)
	t.UpdatedAt = fromNanos(updated)
	return &t, nil
}

// CreateTask inserts t; an owner that does not exist is ENOTFOUND.
func (db *DB) CreateTask(ctx context.Context, t *jot.Task) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	_, err := db.write.ExecContext(ctx, `INSERT INTO tasks (`+taskColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		t.ID, t.OwnerID, t.Title, t.Done, nanos(t.CreatedAt), nanos(t.UpdatedAt))
	switch {
	case isForeignKey(err):
		return &jot.Error{Code: jot.ENOTFOUND, Message: "owner not found", Err: err}
	case isUnique(err):
		return &jot.Error{Code: jot.ECONFLICT, Message: "task already exists", Err: err}
	case err != nil:
		return fmt.Errorf("create task: %w", err)
	}
	return nil
}

// TaskByID returns the task, or ENOTFOUND.
func (db *DB) TaskByID(ctx context.Context, id string) (*jot.Task, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	t, err := scanTask(db.read.QueryRowContext(ctx, `SELECT `+taskColumns+` FROM tasks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("task")
	} else if err != nil {
		return nil, fmt.Errorf("task by id: %w", err)
	}
	return t, nil
}

// UpdateTask writes Title, Done and UpdatedAt of t; an unknown task is ENOTFOUND.
func (db *DB) UpdateTask(ctx context.Context, t *jot.Task) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	res, err := db.write.ExecContext(ctx, `UPDATE tasks SET title = ?, done = ?, updated_at = ? WHERE id = ?`,
		t.Title, t.Done, nanos(t.UpdatedAt), t.ID)
	return affectedOne(res, err, "task")
}

// DeleteTask deletes the task; an unknown task is ENOTFOUND.
func (db *DB) DeleteTask(ctx context.Context, id string) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	res, err := db.write.ExecContext(ctx, `DELETE FROM tasks WHERE id = ?`, id)
	return affectedOne(res, err, "task")
}

// ListTasks lists tasks ordered by id, only ownerID's unless it is empty; a
// Limit of 0 or less means all.
func (db *DB) ListTasks(ctx context.Context, ownerID string, p jot.Page) ([]*jot.Task, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	// Two statements rather than one with an OR, so each can use its index.
	if ownerID == "" {
		return queryAll(ctx, db.read, "list tasks", scanTask, `SELECT `+taskColumns+` FROM tasks
			WHERE id > ? ORDER BY id LIMIT ?`, p.After, limit(p))
	}
	return queryAll(ctx, db.read, "list tasks", scanTask, `SELECT `+taskColumns+` FROM tasks
		WHERE owner_id = ? AND id > ? ORDER BY id LIMIT ?`, ownerID, p.After, limit(p))
}

// affectedOne turns the result of an UPDATE or DELETE of one row by id into
// ENOTFOUND when there was no such row.
func affectedOne(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	if n == 0 {
		return notFound(what)
	}
	return nil
}

// CreateTaskWithin inserts t only while its owner has fewer than max tasks;
// see jot.TaskStore. One statement counts and inserts, and SQLite runs one
// writer at a time, so concurrent creates cannot both pass the count.
func (db *DB) CreateTaskWithin(ctx context.Context, t *jot.Task, max int) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	res, err := db.write.ExecContext(ctx, `INSERT INTO tasks (`+taskColumns+`)
		SELECT ?, ?, ?, ?, ?, ? WHERE (SELECT COUNT(*) FROM tasks WHERE owner_id = ?) < ?`,
		t.ID, t.OwnerID, t.Title, t.Done, nanos(t.CreatedAt), nanos(t.UpdatedAt), t.OwnerID, max)
	switch {
	case isForeignKey(err):
		return &jot.Error{Code: jot.ENOTFOUND, Message: "owner not found", Err: err}
	case isUnique(err):
		return &jot.Error{Code: jot.ECONFLICT, Message: "task already exists", Err: err}
	case err != nil:
		return fmt.Errorf("create task: %w", err)
	}
	return quotaCheck(res, max, "tasks")
}
