// Command jot is the jot auth server and its administration tool.
//
//	jot serve                 run the server
//	jot migrate               apply schema migrations and exit
//	jot users create ...      create a user
//	jot users import FILE     import users with existing bcrypt hashes
//	jot users reset-link ...  print a password-reset link
//	jot keys list | rotate | revoke   manage signing keys
//	jot version               print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// errUsage marks a usage error: the message is printed with the usage.
var errUsage = errors.New("usage")

const usage = `jot: JWT authentication and authorization for Go APIs

Usage:
  jot serve [settings]
  jot migrate [settings]
  jot users create --email E --password-stdin [--name N] [--role admin] [settings]
  jot users import [--skip-existing] FILE [settings]
  jot users reset-link --email E [settings]
  jot keys list [--json] [settings]
  jot keys rotate [--now] [settings]
  jot keys revoke KID [settings]
  jot version

Settings are flags, JOT_* environment variables or lines of ./.env
(flags win over the environment, which wins over .env). Run
"jot serve -h" to list them.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(ctx, args[1:], stdout, stderr)
	case "migrate":
		err = cmdMigrate(ctx, args[1:], stdout)
	case "users":
		err = cmdUsers(ctx, args[1:], stdin, stdout)
	case "keys":
		err = cmdKeys(ctx, args[1:], stdout)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "jot", version())
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "jot: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "jot: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "jot: %v\n", err)
		return 1
	}
}
