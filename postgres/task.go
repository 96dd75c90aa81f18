package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jotauth/jot"
	"github.com/jotauth/jot/internal/sqlstore"
)

const taskColumns = sqlstore.TaskColumns

// CreateTask inserts t; an owner that does not exist is ENOTFOUND.
func (db *DB) CreateTask(ctx context.Context, t *jot.Task) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	_, err := db.pool.Exec(ctx, `INSERT INTO tasks (`+taskColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		sqlstore.TaskArgs[times](t)...)
	return createError(err, "task")
}

// TaskByID returns the task, or ENOTFOUND.
func (db *DB) TaskByID(ctx context.Context, id string) (*jot.Task, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	t, err := sqlstore.ScanTask[times](db.pool.QueryRow(ctx, `SELECT `+taskColumns+` FROM tasks WHERE id = $1`, id))
	return sqlstore.One(t, err, pgx.ErrNoRows, "task", "task by id")
}

// UpdateTask writes Title, Done and UpdatedAt of t; an unknown task is ENOTFOUND.
func (db *DB) UpdateTask(ctx context.Context, t *jot.Task) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	tag, err := db.pool.Exec(ctx, `UPDATE tasks SET title = $1, done = $2, updated_at = $3 WHERE id = $4`,
		t.Title, t.Done, t.UpdatedAt, t.ID)
	return sqlstore.AffectedOne(tag.RowsAffected(), err, "task")
}

// DeleteTask deletes the task; an unknown task is ENOTFOUND.
func (db *DB) DeleteTask(ctx context.Context, id string) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	tag, err := db.pool.Exec(ctx, `DELETE FROM tasks WHERE id = $1`, id)
	return sqlstore.AffectedOne(tag.RowsAffected(), err, "task")
}

// ListTasks lists tasks ordered by id, only ownerID's unless it is empty; a
// Limit of 0 or less means all.
func (db *DB) ListTasks(ctx context.Context, ownerID string, p jot.Page) ([]*jot.Task, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	// Two statements rather than one with an OR, so each can use its index.
	if ownerID == "" {
		return queryAll(ctx, db.pool, "list tasks", sqlstore.ScanTask[times], `SELECT `+taskColumns+` FROM tasks
			WHERE id > $1 ORDER BY id LIMIT $2`, p.After, limit(p))
	}
	return queryAll(ctx, db.pool, "list tasks", sqlstore.ScanTask[times], `SELECT `+taskColumns+` FROM tasks
		WHERE owner_id = $1 AND id > $2 ORDER BY id LIMIT $3`, ownerID, p.After, limit(p))
}

// CreateTaskWithin inserts t only while its owner has fewer than max tasks;
// see jot.TaskStore.
func (db *DB) CreateTaskWithin(ctx context.Context, t *jot.Task, max int) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.tx(ctx, func(tx pgx.Tx) error {
		if err := lockOwner(ctx, tx, t.OwnerID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO tasks (`+taskColumns+`)
			SELECT $1, $2, $3, $4, $5, $6 WHERE (SELECT count(*) FROM tasks WHERE owner_id = $2) < $7`,
			append(sqlstore.TaskArgs[times](t), max)...)
		if err := createError(err, "task"); err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return jot.QuotaError("tasks", max)
		}
		return nil
	})
}
