package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/cmd/jot/app"
	"github.com/jotauth/jot/config"
	"github.com/jotauth/jot/internal/jottest"
	"github.com/jotauth/jot/token"
)

// leakedKey reads the stored key kid as an attacker holding a copy of the
// database would, before it is revoked.
func leakedKey(t *testing.T, st jot.KeyStore, kid string) *token.Key {
	t.Helper()
	keys, err := st.SigningKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, sk := range keys {
		if sk.KID == kid {
			k, err := token.ParseSigningKey(sk)
			if err != nil {
				t.Fatal(err)
			}
			return k
		}
	}
	t.Fatalf("key %s is not stored", kid)
	return nil
}

// forgeWith signs a fresh token with key for the subject and session of a
// genuine token, as an attacker holding the leaked key would.
func forgeWith(t *testing.T, key *token.Key, genuine string) string {
	t.Helper()
	var c token.Claims
	jottest.Segment(t, genuine, 1, &c)
	c.IssuedAt, c.NotBefore, c.ExpiresAt, c.ID = nil, nil, nil, ""
	iss := &token.Issuer{
		Keys:   token.StaticKeys(token.NewKeySet(key.Alg, []*token.Key{key}, time.Now(), time.Hour, 0)),
		Issuer: "jot", Audience: "jot", TTL: 10 * time.Minute,
	}
	raw, _, err := iss.Issue(c)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// jwksKIDs returns the kids e's JWKS publishes.
func jwksKIDs(t *testing.T, e *env) []string {
	t.Helper()
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(e.do("GET", "/.well-known/jwks.json", "", nil).body, &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KID)
	}
	return kids
}

// revokeAcross starts two instances over dsn on one clock, leaks the
// first instance's key, rotates it away with
// --now and revokes it as the CLI does, then checks that every instance
// refuses a token freshly forged with it, within 5 s, and unpublishes it.
func revokeAcross(t *testing.T, dsn string) {
	clk := &testClock{}
	envs := []*env{newEnvAtClock(t, dsn, nil, clk), newEnvAtClock(t, dsn, nil, clk)}
	ctx := context.Background()
	tk := envs[0].signup("leak@example.com", "pass-phrase-1")
	leakedKID := kidOf(t, tk.Access)
	cli := openStore(t, dsn)
	leaked := leakedKey(t, cli, leakedKID)

	// The operator's reaction: rotate --now, then revoke.
	if _, err := token.Rotate(ctx, cli, token.AlgES256, 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	forged := forgeWith(t, leaked, tk.Access)
	for i, e := range envs {
		// Retired but still verifying: this is what revoking closes.
		if r := e.do("GET", "/v1/users/me", forged, nil); r.StatusCode != 200 {
			t.Fatalf("instance %d before revoking: %d %s", i, r.StatusCode, r.body)
		}
	}
	cfg := jottest.Config(t)
	cfg.DatabaseURL = dsn
	ring, err := app.LoadKeys(ctx, &cfg, cli, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if _, already, err := ring.Revoke(ctx, leakedKID); err != nil || already {
		t.Fatalf("Revoke = %v, %v", already, err)
	}
	forged = forgeWith(t, leaked, tk.Access) // fresh again, after the revocation
	for i, e := range envs {
		eventually(t, 5*time.Second, func() bool {
			return e.do("GET", "/v1/users/me", forged, nil).StatusCode == 401
		})
		t.Logf("instance %d refuses the revoked key's tokens %v after the revocation", i, time.Since(began).Round(time.Millisecond))
		wantInvalidToken(t, e.do("GET", "/v1/users/me", forged, nil), "invalid")
		wantInvalidToken(t, e.do("GET", "/v1/users/me", tk.Access, nil), "invalid")
		if kids := jwksKIDs(t, e); slices.Contains(kids, leakedKID) || len(kids) != 1 {
			t.Errorf("instance %d publishes %v after revoking %s", i, kids, leakedKID)
		}
		if e.app.Keyring.Trusted(leakedKID) || !e.app.Keyring.Trusted(e.app.Keyring.KeySet().Signing().ID) {
			t.Errorf("instance %d: Trusted(revoked) or !Trusted(current)", i)
		}
	}
	// The unknown-kid reload does not bring it back, and a new login on
	// either instance works with the new key.
	clk.Advance(1100 * time.Millisecond) // past the unknown-kid reload's throttle
	for _, e := range envs {
		wantInvalidToken(t, e.do("GET", "/v1/users/me", forged, nil), "invalid")
		if fresh := e.login("leak@example.com", "pass-phrase-1"); kidOf(t, fresh.Access) == leakedKID {
			t.Fatal("signed with the revoked key")
		}
	}
}

// A leaked key revoked by the CLI is refused by two instances over one
// PostgreSQL database within 5 s (the notification reaches them at once).
func TestRevokeKeyAcrossInstancesOverPostgres(t *testing.T) {
	revokeAcross(t, postgresSchema(t))
}

// The same over one SQLite file: the 2 s reload carries it.
func TestRevokeKeyAcrossInstancesOverSQLite(t *testing.T) {
	revokeAcross(t, sqliteDSN(t))
}

// The current key cannot be revoked; an unknown kid is ENOTFOUND; a
// second revocation reports the first.
func TestRevokeRefusals(t *testing.T) {
	e := newEnv(t, nil)
	ring := e.app.Keyring
	cur := ring.KeySet().Signing().ID
	if _, _, err := ring.Revoke(context.Background(), cur); err != token.ErrRevokeCurrent {
		t.Fatalf("revoking the current key: %v", err)
	}
	if _, _, err := ring.Revoke(context.Background(), "nope"); jot.ErrorCode(err) != jot.ENOTFOUND {
		t.Fatalf("revoking an unknown kid: %v", err)
	}
	if _, err := ring.Rotate(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	first, already, err := ring.Revoke(context.Background(), cur)
	if err != nil || already {
		t.Fatal(already, err)
	}
	again, already, err := ring.Revoke(context.Background(), cur)
	if err != nil || !already || !again.Equal(first) {
		t.Fatalf("second revocation = %v, %v, %v; want %v, already", again, already, err, first)
	}
	var states []string
	for _, k := range ring.KeySet().Keys() {
		states = append(states, k.State)
		if k.KID == cur && (k.State != token.StateRevoked || k.RevokedAt.IsZero() || k.Verifies) {
			t.Errorf("revoked key listed as %+v", k)
		}
	}
	if !slices.Equal(states, []string{"current", "revoked"}) {
		t.Errorf("states %v", states)
	}
}

// newKEK returns a random key encryption key.
func newKEK(t *testing.T) config.Secret {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// JOT_KEY_ENCRYPTION_KEY: plaintext keys stored by an earlier start are
// encrypted on the first start with it, tokens still verify after
// restarts, and a wrong or missing key stops the start with one line.
func TestKeyEncryption(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "jot.db")
	plainEnv := newEnvAt(t, dsn, nil)
	tk := plainEnv.signup("sealed@example.com", "pass-phrase-1")
	st := openStore(t, dsn)
	before, err := st.SigningKeys(ctx)
	if err != nil || len(before) != 1 || token.Sealed(before[0].Private) {
		t.Fatalf("before: %v %v", before, err)
	}
	plainEnv.srv.Close()

	kek := newKEK(t)
	withKEK := func(c *config.Config) { c.KeyEncryptionKey = kek }
	a := newEnvAt(t, dsn, withKEK)
	after, err := st.SigningKeys(ctx)
	if err != nil || len(after) != 1 {
		t.Fatal(after, err)
	}
	if !token.Sealed(after[0].Private) || bytes.Contains(after[0].Private, before[0].Private) {
		t.Fatalf("the stored private key is not encrypted after a start with JOT_KEY_ENCRYPTION_KEY")
	}
	if r := a.do("GET", "/v1/users/me", tk.Access, nil); r.StatusCode != 200 {
		t.Fatalf("token signed before encryption: %d %s", r.StatusCode, r.body)
	}
	// A rotation stores its key encrypted too, and a restart reads both.
	if _, err := a.app.Keyring.Rotate(ctx, true); err != nil {
		t.Fatal(err)
	}
	tk2 := a.login("sealed@example.com", "pass-phrase-1")
	b := newEnvAt(t, dsn, withKEK)
	for _, raw := range []string{tk.Access, tk2.Access} {
		if r := b.do("GET", "/v1/users/me", raw, nil); r.StatusCode != 200 {
			t.Fatalf("after a restart: %d %s", r.StatusCode, r.body)
		}
	}
	keys, _ := st.SigningKeys(ctx)
	for _, k := range keys {
		if !token.Sealed(k.Private) {
			t.Errorf("key %s stored in plaintext", k.KID)
		}
	}

	for name, kek := range map[string]config.Secret{"wrong": newKEK(t), "missing": nil} {
		cfg := jottest.Config(t)
		cfg.DatabaseURL = dsn
		cfg.KeyEncryptionKey = kek
		_, err := app.Build(ctx, &cfg, st, nil)
		want := "JOT_KEY_ENCRYPTION_KEY: does not decrypt the stored signing keys: it is not the key that encrypted them"
		if kek == nil {
			want = "JOT_KEY_ENCRYPTION_KEY: not set, but the stored signing keys are encrypted: set it to the key that encrypted them"
		}
		if err == nil || err.Error() != want {
			t.Errorf("%s key: %v, want %q", name, err, want)
		}
	}
	// Nothing was changed by the refused starts.
	again, _ := st.SigningKeys(ctx)
	for i := range again {
		if !bytes.Equal(again[i].Private, keys[i].Private) {
			t.Errorf("key %s changed by a refused start", again[i].KID)
		}
	}
}

// On a fresh database the first key is stored encrypted.
func TestKeyEncryptionFirstKey(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.KeyEncryptionKey = newKEK(t) })
	keys, err := openStore(t, e.dsn).SigningKeys(context.Background())
	if err != nil || len(keys) != 1 || !token.Sealed(keys[0].Private) {
		t.Fatalf("first key: %v %v", keys, err)
	}
	tk := e.signup("first@example.com", "pass-phrase-1")
	if r := e.do("GET", "/v1/users/me", tk.Access, nil); r.StatusCode != 200 {
		t.Fatal(r.StatusCode)
	}
}
