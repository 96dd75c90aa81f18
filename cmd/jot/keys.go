package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/cmd/jot/app"
	"github.com/jotauth/jot/config"
	"github.com/jotauth/jot/internal/storage"
	"github.com/jotauth/jot/token"
)

// keysUsage is the help of `jot keys`.
const keysUsage = `Usage:
  jot keys list [--json] [settings]
  jot keys rotate [--now] [settings]
  jot keys revoke KID [settings]

Run "jot keys COMMAND -h" for a command's flags.
`

func cmdKeys(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: jot keys list|rotate|revoke", errUsage)
	}
	switch args[0] {
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, keysUsage)
		return nil
	case "list":
		return cmdKeysList(ctx, args[1:], stdout)
	case "rotate":
		return cmdKeysRotate(ctx, args[1:], stdout)
	case "revoke":
		return cmdKeysRevoke(ctx, args[1:], stdout)
	default:
		return fmt.Errorf("%w: unknown command \"keys %s\"", errUsage, args[0])
	}
}

// keyJSON is one key of `jot keys list --json`, named as docs/api.md lists the
// columns: kid, algorithm, state, created.
type keyJSON struct {
	KID       string     `json:"kid"`
	Algorithm string     `json:"algorithm"`
	State     string     `json:"state"`
	Created   *time.Time `json:"created"`
	Activates *time.Time `json:"activates,omitempty"`
	Revoked   *time.Time `json:"revoked,omitempty"`
}

// stamp returns t in UTC, or nil for a key without a stored time (the
// HS256 key is the configured secret, made by nobody at any time).
func stamp(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC().Truncate(time.Second)
	return &t
}

func cmdKeysList(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("jot keys list", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print a JSON array")
	cfg, rest, err := loadConfig(fs, args, "JOT_DATABASE_URL", "JOT_JWT_ALG", "JOT_JWT_SECRET", "JOT_JWT_KEY_FILE", "JOT_LOG_FORMAT", "JOT_KEY_ENCRYPTION_KEY")
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
	}
	st, ring, err := openKeys(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	infos := ring.KeySet().Keys()
	if *asJSON {
		out := make([]keyJSON, 0, len(infos))
		for _, k := range infos {
			out = append(out, keyJSON{KID: k.KID, Algorithm: k.Alg, State: k.State, Created: stamp(k.CreatedAt), Activates: stamp(k.ActivatesAt), Revoked: stamp(k.RevokedAt)})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	// One key a line, no header, so scripts can read it with a plain loop;
	// a revoked key adds a fifth field, when it was revoked.
	for _, k := range infos {
		created := "-"
		if t := stamp(k.CreatedAt); t != nil {
			created = t.Format(time.RFC3339)
		}
		if t := stamp(k.RevokedAt); t != nil {
			fmt.Fprintf(stdout, "%s %s %s %s %s\n", k.KID, k.Alg, k.State, created, t.Format(time.RFC3339))
			continue
		}
		fmt.Fprintf(stdout, "%s %s %s %s\n", k.KID, k.Alg, k.State, created)
	}
	return nil
}

func cmdKeysRotate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("jot keys rotate", flag.ContinueOnError)
	now := fs.Bool("now", false, "sign with the new key at once (a leaked key), without waiting for caches; otherwise it signs once the longest JOT_JWKS_MAX_AGE of the running servers has passed")
	cfg, rest, err := loadConfig(fs, args, "JOT_DATABASE_URL", "JOT_JWT_ALG", "JOT_JWT_KEY_FILE", "JOT_LOG_FORMAT", "JOT_KEY_ENCRYPTION_KEY")
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
	}
	if err := storedKeysOnly(cfg, "rotate"); err != nil {
		return err
	}
	st, err := storage.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	// Sealed with JOT_KEY_ENCRYPTION_KEY like the servers' own keys; a
	// missing or wrong key stops here, before anything is written.
	keys, err := app.OpenKeyStore(ctx, cfg, st, newLogger(cfg.LogFormat, os.Stderr))
	if err != nil {
		return err
	}
	// The delay is the servers' (their longest JOT_JWKS_MAX_AGE, recorded
	// in the database as they run), not this command's own setting, which
	// nothing makes equal to theirs. With no server running, this
	// command's setting is all there is.
	var delay time.Duration
	if !*now {
		if delay, err = token.RotationDelay(ctx, st, time.Now(), cfg.JWKSMaxAge); err != nil {
			return err
		}
	}
	at := time.Now()
	k, err := token.GenerateKey(cfg.JWTAlg, at, at.Add(delay))
	if err != nil {
		return err
	}
	// The rotation and its key_rotated event commit together. The actor
	// is the command line, marked jot.AuditActorCLI: whoever runs it has
	// the database itself, not an account.
	e := cliAudit(jot.AuditKeyRotated, at, map[string]any{"kid": k.KID, "alg": k.Alg, "now": *now, "activates_at": jot.FormatTime(k.ActivatesAt)})
	if err := st.CreateSigningKeyAudited(ctx, keys.Seal(k), &jot.Audit{Events: []*jot.AuditEvent{e}}); err != nil {
		return fmt.Errorf("store new signing key: %w", err)
	}
	logAudit(cfg, e)
	fmt.Fprintf(stdout, "new key %s (%s): published now, signs from %s\n", k.KID, k.Alg, k.ActivatesAt.UTC().Format(time.RFC3339))
	return nil
}

func cmdKeysRevoke(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("jot keys revoke", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: jot keys revoke KID [settings]\n\n"+
			"Revoke a leaked signing key: it is unpublished from the JWKS at once and every\n"+
			"token it signed is refused by every running server within 5 s. The current key\n"+
			"cannot be revoked: rotate it away first with \"jot keys rotate --now\".\n\n")
		fs.PrintDefaults()
	}
	cfg, rest, err := loadConfig(fs, kidArgs(args), "JOT_DATABASE_URL", "JOT_JWT_ALG", "JOT_JWT_SECRET", "JOT_JWT_KEY_FILE", "JOT_LOG_FORMAT", "JOT_KEY_ENCRYPTION_KEY")
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("%w: jot keys revoke KID", errUsage)
	}
	kid := rest[0]
	if err := storedKeysOnly(cfg, "revoke it"); err != nil {
		return err
	}
	st, ring, err := openKeys(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	// The revocation and its key_revoked event commit together (nothing
	// is stored for a key revoked already); the actor is the command
	// line, as for a rotation.
	e := cliAudit(jot.AuditKeyRevoked, time.Now(), map[string]any{"kid": kid})
	at, already, err := ring.Revoke(ctx, kid, &jot.Audit{Events: []*jot.AuditEvent{e}})
	switch {
	case errors.Is(err, token.ErrRevokeCurrent):
		return fmt.Errorf("key %s is the current signing key: rotate it away first with \"jot keys rotate --now\", then revoke it", kid)
	case jot.ErrorCode(err) == jot.ENOTFOUND:
		return fmt.Errorf("unknown signing key %q (see \"jot keys list\")", kid)
	case err != nil:
		return err
	}
	when := at.UTC().Truncate(time.Second).Format(time.RFC3339)
	if already {
		fmt.Fprintf(stdout, "key %s was already revoked at %s\n", kid, when)
		return nil
	}
	logAudit(cfg, e)
	fmt.Fprintf(stdout, "revoked key %s at %s: unpublished now, its tokens refused by every running server within 5 s\n", kid, when)
	return nil
}

// openKeys opens the database and loads its signing keys as a server
// does; the caller closes the store.
func openKeys(ctx context.Context, cfg *config.Config) (jot.Store, *token.Keyring, error) {
	st, err := storage.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, err
	}
	ring, err := app.LoadKeys(ctx, cfg, st, newLogger(cfg.LogFormat, os.Stderr))
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, ring, nil
}

// cliAudit returns an audit event whose actor is the command line, marked
// jot.AuditActorCLI: whoever runs it has the database itself, not an
// account.
func cliAudit(event string, at time.Time, detail map[string]any) *jot.AuditEvent {
	e := jot.NewAuditEvent(event, at)
	e.ActorID = jot.AuditActorCLI
	e.Detail = detail
	return e
}

// logAudit logs e as the servers log the audit events they store.
func logAudit(cfg *config.Config, e *jot.AuditEvent) {
	newLogger(cfg.LogFormat, os.Stderr).Info("audit", "event", e.Event, "audit_id", e.ID, "actor_id", e.ActorID, "detail", e.Detail)
}

// storedKeysOnly refuses a command that manages stored signing keys where
// the key is not a stored one: an HS256 secret or a PEM file. what is what
// the operator would do ("rotate").
func storedKeysOnly(cfg *config.Config, what string) error {
	if cfg.JWTAlg == token.AlgHS256 {
		return fmt.Errorf("JOT_JWT_ALG: HS256 keys are the shared secret JOT_JWT_SECRET; change that secret to %s", what)
	}
	if cfg.JWTKeyFile != "" {
		return fmt.Errorf("JOT_JWT_KEY_FILE: the signing key comes from a file; replace the file to %s", what)
	}
	return nil
}

// kidArgs puts a KID that starts with "-" behind "--", so the flag parser
// takes it for the argument it is: a kid is a JWK thumbprint, 43
// characters of base64url, and one in 64 starts with a dash. No flag
// looks like that (flags are words, and a flag's value comes with "=" or
// as the next argument).
func kidArgs(args []string) []string {
	out := make([]string, 0, len(args)+1)
	var kids []string
	for i, a := range args {
		if a == "--" {
			kids = append(kids, args[i+1:]...)
			break
		}
		if len(a) == 43 && a[0] == '-' && strings.Trim(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == "" {
			kids = append(kids, a)
			continue
		}
		out = append(out, a)
	}
	if len(kids) == 0 {
		return out
	}
	return append(append(out, "--"), kids...)
}
