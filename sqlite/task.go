package sqlite

import (
	"context"
	"database/sql"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/internal/sqlstore"
)

const taskColumns = sqlstore.TaskColumns

// CreateTask inserts t; an owner that does not exist is ENOTFOUND.
func (db *DB) CreateTask(ctx context.Context, t *jot.Task) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	_, err := db.write.ExecContext(ctx, `INSERT INTO tasks (`+taskColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		sqlstore.TaskArgs[times](t)...)
	return createError(err, "task")
}

// TaskByID returns the task, or ENOTFOUND.
func (db *DB) TaskByID(ctx context.Context, id string) (*jot.Task, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	t, err := sqlstore.ScanTask[times](db.read.QueryRowContext(ctx, `SELECT `+taskColumns+` FROM tasks WHERE id = ?`, id))
	return sqlstore.One(t, err, sql.ErrNoRows, "task", "task by id")
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
		return queryAll(ctx, db.read, "list tasks", sqlstore.ScanTask[times], `SELECT `+taskColumns+` FROM tasks
			WHERE id > ? ORDER BY id LIMIT ?`, p.After, limit(p))
	}
	return queryAll(ctx, db.read, "list tasks", sqlstore.ScanTask[times], `SELECT `+taskColumns+` FROM tasks
		WHERE owner_id = ? AND id > ? ORDER BY id LIMIT ?`, ownerID, p.After, limit(p))
}

// affectedOne turns the result of an UPDATE or DELETE of one row by id into
// ENOTFOUND when there was no such row.
func affectedOne(res sql.Result, err error, what string) error {
	if err != nil {
		return sqlstore.AffectedOne(0, err, what)
	}
	n, err := res.RowsAffected()
	return sqlstore.AffectedOne(n, err, what)
}

// CreateTaskWithin inserts t only while its owner has fewer than max tasks;
// see jot.TaskStore. One statement counts and inserts, and SQLite runs one
// writer at a time, so concurrent creates cannot both pass the count.
func (db *DB) CreateTaskWithin(ctx context.Context, t *jot.Task, max int) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	res, err := db.write.ExecContext(ctx, `INSERT INTO tasks (`+taskColumns+`)
		SELECT ?, ?, ?, ?, ?, ? WHERE (SELECT COUNT(*) FROM tasks WHERE owner_id = ?) < ?`,
		append(sqlstore.TaskArgs[times](t), t.OwnerID, max)...)
	if err := createError(err, "task"); err != nil {
		return err
	}
	return quotaCheck(res, max, "tasks")
}
