// Package sqlstore holds what the SQL stores (sqlite, postgres) share and
// what does not depend on their driver: reading rows into jot types, the
// arguments of their inserts, the errors they return and the flows that
// are the same whatever the SQL. SQL text, which differs by dialect, stays
// in each store.
package sqlstore

import (
	"errors"
	"fmt"

	"github.com/jotauth/jot"
)

// Scanner is one row: a *sql.Row or *sql.Rows, a pgx.Row or pgx.Rows.
type Scanner interface {
	Scan(dest ...any) error
}

// Rows is a result of many rows, *sql.Rows or pgx.Rows; the caller
// closes it.
type Rows interface {
	Scanner
	Next() bool
	Err() error
}

// All returns every row of a query's result, rows or err, scanned with
// scan, into a list that is empty, not nil, when there are none; what
// names the list in errors. The caller closes rows.
func All[T any](what string, rows Rows, err error, scan func(Scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	list, err := Collect(rows, scan)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return list, nil
}

// Collect scans every row with scan into a list that is empty, not nil,
// when there are none.
func Collect[T any](rows Rows, scan func(Scanner) (T, error)) ([]T, error) {
	list := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return list, nil
}

// ScanString reads a row of one text column.
func ScanString(s Scanner) (string, error) {
	var v string
	err := s.Scan(&v)
	return v, err
}

// One returns the value scanned from a query for one row: the driver's
// noRows error is ENOTFOUND for what, any other error is wrapped with op.
func One[T any](v T, err, noRows error, what, op string) (T, error) {
	var zero T
	if errors.Is(err, noRows) {
		return zero, NotFound(what)
	} else if err != nil {
		return zero, fmt.Errorf("%s: %w", op, err)
	}
	return v, nil
}

// NotFound returns an ENOTFOUND error for a missing thing.
func NotFound(what string) error {
	return &jot.Error{Code: jot.ENOTFOUND, Message: what + " not found"}
}

// Missing is NotFound for a thing that a statement's foreign key found
// missing; err is the driver's error.
func Missing(what string, err error) error {
	return &jot.Error{Code: jot.ENOTFOUND, Message: what + " not found", Err: err}
}

// Exists returns the ECONFLICT error of an insert that broke a unique key.
func Exists(what string, err error) error {
	return &jot.Error{Code: jot.ECONFLICT, Message: what + " already exists", Err: err}
}

// EmailTaken returns the ECONFLICT error of a user whose email another
// user has registered.
func EmailTaken(email string, err error) error {
	return &jot.Error{Code: jot.ECONFLICT, Message: fmt.Sprintf("email %s is already registered", email), Err: err}
}

// LastAdmin returns the ECONFLICT error of a change that would leave no
// active admin.
func LastAdmin() error {
	return jot.Errorf(jot.ECONFLICT, "the last active admin cannot be disabled, demoted or deleted")
}

// KeyNotFound returns the ENOTFOUND error of an unknown signing key.
func KeyNotFound(kid string) error {
	return &jot.Error{Code: jot.ENOTFOUND, Message: fmt.Sprintf("signing key %s not found", kid)}
}

// KeyExists returns the ECONFLICT error of a signing key stored already.
func KeyExists(kid string, err error) error {
	return Exists("signing key "+kid, err)
}

// CreateError maps the error of an insert of an owned thing (a task, a
// recipe): a broken foreign key (fk) is the owner missing, a broken unique
// key (unique) the thing existing, any other error is wrapped.
func CreateError(err error, fk, unique bool, what string) error {
	switch {
	case err == nil:
		return nil
	case fk:
		return Missing("owner", err)
	case unique:
		return Exists(what, err)
	}
	return fmt.Errorf("create %s: %w", what, err)
}

// AffectedOne turns the outcome of an UPDATE or DELETE of one row by id,
// n rows affected, into ENOTFOUND when there was no such row.
func AffectedOne(n int64, err error, what string) error {
	if err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	if n == 0 {
		return NotFound(what)
	}
	return nil
}

// CheckUpdate rejects an update no store may apply: an unknown role.
func CheckUpdate(upd jot.UserUpdate) error {
	if upd.Role != nil && !upd.Role.Valid() {
		return jot.Errorf(jot.EINVALID, "unknown role %q", *upd.Role)
	}
	return nil
}

// BcryptCost reads the two digits of a bcrypt hash's cost; anything else
// (a malformed hash) is 0.
func BcryptCost(s string) int {
	if len(s) != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0
	}
	return int(s[0]-'0')*10 + int(s[1]-'0')
}

// NullString stores an absent (empty) value as NULL.
func NullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Op names a statement in its errors.
type Op string

// Err is the error of a statement whose result is of no use: nil, or err
// wrapped with the op's name. It takes the statement's two results, as in
// Op("mail sent").Err(tx.Exec(ctx, ...)).
func (o Op) Err(_ any, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", o, err)
	}
	return nil
}
