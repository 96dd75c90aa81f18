package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/accounts"
	"github.com/jotauth/jot/internal/storage"
	"github.com/jotauth/jot/password"
)

// usersUsage is the help of `jot users`.
const usersUsage = `Usage:
  jot users create --email E --password-stdin [--name N] [--role admin] [settings]
  jot users import [--skip-existing] FILE [settings]

Run "jot users COMMAND -h" for a command's flags.
`

func cmdUsers(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: jot users create|import|reset-link", errUsage)
	}
	switch args[0] {
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usersUsage)
		return nil
	case "create":
		return cmdUsersCreate(ctx, args[1:], stdin, stdout)
	case "import":
		return cmdUsersImport(ctx, args[1:], stdout)
	case "reset-link":
		return cmdUsersResetLink(ctx, args[1:], stdout)
	default:
		return fmt.Errorf("%w: unknown command \"users %s\"", errUsage, args[0])
	}
}

func cmdUsersCreate(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("jot users create", flag.ContinueOnError)
	email := fs.String("email", "", "the new user's email (required)")
	name := fs.String("name", "", "display name")
	role := fs.String("role", "user", "user or admin")
	fromStdin := fs.Bool("password-stdin", false, "read the password from standard input (required: never pass it as an argument)")
	cfg, rest, err := loadConfig(fs, args, "JOT_DATABASE_URL", "JOT_BCRYPT_COST")
	if err != nil {
		return err
	}
	if err := emailOnly(rest, *email); err != nil {
		return err
	}
	if !*fromStdin {
		return fmt.Errorf("%w: --password-stdin is required (the password is read from standard input)", errUsage)
	}
	pw, err := readPassword(stdin)
	if err != nil {
		return err
	}
	hasher, err := password.New(cfg.BcryptCost, 1)
	if err != nil {
		return err
	}
	u, err := accounts.NewUser(ctx, hasher, *email, pw, *name, jot.Role(*role), time.Now().UTC())
	if err != nil {
		return describe(err)
	}
	st, err := storage.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.CreateUser(ctx, u); err != nil {
		if jot.ErrorCode(err) == jot.ECONFLICT {
			return fmt.Errorf("email %s is already registered", u.Email)
		}
		return err
	}
	fmt.Fprintf(stdout, "created user %s (%s, %s)\n", u.ID, u.Email, u.Role)
	return nil
}

// readPassword reads the password from stdin: all of it but a final line
// break, which echo and printf add. A second line is refused rather than
// silently dropped or made part of the password.
func readPassword(stdin io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(stdin, 4096))
	if err != nil {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	switch {
	case pw == "":
		return "", fmt.Errorf("no password on standard input")
	case strings.ContainsAny(pw, "\r\n"):
		return "", fmt.Errorf("the password on standard input must be one line")
	}
	return pw, nil
}

// describe turns a validation error into one readable line.
func describe(err error) error {
	e, ok := err.(*jot.Error)
	if !ok || len(e.Fields) == 0 {
		return err
	}
	var parts []string
	for _, k := range []string{"email", "password", "name", "role"} {
		if v, ok := e.Fields[k]; ok {
			parts = append(parts, k+" "+v)
		}
	}
	return fmt.Errorf("invalid user: %s", strings.Join(parts, "; "))
}

// emailOnly checks the arguments of a command about one user: no
// positional arguments, and --email given.
func emailOnly(rest []string, email string) error {
	if len(rest) > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
	}
	if email == "" {
		return fmt.Errorf("%w: --email is required", errUsage)
	}
	return nil
}
