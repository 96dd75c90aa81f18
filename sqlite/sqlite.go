// Package sqlite implements jot.Store on an embedded SQLite database
// (modernc.org/sqlite, no cgo).
//
// Writes go through a pool of one connection whose transactions begin with
// BEGIN IMMEDIATE: they queue in the process instead of failing with
// SQLITE_BUSY, and a transaction that reads before it writes (a refresh-token
// rotation, a last-admin check) cannot be overtaken by another writer.
// Reads use a separate pool of read-only connections; in WAL mode they never
// wait for the writer. busy_timeout covers the one remaining contention: another
// process on the same file (the CLI while the server runs).
//
// Times are stored as Unix nanoseconds and come back in UTC, so they
// round-trip exactly between 1678 and 2262; the zero time is stored as NULL.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/internal/sqlstore"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Memory is the path of a private in-memory database, gone when the DB
// closes; handy for tests of other packages.
const Memory = ":memory:"

// busyTimeout is how long a statement waits for a lock held by another
// process before it fails.
const busyTimeout = 10 * time.Second

// DB is a jot.Store on one SQLite database file. It is safe for concurrent use.
type DB struct {
	write *sql.DB
	// read is write itself for an in-memory database, which exists only
	// inside its one connection.
	read *sql.DB
	// timeout bounds every call; 0 is no bound.
	timeout time.Duration
	// The hottest read, prepared once (lazily: the table exists only
	// after Migrate) rather than on every request; database/sql prepares
	// it again on each read connection it meets.
	userByIDMu   sync.Mutex
	userByIDStmt atomic.Pointer[sql.Stmt]
}

var _ jot.Store = (*DB)(nil)

// Options tune a DB.
type Options struct {
	// Timeout bounds every call of the store: the wait for the one writer
	// connection and for a lock held by another process (busy_timeout)
	// included. A call past it fails with an error that wraps
	// context.DeadlineExceeded, or with EUNAVAILABLE when another process
	// held the lock throughout. Zero leaves calls unbounded, and the lock
	// wait at 10 s.
	Timeout time.Duration
}

// Open opens (creating it when missing, with mode 0600 since it holds
// private keys) the database file at path, whose folder must exist, or an
// in-memory database for Memory. It does not migrate: call Migrate.
func Open(ctx context.Context, path string) (*DB, error) {
	return OpenWith(ctx, path, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	// The driver takes everything after a '?' as its own parameters.
	if strings.Contains(path, "?") {
		return nil, fmt.Errorf("sqlite: database path %q must not contain '?'", path)
	}
	if path != Memory {
		if err := createFile(path); err != nil {
			return nil, err
		}
	}

	busy := busyTimeout
	if opts.Timeout > 0 {
		busy = min(busy, opts.Timeout)
	}
	common := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", max(busy.Milliseconds(), 1))
	write, err := sql.Open("sqlite", path+"?_txlock=immediate&"+common+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	// The one connection is never recycled: for Memory it is the database.
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	// Connecting the writer first switches a new file to WAL before any
	// reader opens it.
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db := &DB{write: write, read: write, timeout: opts.Timeout}
	if path == Memory {
		return db, nil
	}

	read, err := sql.Open("sqlite", path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	if err := read.PingContext(ctx); err != nil {
		read.Close()
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	db.read = read
	return db, nil
}

// createFile creates an empty database file that only its owner may read;
// SQLite gives its -wal and -shm files the same mode.
func createFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	return nil
}

// ParseURL returns the file path of a database URL: sqlite://PATH, where
// PATH may be relative (sqlite://./jot-data/jot.db) or absolute
// (sqlite:///var/lib/jot/jot.db), or sqlite://:memory:.
func ParseURL(url string) (string, error) {
	const scheme = "sqlite://"
	if len(url) < len(scheme) || !strings.EqualFold(url[:len(scheme)], scheme) {
		return "", fmt.Errorf("sqlite: database URL %q does not start with %s", url, scheme)
	}
	path := url[len(scheme):]
	if path == "" {
		return "", fmt.Errorf("sqlite: database URL %q has no path", url)
	}
	if strings.ContainsAny(path, "?#") {
		return "", fmt.Errorf("sqlite: database URL %q: query parameters and fragments are not supported", url)
	}
	return path, nil
}

// OpenURL opens the database named by a URL of the form ParseURL accepts,
// creating its folder (mode 0700) when missing.
func OpenURL(ctx context.Context, url string) (*DB, error) {
	return OpenURLWith(ctx, url, Options{})
}

// OpenURLWith is OpenURL with options.
func OpenURLWith(ctx context.Context, url string, opts Options) (*DB, error) {
	path, err := ParseURL(url)
	if err != nil {
		return nil, err
	}
	if path != Memory {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("sqlite: create database folder: %w", err)
		}
	}
	return OpenWith(ctx, path, opts)
}

// bound returns ctx limited to the DB's timeout: every exported method
// starts with it.
func (db *DB) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if db.timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, db.timeout)
}

// Close closes the database.
func (db *DB) Close() error {
	var err error
	if st := db.userByIDStmt.Load(); st != nil {
		err = st.Close()
	}
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return errors.Join(err, db.write.Close())
}

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	var one int
	if err := db.read.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// writeTx runs fn in a write transaction and commits when fn returns nil.
// fn must use tx only: the writer pool has a single connection, so any other
// write from inside fn would wait for itself.
func (db *DB) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if sqliteCode(err)&0xff == sqlite3.SQLITE_BUSY {
		// Another process (the CLI) held the write lock for the whole
		// busy timeout: the database is there, but not for us now.
		return &jot.Error{Code: jot.EUNAVAILABLE, Message: "database busy", Err: err}
	} else if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// readTx runs fn in a read transaction, so that every query in it sees one
// snapshot.
func (db *DB) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	return fn(tx)
}

// querier is what the read helpers need, so they run on a pool or in a
// transaction alike.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// writes are the store's writes in a transaction, for the flows that
// every store shares; never changed.
var writes = sqlstore.Writes[*sql.Tx]{User: insertUser, Token: insertMailToken, Mail: insertMail,
	Events: insertAudit, Rotate: rotate, EndSessions: endUserSessions, EndResets: endResetTokens,
	SessionUser: sessionUser, Session: insertSession, Refresh: insertRefresh, EndLeastUsed: endLeastUsed,
	Violated: func(err error) (bool, bool) { return isForeignKey(err), isUnique(err) }}

// execer is a *sql.DB or a *sql.Tx, for writes that run alone or in a
// transaction alike.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// scanner is a *sql.Row or *sql.Rows.
type scanner = sqlstore.Scanner

// queryAll runs a query on q and scans every row with scan; what names the
// list in errors. An empty result is an empty slice, never nil.
func queryAll[T any](ctx context.Context, q querier, what string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err == nil {
		defer rows.Close()
	}
	return sqlstore.All(what, rows, err, scan)
}

// sqliteCode returns the extended result code of err, or 0.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// isUnique reports whether err is a violated unique or primary key constraint.
func isUnique(err error) bool {
	c := sqliteCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// isForeignKey reports whether err is a violated foreign key constraint.
func isForeignKey(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// createError maps the error of an insert of an owned thing; see
// sqlstore.CreateError.
func createError(err error, what string) error {
	return sqlstore.CreateError(err, isForeignKey(err), isUnique(err), what)
}

// The range of times a Unix nanosecond count can hold.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// nanos encodes t; times outside the representable range are clamped
// rather than wrapped around.
func nanos(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// nullNanos encodes t for a nullable column: the zero time as NULL.
func nullNanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return nanos(t)
}

// fromNanos decodes a time stored by nanos.
func fromNanos(n int64) time.Time {
	return time.Unix(0, n).UTC()
}

// times keeps times as Unix nanoseconds; see sqlstore.Times.
type times struct{}

func (times) Dest(t *time.Time) any     { return (*nanoTime)(t) }
func (times) NullDest(t *time.Time) any { return (*nanoTime)(t) }
func (times) Arg(t time.Time) any       { return nanos(t) }
func (times) NullArg(t time.Time) any   { return nullNanos(t) }

// nanoTime scans a time stored by nanos or nullNanos; NULL is the zero
// time.
type nanoTime time.Time

func (d *nanoTime) Scan(src any) error {
	switch v := src.(type) {
	case int64:
		*d = nanoTime(fromNanos(v))
	case nil:
		*d = nanoTime{}
	default:
		return fmt.Errorf("time column holds %T, not an integer", src)
	}
	return nil
}

// limit turns a page size into a LIMIT: -1, no limit, when it is not positive.
func limit(p jot.Page) int {
	if p.Limit <= 0 {
		return -1
	}
	return p.Limit
}

// newestFirst ends query q, with its args, so that it returns the page p
// of its rows in descending id order.
func newestFirst(q string, args []any, p jot.Page) (string, []any) {
	if p.After != "" {
		q += ` AND id < ?`
		args = append(args, p.After)
	}
	return q + ` ORDER BY id DESC LIMIT ?`, append(args, limit(p))
}

// quotaCheck turns a quota-guarded INSERT that inserted nothing into
// EQUOTA.
func quotaCheck(res sql.Result, max int, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("create %s: %w", what, err)
	}
	if n == 0 {
		return jot.QuotaError(what, max)
	}
	return nil
}
