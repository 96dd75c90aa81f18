package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/config"
	"github.com/jotauth/jot/sqlite"
	"github.com/jotauth/jot/token"
)

// keysJWKS fetches the server's JWKS and returns its raw body and kids.
func (e *env) keysJWKS() ([]byte, []string) {
	e.t.Helper()
	r := e.do("GET", "/.well-known/jwks.json", "", nil)
	if r.StatusCode != http.StatusOK {
		e.t.Fatalf("JWKS: %d %s", r.StatusCode, r.body)
	}
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(r.body, &set); err != nil {
		e.t.Fatal(err)
	}
	kids := make([]string, len(set.Keys))
	for i, k := range set.Keys {
		kids[i] = k.Kid
	}
	return r.body, kids
}

// keysVerifier is what a service that trusts the server builds from its
// JWKS alone, at now: no private key, no database.
func keysVerifier(t *testing.T, alg string, jwks []byte, now time.Time) *token.Verifier {
	t.Helper()
	keys, err := token.ParseJWKS(jwks)
	if err != nil {
		t.Fatal(err)
	}
	return &token.Verifier{
		Keys:   token.StaticKeys(token.NewKeySet(alg, keys, now, 0, 0)),
		Issuer: "jot", Audience: "jot",
		Now: func() time.Time { return now },
	}
}

// keysCLI opens the server's database a second time, as `jot keys rotate`
// run next to a live server does.
func keysCLI(t *testing.T, e *env) jot.Store {
	t.Helper()
	st, err := sqlite.OpenURL(context.Background(), e.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestPlainRotation follows a rotation made outside the server (as by the
// CLI) on a running server: the new key is published at once, tokens keep
// the old kid until JOT_JWKS_MAX_AGE has passed, then carry the new one,
// all without a restart; tokens signed before keep working.
func TestPlainRotation(t *testing.T) {
	t.Parallel()
	// The delay is longer than the server's 2 s key reload, so the new key
	// is normally published well before it signs.
	const delay = 3 * time.Second
	e := newEnv(t, func(c *config.Config) { c.JWKSMaxAge = delay })
	before := e.signup("rotate@example.com", "correct horse battery")
	oldKID := kidOf(t, before.Access)

	r := e.do("GET", "/.well-known/jwks.json", "", nil)
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=3") {
		t.Errorf("JWKS Cache-Control %q, want max-age=3 (JOT_JWKS_MAX_AGE)", cc)
	}

	sk, err := token.Rotate(context.Background(), keysCLI(t, e), e.cfg.JWTAlg, delay, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	newKID := sk.KID
	if newKID == oldKID {
		t.Fatal("rotation made the same kid")
	}

	eventually(t, 15*time.Second, func() bool {
		_, kids := e.keysJWKS()
		return slices.Contains(kids, newKID)
	})
	jwks, kids := e.keysJWKS()
	if !slices.Contains(kids, oldKID) {
		t.Fatalf("the current key %s left the JWKS on rotation: %v", oldKID, kids)
	}

	// A token asked for before the new key's activation time cannot be
	// signed by it, however slow this machine is.
	asked := time.Now()
	mid := e.tokensOf(e.refresh(before.Refresh), http.StatusOK)
	if asked.Before(sk.ActivatesAt) {
		if kid := kidOf(t, mid.Access); kid != oldKID {
			t.Errorf("token before the delay passed has kid %s, want the old %s", kid, oldKID)
		}
	} else {
		t.Logf("the new key was published only after its delay had passed; the before-activation check did not run")
	}
	// A service that fetched the JWKS now already knows the next key.
	if _, err := keysVerifier(t, e.cfg.JWTAlg, jwks, time.Now()).Verify(mid.Access); err != nil {
		t.Errorf("token verified through the JWKS: %v", err)
	}

	// The running server switches on its own at a reload after the delay.
	eventually(t, 15*time.Second, func() bool {
		return e.app.Keyring.KeySet().Signing().ID == newKID
	})
	after := e.tokensOf(e.refresh(mid.Refresh), http.StatusOK)
	if kid := kidOf(t, after.Access); kid != newKID {
		t.Fatalf("token after the switch has kid %s, want the new %s", kid, newKID)
	}
	for name, tk := range map[string]tokens{"before": before, "mid": mid, "after": after} {
		if r := e.do("GET", "/v1/users/me", tk.Access, nil); r.StatusCode != http.StatusOK {
			t.Errorf("%s-rotation token after the switch: %d %s", name, r.StatusCode, r.body)
		}
	}
	jwks, kids = e.keysJWKS()
	if len(kids) < 2 || kids[0] != newKID || !slices.Contains(kids, oldKID) {
		t.Errorf("JWKS kids %v, want the new %s first and the old %s still there", kids, newKID, oldKID)
	}
	for _, tk := range []tokens{before, after} {
		if _, err := keysVerifier(t, e.cfg.JWTAlg, jwks, time.Now()).Verify(tk.Access); err != nil {
			t.Errorf("token with kid %s through the JWKS: %v", kidOf(t, tk.Access), err)
		}
	}
}

// TestKeysEachAlgorithmThroughJWKS issues a token under each asymmetric
// algorithm, verifies it with nothing but the JWKS, rotates the key at
// once (a leaked key) and checks that the token is still accepted while its
// key is in the set, and refused once the key is retired.
func TestKeysEachAlgorithmThroughJWKS(t *testing.T) {
	t.Parallel()
	for _, alg := range []string{token.AlgES256, token.AlgEdDSA, token.AlgRS256} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *config.Config) { c.JWTAlg = alg })
			tk := e.signup("keys-"+strings.ToLower(alg)+"@example.com", "correct horse battery")
			oldKID := kidOf(t, tk.Access)

			jwks, kids := e.keysJWKS()
			if len(kids) != 1 || kids[0] != oldKID {
				t.Fatalf("JWKS kids %v, want just %s", kids, oldKID)
			}
			c, err := keysVerifier(t, alg, jwks, time.Now()).Verify(tk.Access)
			if err != nil {
				t.Fatalf("token through the JWKS: %v", err)
			}
			if c.Subject != tk.User.ID || c.Role != "user" || c.SessionID == "" {
				t.Errorf("claims %+v", c)
			}
			// The JWKS of one algorithm does not verify another's tokens.
			other := token.AlgES256
			if alg == token.AlgES256 {
				other = token.AlgEdDSA
			}
			if _, err := keysVerifier(t, other, jwks, time.Now()).Verify(tk.Access); err == nil {
				t.Errorf("a %s verifier accepted a %s token", other, alg)
			}

			if _, err := e.app.Keyring.Rotate(context.Background(), true); err != nil {
				t.Fatal(err)
			}
			next := e.tokensOf(e.refresh(tk.Refresh), http.StatusOK)
			newKID := kidOf(t, next.Access)
			if newKID == oldKID {
				t.Fatalf("token after an immediate rotation has the old kid %s", oldKID)
			}
			jwks, kids = e.keysJWKS()
			if len(kids) != 2 || kids[0] != newKID || kids[1] != oldKID {
				t.Fatalf("JWKS kids %v, want %s then %s", kids, newKID, oldKID)
			}
			for _, raw := range []string{tk.Access, next.Access} {
				if _, err := keysVerifier(t, alg, jwks, time.Now()).Verify(raw); err != nil {
					t.Errorf("token with kid %s through the JWKS after the rotation: %v", kidOf(t, raw), err)
				}
				if r := e.do("GET", "/v1/users/me", raw, nil); r.StatusCode != http.StatusOK {
					t.Errorf("token with kid %s at the server after the rotation: %d %s", kidOf(t, raw), r.StatusCode, r.body)
				}
			}

			// The retirement, on the server's own key timeline with a
			// clock moved forward: the old key verifies until it has been
			// superseded for the access TTL plus the leeway, then leaves
			// the set and the JWKS, and its token is refused for the key,
			// not merely as expired.
			stored, err := keysCLI(t, e).SigningKeys(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var (
				keys   []*token.Key
				oldKey *token.Key
			)
			for _, sk := range stored {
				k, err := token.ParseSigningKey(sk)
				if err != nil {
					t.Fatal(err)
				}
				keys = append(keys, k)
				if k.ID == oldKID {
					oldKey = k
				}
			}
			if oldKey == nil {
				t.Fatalf("key %s not stored", oldKID)
			}
			const leeway = 30 * time.Second
			retiredAt := e.app.Keyring.KeySet().Signing().ActivatesAt
			dropsAt := retiredAt.Add(e.cfg.AccessTTL + leeway)
			at := func(now time.Time) (*token.KeySet, error) {
				ks := token.NewKeySet(alg, keys, now, e.cfg.AccessTTL, leeway)
				v := &token.Verifier{Keys: token.StaticKeys(ks), Issuer: "jot", Audience: "jot", Leeway: leeway, Now: func() time.Time { return now }}
				_, err := v.Verify(tk.Access)
				return ks, err
			}
			if _, err := at(retiredAt.Add(time.Minute)); err != nil {
				t.Errorf("a minute after the rotation: %v", err)
			}
			// Only the key is looked at here: the token itself expires
			// around this time.
			if ks, _ := at(dropsAt.Add(-time.Second)); ks.Lookup(oldKID) == nil {
				t.Errorf("key %s dropped before the tokens it signed expired", oldKID)
			}
			ks, err := at(dropsAt.Add(time.Second))
			if ks.Lookup(oldKID) != nil || strings.Contains(string(ks.JWKS()), oldKID) {
				t.Errorf("retired key %s still in the set or the JWKS: %s", oldKID, ks.JWKS())
			}
			if ks.Lookup(newKID) == nil {
				t.Errorf("current key %s missing after the old one retired", newKID)
			}
			if token.ReasonOf(err) != token.ReasonInvalid {
				t.Errorf("token of a retired key: %v, want refused as invalid", err)
			}
		})
	}
}
