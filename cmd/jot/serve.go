package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/jotauth/jot/api"
	"github.com/jotauth/jot/cmd/jot/app"
	"github.com/jotauth/jot/internal/storage"
)

// shutdownTimeout bounds how long in-flight requests may take to finish
// once a stop is asked for, below the usual 30 s an orchestrator waits
// before it kills the process.
const shutdownTimeout = 20 * time.Second

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("jot serve", flag.ContinueOnError)
	cfg, rest, err := loadConfig(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: jot serve takes no arguments", errUsage)
	}
	logOut := newBatchWriter(stderr)
	defer logOut.Close()
	log := slog.New(api.RequestIDHandler(newLogger(cfg.LogFormat, logOut).Handler()))
	st, err := storage.OpenWith(ctx, cfg.DatabaseURL, storage.Options{Timeout: cfg.DBTimeout, Logger: log})
	if err != nil {
		return err
	}
	defer st.Close()
	app.SpareProcs()
	a, err := app.Build(ctx, cfg, st, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("JOT_ADDR: %w", err)
	}
	side, err := sideServers(cfg, a.Server, log)
	if err != nil {
		ln.Close()
		return err
	}
	srv := api.NewHTTPServer(a)
	// net/http's own complaints (a superfluous WriteHeader, an accept
	// error it retries) go to the same log, in its format.
	srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	bg, cancelBG := context.WithCancel(context.Background())
	bgDone := make(chan struct{})
	defer func() {
		// The store closes (deferred above) only after the background
		// work has stopped using it.
		cancelBG()
		<-bgDone
	}()
	go func() {
		defer close(bgDone)
		a.Run(bg)
	}()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("jot listening", "addr", "http://"+ln.Addr().String(), "database", redactURL(cfg.DatabaseURL), "alg", cfg.JWTAlg, "version", version())
	fmt.Fprintf(stdout, "jot listening on http://%s\n", ln.Addr())
	if a.MailToLog {
		// Development without a mail server: the mails, links included,
		// are the log lines.
		log.Warn("JOT_SMTP_URL is not set: mails are not sent but written to this log, links included")
		fmt.Fprintln(stdout, "mail: JOT_SMTP_URL is not set, so mails (with their links) are written to the log instead of sent")
	}
	serveSide(side, log, stdout)

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	} else if err != nil {
		log.Warn("shutdown timed out; closing remaining connections")
		srv.Close()
	}
	shutdownSide(sctx, side)
	cancelBG()
	<-bgDone
	log.Info("stopped")
	return nil
}

// redactURL hides a database password in logs.
func redactURL(u string) string {
	i, j := strings.Index(u, "://"), strings.LastIndexByte(u, '@')
	if i >= 0 && j > i+3 {
		return u[:i+3] + "***" + u[j:]
	}
	return u
}
