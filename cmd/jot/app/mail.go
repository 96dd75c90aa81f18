package app

import (
	"log/slog"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/accounts"
	"github.com/jotauth/jot/config"
	"github.com/jotauth/jot/mail"
)

// buildMailer makes the outbox worker the configuration asks for: SMTP
// when JOT_SMTP_URL is set, else the log (and toLog is true).
func buildMailer(cfg *config.Config, store jot.MailStore, log *slog.Logger) (w *mail.Worker, toLog bool, err error) {
	tmpl, err := mail.LoadTemplates(cfg.MailTemplates)
	if err != nil {
		return nil, false, &config.SettingError{Setting: "JOT_MAIL_TEMPLATES", Problem: err.Error()}
	}
	var sender mail.Sender
	from := cfg.MailFrom
	if cfg.SMTPURL != "" {
		if sender, err = mail.NewSMTP(cfg.SMTPURL); err != nil {
			return nil, false, &config.SettingError{Setting: "JOT_SMTP_URL", Problem: err.Error()}
		}
	} else {
		sender, toLog = &mail.LogSender{Log: log}, true
		if from == "" {
			from = "jot@localhost"
		}
	}
	return mail.NewWorker(mail.Worker{Store: store, Sender: sender, Templates: tmpl, From: from, Log: log}), toLog, nil
}

// PublicURL is where links in mails point: JOT_PUBLIC_URL, or http:// and
// the listen address.
func PublicURL(cfg *config.Config) string {
	if cfg.PublicURL != "" {
		return cfg.PublicURL
	}
	return "http://" + cfg.Addr
}

// mailOptions are the account service's mail settings.
func mailOptions(cfg *config.Config, w *mail.Worker) accounts.MailOptions {
	o := MailOptionsOf(cfg)
	if w != nil {
		o.Wake = w.Wake
	}
	return o
}

// MailOptionsOf returns the mail settings of the configuration as the
// account service takes them (the CLI's reset-link uses it too).
func MailOptionsOf(cfg *config.Config) accounts.MailOptions {
	return accounts.MailOptions{
		Verification: cfg.EmailVerification, PublicURL: PublicURL(cfg),
		ResetURL: cfg.ResetURL, VerifyURL: cfg.VerifyURL,
		ResetTTL: cfg.ResetTTL, VerifyTTL: cfg.VerifyTTL, RetryFor: cfg.MailRetryFor,
		AppName: cfg.Issuer,
	}
}
