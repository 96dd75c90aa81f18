package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/config"
	"github.com/jotauth/jot/token"
)

// LoadKeys returns the signing keys the configuration names, generating
// and storing a key on first start.
func LoadKeys(ctx context.Context, cfg *config.Config, store jot.KeyStore, log *slog.Logger) (*token.Keyring, error) {
	return loadKeys(ctx, cfg, store, log, nil)
}

// loadKeys is LoadKeys with now as the keyring's clock.
func loadKeys(ctx context.Context, cfg *config.Config, store jot.KeyStore, log *slog.Logger, now func() time.Time) (*token.Keyring, error) {
	var pemKey *token.Key
	if cfg.JWTKeyFile != "" {
		b, err := os.ReadFile(cfg.JWTKeyFile)
		if err != nil {
			return nil, fmt.Errorf("JOT_JWT_KEY_FILE: %w", err)
		}
		if pemKey, err = token.ParsePEMKey(cfg.JWTAlg, b); err != nil {
			return nil, fmt.Errorf("JOT_JWT_KEY_FILE: %w", err)
		}
	}
	if cfg.JWTAlg != token.AlgHS256 && pemKey == nil {
		// Keys come from the store: sealed and opened with
		// JOT_KEY_ENCRYPTION_KEY, checked before anything is read.
		sealed, err := OpenKeyStore(ctx, cfg, store, log)
		if err != nil {
			return nil, err
		}
		store = sealed
	}
	ring := token.NewKeyring(store, token.KeyringOptions{
		Alg: cfg.JWTAlg, Secret: cfg.JWTSecret, PEM: pemKey,
		AccessTTL: cfg.AccessTTL, Leeway: leeway, JWKSMaxAge: cfg.JWKSMaxAge, Logger: log, Now: now,
	})
	if err := ring.Load(ctx); err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	return ring, nil
}

// OpenKeyStore returns store with its private keys sealed with
// JOT_KEY_ENCRYPTION_KEY (token.SealedKeys), after bringing the stored
// keys in line: with the setting, plaintext keys are encrypted, all in one
// transaction, and keys encrypted under another key stop the program;
// without it, encrypted keys stop the program. The errors are one line
// naming the setting. Going back to plaintext is not supported: once the
// keys are encrypted, the setting is required.
func OpenKeyStore(ctx context.Context, cfg *config.Config, store jot.KeyStore, log *slog.Logger) (*token.SealedKeys, error) {
	sealed, err := token.NewSealedKeys(store, cfg.KeyEncryptionKey)
	if err != nil {
		return nil, &config.SettingError{Setting: "JOT_KEY_ENCRYPTION_KEY", Problem: "must be 32 bytes in base64"}
	}
	n, err := sealed.SealStored(ctx)
	switch {
	case errors.Is(err, token.ErrSealedNoKey):
		return nil, &config.SettingError{Setting: "JOT_KEY_ENCRYPTION_KEY", Problem: "not set, but the stored signing keys are encrypted: set it to the key that encrypted them"}
	case errors.Is(err, token.ErrSealedWrongKey):
		return nil, &config.SettingError{Setting: "JOT_KEY_ENCRYPTION_KEY", Problem: "does not decrypt the stored signing keys: it is not the key that encrypted them"}
	case err != nil:
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	if n > 0 && log != nil {
		log.Info("encrypted the stored signing keys with JOT_KEY_ENCRYPTION_KEY", "keys", n)
	}
	return sealed, nil
}
