package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jotauth/jot"
)

// Writes are a store's writes inside one of its transactions, of type Tx;
// its methods are the flows made of them that every store runs alike.
type Writes[Tx any] struct {
	User func(ctx context.Context, tx Tx, u *jot.User) error
	// Token inserts t; its error is TokenError.
	Token  func(ctx context.Context, tx Tx, t *jot.MailToken) error
	Mail   func(ctx context.Context, tx Tx, m *jot.Mail) error
	Events func(ctx context.Context, tx Tx, events []*jot.AuditEvent) error
	Rotate func(ctx context.Context, tx Tx, req jot.RotateRequest) (*jot.RotateResult, error)
	// EndSessions ends the live sessions of a user but except (may be
	// empty), recording their revocations, and returns their ids.
	EndSessions func(ctx context.Context, tx Tx, now time.Time, userID, except string) ([]string, error)
	// EndResets deletes a user's password reset tokens.
	EndResets func(ctx context.Context, tx Tx, userID string) error
	// SessionUser reads the user of a new session, pinned or bounded to
	// maxLive live sessions (when > 0), with the locks the store takes for
	// that; nil, when the store need not read it.
	SessionUser func(ctx context.Context, tx Tx, userID string, pinned bool, maxLive int) (*jot.User, error)
	// Session inserts a new session's row and Refresh its first refresh
	// token's; both return the driver's error, which Violated reads.
	Session func(ctx context.Context, tx Tx, s *jot.Session) error
	Refresh func(ctx context.Context, tx Tx, s *jot.Session, hash []byte) error
	// EndLeastUsed ends the least recently used live sessions of s's user,
	// s aside, past keep live ones (s counted), recording their
	// revocations, and returns their ids.
	EndLeastUsed func(ctx context.Context, tx Tx, s *jot.Session, keep int) ([]string, error)
	// Violated reads a driver's error: whether it broke a foreign key or a
	// unique key.
	Violated func(err error) (fk, unique bool)
}

// SessionCreated inserts s with its first refresh token's hash, only
// while the user matches pin (when set), ends the user's least recently
// used other sessions past maxLive live ones (none when maxLive <= 0) and
// stores audit; it returns the ids of the sessions it ended.
func (w Writes[Tx]) SessionCreated(ctx context.Context, tx Tx, s *jot.Session, refreshHash []byte, pin *jot.UserPin, maxLive int, audit []*jot.Audit) ([]string, error) {
	u, err := w.SessionUser(ctx, tx, s.UserID, pin != nil, maxLive)
	if err != nil {
		return nil, err
	}
	if pin != nil {
		if err := pin.Check(u); err != nil {
			return nil, err
		}
	}
	err = w.Session(ctx, tx, s)
	if fk, unique := w.Violated(err); fk {
		return nil, Missing("user", err)
	} else if unique {
		return nil, Exists("session", err)
	} else if err != nil {
		return nil, fmt.Errorf("insert session: %w", err)
	}
	err = w.Refresh(ctx, tx, s, refreshHash)
	if _, unique := w.Violated(err); unique {
		return nil, Exists("refresh token", err)
	} else if err != nil {
		return nil, fmt.Errorf("insert refresh token: %w", err)
	}
	var ended []string
	if maxLive > 0 {
		if ended, err = w.EndLeastUsed(ctx, tx, s, maxLive); err != nil {
			return nil, err
		}
	}
	return ended, w.StoreAudit(ctx, tx, audit, ended)
}

// StoreAudit adds audits' per-session events for the sessions ended and
// stores all of them.
func (w Writes[Tx]) StoreAudit(ctx context.Context, tx Tx, audits []*jot.Audit, ended []string) error {
	jot.AddEnded(audits, ended)
	return w.Events(ctx, tx, jot.AuditRows(audits))
}

// ApplyUpdate applies upd to u and returns u as it was before. When that
// takes away an active admin, otherAdmin must confirm that another is left.
func ApplyUpdate(u *jot.User, upd jot.UserUpdate, otherAdmin func() error) (jot.User, error) {
	before := *u
	wasAdmin := u.ActiveAdmin()
	if err := upd.Apply(u); err != nil {
		return before, err
	}
	if wasAdmin && !u.ActiveAdmin() {
		if err := otherAdmin(); err != nil {
			return before, err
		}
	}
	return before, nil
}

// UserUpdated ends what an update of a user (before, now u) ends: the
// sessions upd asks to end and, when it calls for it, the reset tokens;
// and it stores audit.
func (w Writes[Tx]) UserUpdated(ctx context.Context, tx Tx, before, u *jot.User, upd jot.UserUpdate, now time.Time, audit []*jot.Audit) error {
	var ended []string
	if upd.EndSessions {
		var err error
		if ended, err = w.EndSessions(ctx, tx, now, u.ID, upd.EndSessionsExcept); err != nil {
			return err
		}
	}
	if err := w.StoreAudit(ctx, tx, audit, ended); err != nil {
		return err
	}
	if upd.EndsResetTokens(before, u) {
		return w.EndResets(ctx, tx, u.ID)
	}
	return nil
}

// UserSessionsEnded ends the live sessions of a user but except and
// stores audit.
func (w Writes[Tx]) UserSessionsEnded(ctx context.Context, tx Tx, now time.Time, userID, except string, audit []*jot.Audit) error {
	ended, err := w.EndSessions(ctx, tx, now, userID, except)
	if err != nil {
		return err
	}
	return w.StoreAudit(ctx, tx, audit, ended)
}

// Users inserts users in order; the first error stops it.
func (w Writes[Tx]) Users(ctx context.Context, tx Tx, users []*jot.User) error {
	for _, u := range users {
		if err := w.User(ctx, tx, u); err != nil {
			return err
		}
	}
	return nil
}

// UserWithMail inserts u, then t and m when not nil, then the audits.
func (w Writes[Tx]) UserWithMail(ctx context.Context, tx Tx, u *jot.User, t *jot.MailToken, m *jot.Mail, audit []*jot.Audit) error {
	if err := w.User(ctx, tx, u); err != nil {
		return err
	}
	if t != nil {
		if err := w.token(ctx, tx, t); err != nil {
			return err
		}
	}
	if m != nil {
		if err := w.Mail(ctx, tx, m); err != nil {
			return err
		}
	}
	return w.StoreAudit(ctx, tx, audit, nil)
}

// TokenWithMails inserts t, then mails, then audit (none when nil).
func (w Writes[Tx]) TokenWithMails(ctx context.Context, tx Tx, t *jot.MailToken, audit *jot.Audit, mails []*jot.Mail) error {
	if err := w.token(ctx, tx, t); err != nil {
		return err
	}
	if err := w.Mails(ctx, tx, mails); err != nil {
		return err
	}
	return w.StoreAudit(ctx, tx, []*jot.Audit{audit}, nil)
}

// Mails queues mails in order; the first error stops it.
func (w Writes[Tx]) Mails(ctx context.Context, tx Tx, mails []*jot.Mail) error {
	for _, m := range mails {
		if err := w.Mail(ctx, tx, m); err != nil {
			return err
		}
	}
	return nil
}

// RotateAudited rotates a refresh token and stores the audit event that
// the outcome calls for.
func (w Writes[Tx]) RotateAudited(ctx context.Context, tx Tx, req jot.RotateRequest) (*jot.RotateResult, error) {
	res, err := w.Rotate(ctx, tx, req)
	if err != nil {
		return nil, err
	}
	if e := req.AuditFor(res); e != nil {
		if err := w.Events(ctx, tx, []*jot.AuditEvent{e}); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// Secret is a store's Secret: read returns the stored value or ENOTFOUND;
// when there is none, gen's bytes go to store, which keeps the first value
// stored (of racing callers) and returns it.
func Secret(name string, read func() ([]byte, error), gen func() ([]byte, error), store func(b []byte) ([]byte, error)) ([]byte, error) {
	v, err := read()
	if err == nil || jot.ErrorCode(err) != jot.ENOTFOUND {
		return v, err
	}
	b, err := gen()
	if err != nil {
		return nil, fmt.Errorf("generate secret %s: %w", name, err)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("generate secret %s: no bytes", name)
	}
	return store(b)
}

// RewriteKeys calls fn with every key and update with each private key fn
// changes; it returns how many it changed.
func RewriteKeys(keys []*jot.SigningKey, fn func(k *jot.SigningKey) ([]byte, bool, error), update func(kid string, private []byte) error) (int, error) {
	n := 0
	for _, k := range keys {
		private, changed, err := fn(k)
		if err != nil {
			return 0, err
		}
		if !changed {
			continue
		}
		if err := update(k.KID, private); err != nil {
			return 0, fmt.Errorf("rewrite signing key: %w", err)
		}
		n++
	}
	return n, nil
}

// InTx runs fn in a transaction that run (a store's) begins, and returns
// fn's value once the transaction has committed.
func InTx[Tx, T any](ctx context.Context, run func(ctx context.Context, fn func(tx Tx) error) error, fn func(tx Tx) (T, error)) (T, error) {
	var out T
	err := run(ctx, func(tx Tx) (err error) {
		out, err = fn(tx)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// Revoked is the outcome of a signing key's revocation: when it took
// effect and whether it had already.
type Revoked struct {
	At      time.Time
	Already bool
}

// RevokeKey revokes the key kid at at: prev reads its revocation time (nil
// when none; noRows, the driver's error, when there is no such key); set
// stores at, returning it as stored, and whatever goes with it.
func RevokeKey(kid string, noRows error, prev func() (*time.Time, error), set func() (time.Time, error)) (Revoked, error) {
	p, err := prev()
	if errors.Is(err, noRows) {
		return Revoked{}, KeyNotFound(kid)
	} else if err != nil {
		return Revoked{}, fmt.Errorf("revoke signing key: %w", err)
	}
	if p != nil {
		return Revoked{At: *p, Already: true}, nil
	}
	at, err := set()
	return Revoked{At: at}, err
}

// token inserts t; a reset token ends the user's others first, so only the
// newest works (their mails go with them, ON DELETE CASCADE).
func (w Writes[Tx]) token(ctx context.Context, tx Tx, t *jot.MailToken) error {
	if t.Purpose == jot.PurposeReset {
		if err := w.EndResets(ctx, tx, t.UserID); err != nil {
			return err
		}
	}
	return w.Token(ctx, tx, t)
}

// TokenError maps the error of a mail token's insert: a broken foreign
// key (fk) is the user missing.
func TokenError(err error, fk bool) error {
	if fk {
		return NotFound("user")
	}
	return Op("insert mail token").Err(nil, err)
}
