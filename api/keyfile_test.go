package api_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jotauth/jot/cmd/jot/app"
	"github.com/jotauth/jot/config"
	"github.com/jotauth/jot/sqlite"
	"github.com/jotauth/jot/token"
)

// writePEM writes a PKCS #8 private key to a file of the test's own.
func writePEM(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "signing.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// A key given as a PEM file signs instead of a generated one, and the JWKS
// publishes exactly its public half.
func TestSigningKeyFromPEMFile(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		alg string
		key any
	}{{"ES256", ecKey}, {"EdDSA", edKey}} {
		t.Run(tc.alg, func(t *testing.T) {
			path := writePEM(t, tc.key)
			want, err := token.ParsePEMKey(tc.alg, mustRead(t, path))
			if err != nil {
				t.Fatal(err)
			}
			e := newEnv(t, func(c *config.Config) { c.JWTAlg = tc.alg; c.JWTKeyFile = path })
			r := e.do("GET", "/.well-known/jwks.json", "", nil)
			keys, err := token.ParseJWKS(r.body)
			if err != nil || len(keys) != 1 || keys[0].ID != want.ID {
				t.Fatalf("jwks %s (err %v), want the one key %s", r.body, err, want.ID)
			}
			tk := e.signup("pem-"+tc.alg+"@example.com", "pass-phrase-1")
			// Verified with nothing but the public key from the JWKS.
			v := &token.Verifier{Keys: token.StaticKeys(token.NewKeySet(tc.alg, keys, time.Now(), 0, 0)), Issuer: "jot", Audience: "jot"}
			c, err := v.Verify(tk.Access)
			if err != nil || c.Subject != tk.User.ID {
				t.Fatalf("verify with the JWKS key: %v", err)
			}
			var hdr struct {
				Kid string `json:"kid"`
			}
			_ = json.Unmarshal(decodeSegment(t, tk.Access, 0), &hdr)
			if hdr.Kid != want.ID {
				t.Fatalf("kid %q, want %q", hdr.Kid, want.ID)
			}
		})
	}
	// A key that does not fit the algorithm stops the start.
	t.Run("mismatch", func(t *testing.T) {
		cfg := config.Default()
		cfg.JWTAlg = "RS256"
		cfg.JWTKeyFile = writePEM(t, ecKey)
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "jot.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if err := st.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, err = app.LoadKeys(context.Background(), &cfg, st, nil)
		if err == nil || !strings.HasPrefix(err.Error(), "JOT_JWT_KEY_FILE: ") {
			t.Fatalf("an EC key for RS256: %v, want an error naming JOT_JWT_KEY_FILE", err)
		}
	})
}

func decodeSegment(t *testing.T, jwt string, i int) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
