// Package postgres implements jot.Store on PostgreSQL (pgx), for running
// several jot instances against one database behind a load balancer.
//
// Open takes a postgres:// or postgresql:// URL. Besides the libpq
// settings, the URL may carry pgxpool's pool_* settings (pool_max_conns
// defaults to 10 here) and any run-time parameter of the server, which
// applies to every connection: ?search_path=jot keeps the tables in the
// schema jot, which must exist.
//
// Concurrency rests on locks taken in READ COMMITTED transactions,
// always in the same order so that they cannot deadlock: the active admins
// (by id), then the user, then their sessions, then the revocations table.
//   - A refresh-token rotation locks its session row (SELECT ... FOR
//     UPDATE), so concurrent rotations of one session take turns and each
//     reads what the one before it committed.
//   - Whatever may take away an active admin (a demotion, a disabling, a
//     deletion) first locks every active admin row, so two admins cannot
//     demote each other at once.
//   - Ending sessions updates them with RETURNING, which reads the latest
//     committed AccessExp, so a revocation never lags behind a rotation
//     that committed just before.
//   - Inserts into revocations are serialized; see endSessions for why the
//     cursor needs that.
//
// Every transaction that records revocations also sends NOTIFY
// jot_revocations, delivered when it commits; ListenRevocations lets other
// instances act on it at once. Outside the schema public the channel is
// qualified by the schema (jot_revocations:jot), so deployments in
// different schemas of one database do not wake each other; likewise
// jot_keys for signing keys. LISTEN needs a session of its own, so it does
// not work through a transaction-pooling proxy (PgBouncer in transaction
// mode); the server's polling still does.
//
// Times are timestamptz, kept to the microsecond (finer digits are
// truncated), and come back in UTC; the zero time is stored as NULL where
// a column may lack a value.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jotauth/jot"
	"github.com/jotauth/jot/internal/sqlstore"
)

// defaultMaxConns is the pool size unless the URL sets pool_max_conns:
// pgxpool's default (the number of CPUs, at least 4) is small for a server
// whose transactions wait on row locks.
const defaultMaxConns = 10

// DB is a jot.Store on a PostgreSQL database. It is safe for concurrent use.
type DB struct {
	pool *pgxpool.Pool
	// closed ends the revocation listeners when the DB closes.
	closed    chan struct{}
	closeOnce sync.Once
	// timeout bounds every call; 0 is no bound.
	timeout time.Duration
	log     *slog.Logger
	// listener is the state of the listening connection (hub), for metrics.
	listener listenerState
	// hub is the one listening connection that ListenRevocations and
	// ListenKeys share.
	hub listenHub
	// ch are the NOTIFY channels of the DB's schema, read at Open.
	ch channels
	// writes are the store's writes in a transaction, for the flows that
	// every store shares; set at Open, never changed.
	writes sqlstore.Writes[pgx.Tx]
}

var _ jot.Store = (*DB)(nil)

// Options tune a DB beyond what its URL says.
type Options struct {
	// Timeout bounds every call of the store, acquiring and opening a
	// connection included, and each attempt of the listener to connect; a
	// call past it fails with an error that wraps
	// context.DeadlineExceeded. Zero leaves calls unbounded (and
	// connecting bounded by the URL's connect_timeout alone).
	Timeout time.Duration
	// Logger is told when the revocation listener loses its connection
	// and when it is back; nil logs nowhere.
	Logger *slog.Logger
}

// applicationName is what pg_stat_activity shows for jot's connections
// unless the URL names another.
const applicationName = "jot"

// Open connects to the database the URL names (postgres://... or
// postgresql://...) and checks that it answers. It does not migrate: call
// Migrate.
func Open(ctx context.Context, dbURL string) (*DB, error) {
	return OpenWith(ctx, dbURL, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, dbURL string, opts Options) (*DB, error) {
	if !hasScheme(dbURL, "postgres") && !hasScheme(dbURL, "postgresql") {
		// Never quote the URL: it may hold a password.
		return nil, errors.New("postgres: database URL must start with postgres:// or postgresql://")
	}
	// pgx redacts the password in its parse errors.
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if u, err := url.Parse(dbURL); err == nil && !u.Query().Has("pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	// An operator finds jot's connections in pg_stat_activity by name.
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = applicationName
	}
	// The pool opens connections in the background, apart from the
	// context of the call that waits for one: only a connect timeout
	// stops an attempt at a database that never answers.
	if opts.Timeout > 0 && (cfg.ConnConfig.ConnectTimeout <= 0 || cfg.ConnConfig.ConnectTimeout > opts.Timeout) {
		cfg.ConnConfig.ConnectTimeout = opts.Timeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		// pgx returns timestamptz values in the process's local zone; the
		// store's contract is UTC, whatever the zone of the host.
		conn.TypeMap().RegisterType(&pgtype.Type{
			Name:  "timestamptz",
			OID:   pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
		})
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	// The pool connects lazily; a bad host or password should stop the
	// program at start, not at its first request. The query that checks
	// also reads the schema that names the channels: NULL when no schema
	// of the search path exists (yet).
	db := &DB{pool: pool, closed: make(chan struct{}), timeout: opts.Timeout, log: opts.Logger}
	pctx, cancel := db.bound(ctx)
	defer cancel()
	var schema pgtype.Text
	if err := pool.QueryRow(pctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	db.ch = channelsFor(schema.String)
	db.writes = sqlstore.Writes[pgx.Tx]{User: insertUser, Token: insertMailToken, Mail: insertMail,
		Events: insertAudit, Rotate: db.rotate, EndSessions: db.endUserSessions, EndResets: endResetTokens,
		SessionUser: lockSessionUser, Session: insertSession, Refresh: insertRefresh, EndLeastUsed: db.endLeastUsed,
		Violated: violated}
	return db, nil
}

// bound returns ctx limited to the DB's timeout: every exported method
// starts with it, so that no call waits on a database that does not answer
// for longer than the operator allows.
func (db *DB) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if db.timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, db.timeout)
}

// hasScheme reports whether s starts with scheme:// in any case.
func hasScheme(s, scheme string) bool {
	p := scheme + "://"
	return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p)
}

// Close closes the connections and ends the revocation listeners. Calling
// it again does nothing.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		close(db.closed)
		db.pool.Close()
	})
	return nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// tx runs fn in a READ COMMITTED transaction and commits when fn returns
// nil. The isolation is the default on purpose: the methods take the row
// locks they need, and READ COMMITTED lets each statement after a lock see
// what the previous holder committed.
func (db *DB) tx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// Rollback after a commit is a no-op; with ctx canceled it closes the
	// connection, which the pool then replaces.
	defer tx.Rollback(ctx)
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// querier is what the read helpers need, so they run on the pool or in a
// transaction alike.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// scanner is a pgx.Row or pgx.Rows.
type scanner = sqlstore.Scanner

// SQLSTATE codes the store maps to jot error codes.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

// pgError returns the server's error inside err, or nil.
func pgError(err error) *pgconn.PgError {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// isUnique reports whether err is a violated unique constraint, and which.
func isUnique(err error) (constraint string, ok bool) {
	if e := pgError(err); e != nil && e.Code == uniqueViolation {
		return e.ConstraintName, true
	}
	return "", false
}

// isForeignKey reports whether err is a violated foreign key constraint.
func isForeignKey(err error) bool {
	e := pgError(err)
	return e != nil && e.Code == foreignKeyViolation
}

// violated reads err: whether it broke a foreign key or a unique key.
func violated(err error) (fk, unique bool) {
	_, unique = isUnique(err)
	return isForeignKey(err), unique
}

// createError maps the error of an insert of an owned thing; see
// sqlstore.CreateError.
func createError(err error, what string) error {
	fk, dup := violated(err)
	return sqlstore.CreateError(err, fk, dup, what)
}

// queryAll runs a query on q and scans every row with scan; see
// sqlstore.All.
func queryAll[T any](ctx context.Context, q querier, what string, scan func(scanner) (T, error), sql string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err == nil {
		defer rows.Close()
	}
	return sqlstore.All(what, rows, err, scan)
}

// times keeps times as timestamptz; see sqlstore.Times.
type times struct{}

func (times) Dest(t *time.Time) any     { return t }
func (times) NullDest(t *time.Time) any { return (*nullTimeDest)(t) }
func (times) Arg(t time.Time) any       { return t }
func (times) NullArg(t time.Time) any   { return nullTime(t) }

// nullTimeDest scans a nullable timestamptz; NULL is the zero time.
type nullTimeDest time.Time

func (d *nullTimeDest) ScanTimestamptz(v pgtype.Timestamptz) error {
	*d = nullTimeDest(fromNull(v))
	return nil
}

// nullTime encodes t for a nullable column: the zero time as NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// fromNull decodes a nullable time column; NULL is the zero time.
func fromNull(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// limit turns a page size into a LIMIT: NULL, no limit, when it is not
// positive.
func limit(p jot.Page) any {
	if p.Limit <= 0 {
		return nil
	}
	return p.Limit
}

// lockOwner locks a resource owner's user row for the rest of the
// transaction, so the owner's quota-checked creates take turns: under READ
// COMMITTED each one's count, a statement after the lock, sees what the one
// before it committed. A missing owner is ENOTFOUND.
func lockOwner(ctx context.Context, tx pgx.Tx, id string) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return sqlstore.Missing("owner", err)
	} else if err != nil {
		return fmt.Errorf("lock owner: %w", err)
	}
	return nil
}

// Stats returns the state of the pool and of the revocation listener.
func (db *DB) Stats() jot.DBStats {
	s := db.pool.Stat()
	return jot.DBStats{
		AcquiredConns:      int(s.AcquiredConns()),
		IdleConns:          int(s.IdleConns()),
		TotalConns:         int(s.TotalConns()),
		MaxConns:           int(s.MaxConns()),
		WaitedAcquires:     s.EmptyAcquireCount(),
		CanceledAcquires:   s.CanceledAcquireCount(),
		ListenerUp:         db.listener.up.Load(),
		ListenerReconnects: db.listener.reconnects.Load(),
	}
}
