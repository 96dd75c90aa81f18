package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/accounts"
	"github.com/jotauth/jot/cmd/jot/app"
	"github.com/jotauth/jot/internal/storage"
)

// cmdUsersResetLink prints a password-reset link for an operator without
// mail to pass on. It is an ordinary reset token: single use, it lives
// JOT_RESET_TTL, and it ends the user's older reset links.
func cmdUsersResetLink(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("jot users reset-link", flag.ContinueOnError)
	email := fs.String("email", "", "the user's email (required)")
	cfg, rest, err := loadConfig(fs, args)
	if err != nil {
		return err
	}
	if err := emailOnly(rest, *email); err != nil {
		return err
	}
	st, err := storage.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	link, err := accounts.ResetLink(ctx, st, app.MailOptionsOf(cfg), *email)
	if err != nil {
		if c := jot.ErrorCode(err); c == jot.ENOTFOUND || c == jot.ECONFLICT {
			return fmt.Errorf("%s", jot.ErrorMessage(err))
		}
		return err
	}
	fmt.Fprintln(stdout, link)
	return nil
}
