package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/internal/sqlstore"
	sqlite3 "modernc.org/sqlite/lib"
)

const userColumns = sqlstore.UserColumns

// scanUser reads a row of userColumns.
func scanUser(s scanner) (*jot.User, error) { return sqlstore.ScanUser[times](s) }

// userFound is the outcome of a query for one user.
func userFound(u *jot.User, err error, op string) (*jot.User, error) {
	return sqlstore.One(u, err, sql.ErrNoRows, "user", op)
}

func userByID(ctx context.Context, q querier, id string) (*jot.User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	return userFound(u, err, "user by id")
}

func insertUser(ctx context.Context, tx *sql.Tx, u *jot.User) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sqlstore.UserArgs[times](u)...)
	switch {
	case sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return sqlstore.Exists("user id "+u.ID, err)
	case isUnique(err):
		return sqlstore.EmailTaken(u.Email, err)
	case err != nil:
		return fmt.Errorf("insert user: %w", err)
	}
	return nil
}

// CreateUser inserts u; an email registered in any case is ECONFLICT.
func (db *DB) CreateUser(ctx context.Context, u *jot.User, audit ...*jot.Audit) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		return writes.UserWithMail(ctx, tx, u, nil, nil, audit)
	})
}

// CreateUsers inserts all of users or none; the first duplicate email,
// registered before or earlier in users, is ECONFLICT naming it.
func (db *DB) CreateUsers(ctx context.Context, users []*jot.User) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		return writes.Users(ctx, tx, users)
	})
}

// UserByID returns the user with the id, or ENOTFOUND.
func (db *DB) UserByID(ctx context.Context, id string) (*jot.User, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	st := db.userByIDStmt.Load()
	if st == nil {
		st = db.prepareUserByID(ctx)
	}
	if st == nil {
		return userByID(ctx, db.read, id)
	}
	u, err := scanUser(st.QueryRowContext(ctx, id))
	return userFound(u, err, "user by id")
}

// prepareUserByID prepares UserByID's statement once; nil while it cannot
// (no users table yet), and the caller queries without it.
func (db *DB) prepareUserByID(ctx context.Context) *sql.Stmt {
	db.userByIDMu.Lock()
	defer db.userByIDMu.Unlock()
	if st := db.userByIDStmt.Load(); st != nil {
		return st
	}
	st, err := db.read.PrepareContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`)
	if err != nil {
		return nil
	}
	db.userByIDStmt.Store(st)
	return st
}

// UserByEmail returns the user with the email, or ENOTFOUND.
func (db *DB) UserByEmail(ctx context.Context, email string) (*jot.User, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	u, err := scanUser(db.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = ?`, email))
	return userFound(u, err, "user by email")
}

// checkOtherAdmin returns ECONFLICT unless an active admin other than id
// exists. It must run in the transaction that demotes, disables or deletes
// id, so that two admins cannot take each other out at once.
func checkOtherAdmin(ctx context.Context, tx *sql.Tx, id string) error {
	var n int
	err := tx.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0 AND id <> ?`, id).Scan(&n)
	if err != nil {
		return fmt.Errorf("count admins: %w", err)
	}
	if n == 0 {
		return sqlstore.LastAdmin()
	}
	return nil
}

// UpdateUser applies upd and returns the user as stored; see jot.UserStore.
func (db *DB) UpdateUser(ctx context.Context, id string, upd jot.UserUpdate, now time.Time, audit ...*jot.Audit) (*jot.User, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	if err := sqlstore.CheckUpdate(upd); err != nil {
		return nil, err
	}
	return sqlstore.InTx(ctx, db.writeTx, func(tx *sql.Tx) (*jot.User, error) {
		return updateUser(ctx, tx, id, upd, now, audit)
	})
}

// updateUser is UpdateUser inside the caller's transaction.
func updateUser(ctx context.Context, tx *sql.Tx, id string, upd jot.UserUpdate, now time.Time, audit []*jot.Audit) (*jot.User, error) {
	u, err := userByID(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	before, err := sqlstore.ApplyUpdate(u, upd, func() error { return checkOtherAdmin(ctx, tx, id) })
	if err != nil {
		return nil, err
	}
	_, err = tx.ExecContext(ctx,
		`UPDATE users SET name = ?, role = ?, disabled = ?, password_hash = ?, updated_at = ?, email = ?, email_verified = ? WHERE id = ?`,
		u.Name, string(u.Role), u.Disabled, u.PasswordHash, nanos(now), u.Email, u.EmailVerified, id)
	if isUnique(err) {
		return nil, sqlstore.EmailTaken(u.Email, err)
	} else if err != nil {
		return nil, fmt.Errorf("update user: %w", err)
	}
	if err := writes.UserUpdated(ctx, tx, &before, u, upd, now, audit); err != nil {
		return nil, err
	}
	return userByID(ctx, tx, id)
}

// DeleteUser removes the user with their sessions (revoked first), tasks and
// recipes; see jot.UserStore.
func (db *DB) DeleteUser(ctx context.Context, id string, now time.Time, audit ...*jot.Audit) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		u, err := userByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if u.ActiveAdmin() {
			if err := checkOtherAdmin(ctx, tx, id); err != nil {
				return err
			}
		}
		ended, err := endSessionIDs(ctx, tx, now, `user_id = ?`, id)
		if err != nil {
			return err
		}
		// Sessions, refresh tokens, tasks and recipes go by ON DELETE CASCADE.
		if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
		return writes.StoreAudit(ctx, tx, audit, ended)
	})
}

// ListUsers lists users ordered by id; a Limit of 0 or less means all.
func (db *DB) ListUsers(ctx context.Context, p jot.Page) ([]*jot.User, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return queryAll(ctx, db.read, "list users", scanUser,
		`SELECT `+userColumns+` FROM users WHERE id > ? ORDER BY id LIMIT ?`, p.After, limit(p))
}

// MaxBcryptCost returns the highest cost of a stored bcrypt hash, or 0 when
// none is stored: one lookup in the index users_bcrypt_cost, whose
// expression and condition the query repeats exactly.
func (db *DB) MaxBcryptCost(ctx context.Context) (int, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	var cost sql.NullString
	err := db.read.QueryRowContext(ctx, `SELECT substr(password_hash, 5, 2) FROM users
		WHERE substr(password_hash, 1, 2) = '$2'
		ORDER BY substr(password_hash, 5, 2) DESC LIMIT 1`).Scan(&cost)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("highest bcrypt cost: %w", err)
	}
	return sqlstore.BcryptCost(cost.String), nil
}
