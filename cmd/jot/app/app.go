// Package app wires the jot program together: from a validated
// configuration and an open store it builds the keys, the password hasher,
// the account service, the mail outbox and the HTTP server of package api,
// and runs the background work that keeps them in step with the store.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/accounts"
	"github.com/jotauth/jot/api"
	"github.com/jotauth/jot/config"
	"github.com/jotauth/jot/guard"
	"github.com/jotauth/jot/mail"
	"github.com/jotauth/jot/password"
	"github.com/jotauth/jot/token"
)

// App is a configured server with the background work that keeps it in
// step with the store (key rotation, sessions ended elsewhere).
type App struct {
	*api.Server
	Keyring  *token.Keyring
	Accounts *accounts.Service

	// Mailer sends the outbox; MailToLog says that it writes mails to the
	// log because no SMTP server is configured.
	Mailer    *mail.Worker
	MailToLog bool

	store jot.Store
	log   *slog.Logger
	// now is the clock of the prunes.
	now func() time.Time
}

// Build assembles the server from a validated configuration and an open,
// migrated store: keys (generated on first start), hasher, issuer,
// verifier, the revocation set and the account service.
func Build(ctx context.Context, cfg *config.Config, store jot.Store, log *slog.Logger) (*App, error) {
	return BuildWithClock(ctx, cfg, store, log, nil)
}

// BuildWithClock is Build with now as the clock of token checks, sessions,
// rate limits and key reloads (time.Now when nil), for tests that move
// time on rather than sleep.
func BuildWithClock(ctx context.Context, cfg *config.Config, store jot.Store, log *slog.Logger, now func() time.Time) (*App, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Lines logged deep in a service carry the id of their request.
	log = slog.New(api.RequestIDHandler(log.Handler()))
	ring, err := loadKeys(ctx, cfg, store, log, now)
	if err != nil {
		return nil, err
	}
	// Recorded before the first token is signed, so that a rotation made
	// anywhere from now on waits for this server's JWKS max age, and no
	// instance drops a key this one's tokens still need.
	if err := ring.Announce(ctx); err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	hasher, err := password.New(cfg.BcryptCost, HashWorkers())
	if err != nil {
		return nil, fmt.Errorf("JOT_BCRYPT_COST: %w", err)
	}
	// While other requests are in flight, hashing takes half of its share
	// of the cores: a flood of logins leaves token checks most of the CPU.
	hasher.Pool().SetRest(1)
	// And the hashes run at a lower priority, so that a request arriving
	// while every worker hashes gets a core at once (see SpareProcs).
	hasher.Pool().SetThreadPriority(hashNice)
	hasher.Pool().OnActive(spare.hashing)
	issuer := &token.Issuer{Keys: ring, Issuer: cfg.Issuer, Audience: cfg.Audience, TTL: cfg.AccessTTL, Now: now}
	verifier := &token.Verifier{Keys: ring, Issuer: cfg.Issuer, Audience: cfg.Audience, Leeway: leeway, Now: now}
	revoked := guard.NewRevocationSet()
	metrics := api.NewMetrics(nil)
	metrics.WatchDB(store)
	mailer, toLog, err := buildMailer(cfg, store, log)
	if err != nil {
		return nil, err
	}
	svc, err := accounts.New(ctx, store, hasher, issuer, revoked, accounts.Options{
		AccessTTL: cfg.AccessTTL, RefreshTTL: cfg.RefreshTTL, RefreshGrace: cfg.RefreshGrace,
		Leeway: leeway, Logger: log, Events: metrics.Event,
		MaxSessions: cfg.MaxSessions, SessionMaxAge: cfg.SessionMaxAge,
		Mail: mailOptions(cfg, mailer), Now: utc(now),
	})
	if err != nil {
		return nil, err
	}
	srv := api.New(api.Options{
		Store: store, Accounts: svc, Keys: ring, Verifier: verifier, Revoked: revoked, Metrics: metrics,
		TokenSchemes: cfg.TokenSchemes, TokenQuery: cfg.TokenQuery, TokenCookie: cfg.TokenCookie,
		CORSOrigins: cfg.CORSOrigins, LoginRateN: cfg.LoginRate.N, LoginRatePer: cfg.LoginRate.Per,
		TrustedProxies: cfg.TrustedProxies, JWKSMaxAge: cfg.JWKSMaxAge, Leeway: leeway, Logger: log,
		MaxResources: cfg.MaxResources, WriteRateN: cfg.WriteRate.N, WriteRatePer: cfg.WriteRate.Per,
		SignupRateN: cfg.SignupRate.N, SignupRatePer: cfg.SignupRate.Per,
		MetricsElsewhere:  cfg.MetricsAddr != "",
		RevocationsSecret: cfg.RevocationsSecret,
		Hashing:           hasher.Pool(),
		AuditRetention:    cfg.AuditRetention,
		Now:               now,
	})
	if now == nil {
		now = time.Now
	}
	return &App{
		Server: srv, Keyring: ring, Accounts: svc, Mailer: mailer, MailToLog: toLog,
		store: store, log: log, now: now,
	}, nil
}

// utc is now in UTC, as the account service keeps its times; nil stays nil
// (the service's default).
func utc(now func() time.Time) func() time.Time {
	if now == nil {
		return nil
	}
	return func() time.Time { return now().UTC() }
}

// hashNice is the nice value of the threads that hash passwords.
const hashNice = 10

// HashWorkers is how many passwords the server hashes at once: one per
// CPU the process may use, as Go counts them at start (GOMAXPROCS, which
// follows a container's CPU limit).
func HashWorkers() int { return startProcs() }

var startProcs = sync.OnceValue(func() int { return runtime.GOMAXPROCS(0) })

// leeway is the clock leeway of every time check on tokens.
const leeway = 30 * time.Second

// revocationListener is a store that announces ended sessions (PostgreSQL
// with LISTEN/NOTIFY).
type revocationListener interface {
	ListenRevocations(ctx context.Context, fn func())
}

// keyListener is a store that announces new signing keys (PostgreSQL
// with LISTEN/NOTIFY).
type keyListener interface {
	ListenKeys(ctx context.Context, fn func())
}

// Run does the background work until ctx ends: it picks up key rotations
// and sessions ended by other instances or the CLI within a second or two.
func (a *App) Run(ctx context.Context) {
	go a.Keyring.Run(ctx, 2*time.Second)
	if l, ok := a.store.(revocationListener); ok {
		// Other instances' logouts arrive at once, not at the next poll.
		go l.ListenRevocations(ctx, func() {
			// A failure is logged by SyncRevocations, once per outage.
			_ = a.Accounts.SyncRevocations(ctx)
		})
	}
	if l, ok := a.store.(keyListener); ok {
		// A rotation anywhere reaches this server at once, not at its
		// next reload.
		go l.ListenKeys(ctx, func() {
			if err := a.Keyring.Reload(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("signing key reload failed", "err", err)
			}
		})
	}
	go a.prune(ctx, 10*time.Minute)
	if a.Mailer != nil {
		go a.Mailer.Run(ctx)
	}
	a.Accounts.RunSync(ctx, time.Second)
}

// prune deletes, now and then every `every`, the revocations and sessions
// that nothing can need any more, so the tables and the unauthenticated
// revocation feed stay the size of what is live. An entry is kept for a
// minute past the longest anyone reads it (exp + the 30 s leeway, or the
// feed's 30 s), so instances with clocks a little apart agree.
func (a *App) prune(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := a.store.Prune(ctx, a.now().Add(-leeway-time.Minute)); err != nil && ctx.Err() == nil {
			a.log.Warn("prune failed", "err", err)
		}
		a.PruneAudit(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// PruneAudit deletes the audit events older than JOT_AUDIT_RETENTION. The
// periodic prune of Run calls it; it is exported for tests and tools.
func (a *App) PruneAudit(ctx context.Context) {
	n, err := a.store.PruneAudit(ctx, a.now().Add(-a.AuditRetention()))
	if err != nil {
		if ctx.Err() == nil {
			a.log.Warn("audit prune failed", "err", err)
		}
		return
	}
	if n > 0 {
		a.log.Info("audit events past their retention deleted", "deleted", n)
	}
}
