package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jotauth/jot"
	"github.com/jotauth/jot/internal/sqlstore"
)

const userColumns = sqlstore.UserColumns

// userBy runs a query for one user; no row is ENOTFOUND.
func userBy(ctx context.Context, q querier, what, sql string, args ...any) (*jot.User, error) {
	u, err := sqlstore.ScanUser[times](q.QueryRow(ctx, sql, args...))
	return sqlstore.One(u, err, pgx.ErrNoRows, "user", what)
}

func insertUser(ctx context.Context, q pgx.Tx, u *jot.User) error {
	_, err := q.Exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		sqlstore.UserArgs[times](u)...)
	if constraint, ok := isUnique(err); ok {
		if constraint == "users_pkey" {
			return sqlstore.Exists("user id "+u.ID, err)
		}
		return sqlstore.EmailTaken(u.Email, err)
	} else if err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	return nil
}

// CreateUser inserts u; an email registered in any case is ECONFLICT.
func (db *DB) CreateUser(ctx context.Context, u *jot.User, audit ...*jot.Audit) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.tx(ctx, func(tx pgx.Tx) error {
		return db.writes.UserWithMail(ctx, tx, u, nil, nil, audit)
	})
}

// CreateUsers inserts all of users or none; the first duplicate email,
// registered before or earlier in users, is ECONFLICT naming it.
func (db *DB) CreateUsers(ctx context.Context, users []*jot.User) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.tx(ctx, func(tx pgx.Tx) error {
		return db.writes.Users(ctx, tx, users)
	})
}

// UserByID returns the user with the id, or ENOTFOUND.
func (db *DB) UserByID(ctx context.Context, id string) (*jot.User, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return userBy(ctx, db.pool, "user by id", `SELECT `+userColumns+` FROM users WHERE id = $1`, id)
}

// UserByEmail returns the user with the email, in any case, or ENOTFOUND.
func (db *DB) UserByEmail(ctx context.Context, email string) (*jot.User, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	// The same expression as the unique index users_email, so it is used.
	return userBy(ctx, db.pool, "user by email", `SELECT `+userColumns+` FROM users WHERE lower(email) = lower($1)`, email)
}

// mayRemoveAdmin reports whether upd could make an active admin stop being
// one; only such updates need the admin rows locked.
func mayRemoveAdmin(upd jot.UserUpdate) bool {
	return upd.Role != nil && *upd.Role != jot.RoleAdmin || upd.Disabled != nil && *upd.Disabled
}

// lockActiveAdmins locks the rows of every active admin, in id order, and
// returns their ids. Until the transaction ends nobody else can demote,
// disable or delete them, so a count taken from the list stays true; and
// since every such transaction takes the same locks first, in the same
// order, two of them take turns instead of both passing the last-admin
// check or deadlocking. A row changed by a transaction that committed
// while this one waited is checked again (READ COMMITTED), so a demoted
// admin drops out of the list.
func lockActiveAdmins(ctx context.Context, tx pgx.Tx) ([]string, error) {
	return queryAll(ctx, tx, "lock admins", sqlstore.ScanString, `SELECT id FROM users WHERE role = 'admin' AND NOT disabled
		ORDER BY id FOR NO KEY UPDATE`)
}

// checkOtherAdmin returns ECONFLICT unless admins, from lockActiveAdmins,
// holds an active admin other than id.
func checkOtherAdmin(admins []string, id string) error {
	if slices.ContainsFunc(admins, func(a string) bool { return a != id }) {
		return nil
	}
	return sqlstore.LastAdmin()
}

// UpdateUser applies upd and returns the user as stored; see jot.UserStore.
func (db *DB) UpdateUser(ctx context.Context, id string, upd jot.UserUpdate, now time.Time, audit ...*jot.Audit) (*jot.User, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	if err := sqlstore.CheckUpdate(upd); err != nil {
		return nil, err
	}
	return sqlstore.InTx(ctx, db.tx, func(tx pgx.Tx) (*jot.User, error) {
		return db.updateUser(ctx, tx, id, upd, now, audit)
	})
}

// updateUser is UpdateUser inside the caller's transaction.
func (db *DB) updateUser(ctx context.Context, tx pgx.Tx, id string, upd jot.UserUpdate, now time.Time, audit []*jot.Audit) (*jot.User, error) {
	var admins []string
	if mayRemoveAdmin(upd) {
		var err error
		if admins, err = lockActiveAdmins(ctx, tx); err != nil {
			return nil, err
		}
	}
	// NO KEY UPDATE: the key stays, so a session insert's foreign key
	// check (KEY SHARE) need not wait; a pinned CreateSession (FOR
	// SHARE) does, and so takes its turn with this change.
	u, err := userBy(ctx, tx, "user by id", `SELECT `+userColumns+` FROM users WHERE id = $1 FOR NO KEY UPDATE`, id)
	if err != nil {
		return nil, err
	}
	before, err := sqlstore.ApplyUpdate(u, upd, func() error { return checkOtherAdmin(admins, id) })
	if err != nil {
		return nil, err
	}
	out, err := userBy(ctx, tx, "update user", `UPDATE users
		SET name = $1, role = $2, disabled = $3, password_hash = $4, updated_at = $5, email = $7, email_verified = $8
		WHERE id = $6 RETURNING `+userColumns,
		u.Name, string(u.Role), u.Disabled, u.PasswordHash, now, id, u.Email, u.EmailVerified)
	if _, ok := isUnique(err); ok {
		return nil, sqlstore.EmailTaken(u.Email, err)
	} else if err != nil {
		return nil, err
	}
	if err := db.writes.UserUpdated(ctx, tx, &before, u, upd, now, audit); err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteUser removes the user with their sessions (revoked first), tasks and
// recipes; see jot.UserStore.
func (db *DB) DeleteUser(ctx context.Context, id string, now time.Time, audit ...*jot.Audit) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.tx(ctx, func(tx pgx.Tx) error {
		// Whether the user is an admin is known only under the lock, so the
		// admins are locked first, always: deleting is rare.
		admins, err := lockActiveAdmins(ctx, tx)
		if err != nil {
			return err
		}
		// FOR UPDATE, unlike NO KEY UPDATE, waits for a login inserting a
		// session of this user, and makes a later one fail its foreign key
		// check: every session the user has is seen, and revoked, below.
		u, err := userBy(ctx, tx, "user by id", `SELECT `+userColumns+` FROM users WHERE id = $1 FOR UPDATE`, id)
		if err != nil {
			return err
		}
		if u.ActiveAdmin() {
			if err := checkOtherAdmin(admins, id); err != nil {
				return err
			}
		}
		ended, err := db.endSessionIDs(ctx, tx, now, `user_id = $2`, id)
		if err != nil {
			return err
		}
		// Sessions, refresh tokens, tasks and recipes go by ON DELETE CASCADE.
		if _, err := tx.Exec(ctx, `DELETE FROM users WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
		return db.writes.StoreAudit(ctx, tx, audit, ended)
	})
}

// ListUsers lists users ordered by id; a Limit of 0 or less means all.
func (db *DB) ListUsers(ctx context.Context, p jot.Page) ([]*jot.User, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return queryAll(ctx, db.pool, "list users", sqlstore.ScanUser[times],
		`SELECT `+userColumns+` FROM users WHERE id > $1 ORDER BY id LIMIT $2`, p.After, limit(p))
}

// MaxBcryptCost returns the highest cost of a stored bcrypt hash, or 0 when
// none is stored: one lookup in the index users_bcrypt_cost, whose
// expression and condition the query repeats exactly.
func (db *DB) MaxBcryptCost(ctx context.Context) (int, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	var cost string
	err := db.pool.QueryRow(ctx, `SELECT substr(password_hash, 5, 2) FROM users
		WHERE substr(password_hash, 1, 2) = '$2'
		ORDER BY substr(password_hash, 5, 2) DESC LIMIT 1`).Scan(&cost)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("highest bcrypt cost: %w", err)
	}
	return sqlstore.BcryptCost(cost), nil
}
