package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/jotauth/jot/api"
	"github.com/jotauth/jot/internal/storage"
	"github.com/jotauth/jot/token"
)

func cmdKeys(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: jot keys list|rotate", errUsage)
	}
	switch args[0] {
	case "list":
		return cmdKeysList(ctx, args[1:], stdout)
	case "rotate":
		return cmdKeysRotate(ctx, args[1:], stdout)
	default:
		return fmt.Errorf("%w: unknown command \"keys %s\"", errUsage, args[0])
	}
}

type keyJSON struct {
	KID         string    `json:"kid"`
	Alg         string    `json:"alg"`
	State       string    `json:"state"`
	CreatedAt   time.Time `json:"created_at"`
	ActivatesAt time.Time `json:"activates_at"`
}

func cmdKeysList(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("jot keys list", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print a JSON array")
	cfg, rest, err := loadConfig(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
	}
	st, err := storage.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	ring, err := api.LoadKeys(ctx, cfg, st, newLogger(cfg.LogFormat, os.Stderr))
	if err != nil {
		return err
	}
	infos := ring.KeySet().Keys()
	if *asJSON {
		out := make([]keyJSON, 0, len(infos))
		for _, k := range infos {
			out = append(out, keyJSON{KID: k.KID, Alg: k.Alg, State: k.State, CreatedAt: k.CreatedAt.UTC(), ActivatesAt: k.ActivatesAt.UTC()})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tALG\tSTATE\tCREATED")
	for _, k := range infos {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.KID, k.Alg, k.State, k.CreatedAt.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

func cmdKeysRotate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("jot keys rotate", flag.ContinueOnError)
	now := fs.Bool("now", false, "sign with the new key at once (a leaked key), without waiting for caches")
	cfg, rest, err := loadConfig(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
	}
	if cfg.JWTAlg == token.AlgHS256 {
		return fmt.Errorf("JOT_JWT_ALG: HS256 keys are the shared secret JOT_JWT_SECRET; change that secret to rotate")
	}
	if cfg.JWTKeyFile != "" {
		return fmt.Errorf("JOT_JWT_KEY_FILE: the signing key comes from a file; replace the file to rotate")
	}
	st, err := storage.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	delay := cfg.JWKSMaxAge
	if *now {
		delay = 0
	}
	k, err := token.Rotate(ctx, st, cfg.JWTAlg, delay, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "new key %s (%s): published now, signs from %s\n", k.KID, k.Alg, k.ActivatesAt.UTC().Format(time.RFC3339))
	return nil
}
