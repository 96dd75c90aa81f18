package postgres

import (
	"context"
	"embed"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jotauth/jot/internal/migrations"
)

// migrationFiles holds the schema, one NNNN_name.sql file per step. A file,
// once released, is never edited: a change is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrateLock is the key of the advisory lock that Migrate holds: "jot-migr"
// in ASCII. It is per database, not per schema, which at worst makes
// migrations of two schemas in one database take turns.
const migrateLock int64 = 0x6a6f742d6d696772

// Migrate applies the embedded migrations that the schema lacks, in order,
// recording each in schema_migrations. They all run in one transaction:
// DDL is transactional in PostgreSQL, so a failing step leaves the schema
// as it was before Migrate. The transaction first takes an advisory lock
// (pg_advisory_xact_lock, released at commit), so instances that start at
// once take turns: the first applies the steps, the others then find them
// recorded. Running it again is a no-op.
func (db *DB) Migrate(ctx context.Context) error {
	ms, err := migrations.Load(migrationFiles, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	err = db.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		// Under the lock: two concurrent CREATE TABLE IF NOT EXISTS can
		// still collide in the catalog.
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL
		)`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		applied := map[int]bool{}
		for _, v := range versions {
			applied[int(v)] = true
		}
		for _, m := range ms {
			if applied[m.Version] {
				continue
			}
			// Without arguments pgx uses the simple protocol, which runs a
			// file of several statements.
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.Version, m.Name, time.Now()); err != nil {
				return fmt.Errorf("%s: record: %w", m.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}
