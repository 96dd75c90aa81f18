package token_test

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jotauth/jot/token"
)

func TestRoundTrip(t *testing.T) {
	for _, alg := range allAlgs {
		t.Run(alg, func(t *testing.T) {
			f := newFixture(t, alg)
			raw, exp, err := f.iss.Issue(testClaims())
			if err != nil {
				t.Fatal(err)
			}
			now := f.clk.Now()
			if want := now.Add(testTTL).Truncate(time.Second); !exp.Equal(want) {
				t.Errorf("exp = %v, want %v", exp, want)
			}

			h, p, _ := segments(t, raw)
			if h["alg"] != alg || h["typ"] != "JWT" || h["kid"] != f.key.ID || len(h) != 3 {
				t.Errorf("header = %v", h)
			}
			if p["aud"] != testAud {
				t.Errorf("aud = %#v, want the single string %q", p["aud"], testAud)
			}
			for _, claim := range []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "sid", "role", "email"} {
				if _, ok := p[claim]; !ok {
					t.Errorf("claim %s missing from %v", claim, p)
				}
			}
			if jti, _ := p["jti"].(string); len(jti) != 22 {
				t.Errorf("jti = %q, want 128 bits base64url", jti)
			}

			c, err := f.ver.Verify(raw)
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject != "user-1" || c.SessionID != "sess-1" || c.Role != "user" || c.Email != "ada@example.com" ||
				c.Issuer != testIss || len(c.Audience) != 1 || c.Audience[0] != testAud ||
				!c.ExpiresAt.Time.Equal(exp) || !c.IssuedAt.Time.Equal(now) || !c.NotBefore.Time.Equal(now) {
				t.Errorf("claims = %+v", c)
			}

			raw2, _, _ := f.iss.Issue(testClaims())
			_, p2, _ := segments(t, raw2)
			if p2["jti"] == p["jti"] {
				t.Error("two tokens share a jti")
			}
		})
	}
}

func TestIssueKeepsClaimsTheCallerSet(t *testing.T) {
	f := newFixture(t, token.AlgEdDSA)
	c := testClaims()
	exp := f.clk.After(5 * time.Minute).Truncate(time.Second)
	c.ExpiresAt = jwt.NewNumericDate(exp)
	c.ID = "my-jti"
	raw, gotExp, err := f.iss.Issue(c)
	if err != nil {
		t.Fatal(err)
	}
	if !gotExp.Equal(exp) {
		t.Errorf("exp = %v, want %v", gotExp, exp)
	}
	got, err := f.ver.Verify(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "my-jti" || !got.ExpiresAt.Time.Equal(exp) {
		t.Errorf("claims = %+v", got)
	}
}

func TestIssueErrors(t *testing.T) {
	f := newFixture(t, token.AlgES256)
	noSID := testClaims()
	noSID.SessionID = ""
	if _, _, err := f.iss.Issue(noSID); err == nil {
		t.Error("issued a token without sid")
	}
	noKeys := &token.Issuer{Keys: token.StaticKeys(nil), TTL: time.Minute}
	if _, _, err := noKeys.Issue(testClaims()); err == nil {
		t.Error("issued without keys")
	}
	// A set whose only key is still `next` cannot sign.
	future := token.NewKeySet(token.AlgES256, []*token.Key{f.key}, t0.Add(-time.Hour), testTTL, 0)
	notYet := &token.Issuer{Keys: token.StaticKeys(future), TTL: time.Minute}
	if _, _, err := notYet.Issue(testClaims()); err == nil {
		t.Error("issued with a key that is not active")
	}
	noTTL := *f.iss
	noTTL.TTL = 0
	if _, _, err := noTTL.Issue(testClaims()); err == nil {
		t.Error("issued a token without a lifetime")
	}
}

// resign re-signs a token's payload after edit changes it, keeping the
// header, with the fixture's real key.
func (f *fixture) sign(t testing.TB, header map[string]any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(f.alg), claims)
	tok.Header = header
	raw, err := tok.SignedString(f.key.Private)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func (f *fixture) header() map[string]any {
	return map[string]any{"alg": f.alg, "typ": "JWT", "kid": f.key.ID}
}

func (f *fixture) claims() jwt.MapClaims {
	now := f.clk.Now().Unix()
	return jwt.MapClaims{
		"iss": testIss, "aud": testAud, "sub": "user-1", "sid": "sess-1",
		"iat": now, "nbf": now, "exp": now + int64(testTTL/time.Second), "jti": "j",
	}
}

func TestVerifyRefusals(t *testing.T) {
	for _, alg := range allAlgs {
		t.Run(alg, func(t *testing.T) {
			f := newFixture(t, alg)
			raw := f.issue(t)
			parts := strings.Split(raw, ".")
			now := f.clk.Now().Unix()

			// The control: hand-built tokens are accepted when nothing is wrong,
			// so each refusal below is down to its one defect.
			if _, err := f.ver.Verify(f.sign(t, f.header(), f.claims())); err != nil {
				t.Fatalf("control token refused: %v", err)
			}

			with := func(k string, v any) jwt.MapClaims {
				c := f.claims()
				if v == nil {
					delete(c, k)
				} else {
					c[k] = v
				}
				return c
			}
			withHeader := func(k string, v any) map[string]any {
				h := f.header()
				if v == nil {
					delete(h, k)
				} else {
					h[k] = v
				}
				return h
			}

			_, payload, sig := segments(t, raw)
			payload["sub"] = "admin-1"
			tamperedPayload := parts[0] + "." + encJSON(t, payload) + "." + parts[2]
			sig[0] ^= 1
			tamperedSig := parts[0] + "." + parts[1] + "." + b64.EncodeToString(sig)

			// The same signature bytes spelled with a non-zero unused trailing
			// bit: lenient base64 would accept this second spelling.
			const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
			last := strings.IndexByte(alphabet, raw[len(raw)-1])
			respelled := raw[:len(raw)-1] + string(alphabet[last^1])

			noneHeader := encJSON(t, map[string]any{"alg": "none", "typ": "JWT", "kid": f.key.ID})
			noneHeaderNoKid := encJSON(t, map[string]any{"alg": "none"})

			cases := []struct {
				name string
				raw  string
				want token.Reason
			}{
				{"tampered payload", tamperedPayload, token.ReasonInvalid},
				{"tampered signature", tamperedSig, token.ReasonInvalid},
				{"signature dropped", parts[0] + "." + parts[1] + ".", token.ReasonInvalid},
				{"alg none, no signature", noneHeader + "." + parts[1] + ".", token.ReasonInvalid},
				{"alg none, old signature", noneHeader + "." + parts[1] + "." + parts[2], token.ReasonInvalid},
				{"alg none, no kid", noneHeaderNoKid + "." + parts[1] + ".", token.ReasonInvalid},
				{"alg missing", encJSON(t, map[string]any{"typ": "JWT", "kid": f.key.ID}) + "." + parts[1] + "." + parts[2], token.ReasonInvalid},
				{"wrong iss", f.sign(t, f.header(), with("iss", "evil")), token.ReasonInvalid},
				{"no iss", f.sign(t, f.header(), with("iss", nil)), token.ReasonInvalid},
				{"wrong aud", f.sign(t, f.header(), with("aud", "other")), token.ReasonInvalid},
				{"no aud", f.sign(t, f.header(), with("aud", nil)), token.ReasonInvalid},
				{"aud list without ours", f.sign(t, f.header(), with("aud", []string{"a", "b"})), token.ReasonInvalid},
				{"nbf beyond leeway", f.sign(t, f.header(), with("nbf", now+31)), token.ReasonInvalid},
				{"iat in the future", f.sign(t, f.header(), with("iat", now+120)), token.ReasonInvalid},
				{"no exp", f.sign(t, f.header(), with("exp", nil)), token.ReasonInvalid},
				{"exp not a number", f.sign(t, f.header(), with("exp", "soon")), token.ReasonInvalid},
				{"no sub", f.sign(t, f.header(), with("sub", nil)), token.ReasonInvalid},
				{"no sid", f.sign(t, f.header(), with("sid", "")), token.ReasonInvalid},
				{"expired", f.sign(t, f.header(), with("exp", now-31)), token.ReasonExpired},
				{"expired and wrong iss", f.sign(t, f.header(), func() jwt.MapClaims {
					c := with("exp", now-31)
					c["iss"] = "evil"
					return c
				}()), token.ReasonInvalid},
				{"expired without sid", f.sign(t, f.header(), func() jwt.MapClaims {
					c := with("exp", now-31)
					delete(c, "sid")
					return c
				}()), token.ReasonInvalid},
				{"jku header", f.sign(t, withHeader("jku", "https://evil.example/jwks.json"), f.claims()), token.ReasonInvalid},
				{"x5u header", f.sign(t, withHeader("x5u", "https://evil.example/cert.pem"), f.claims()), token.ReasonInvalid},
				{"jwk header", f.sign(t, withHeader("jwk", map[string]any{"kty": "oct", "k": "AAAA"}), f.claims()), token.ReasonInvalid},
				{"x5c header", f.sign(t, withHeader("x5c", []string{"MIIB"}), f.claims()), token.ReasonInvalid},
				{"crit header", f.sign(t, withHeader("crit", []string{"exp"}), f.claims()), token.ReasonInvalid},
				{"unknown kid", f.sign(t, withHeader("kid", "not-a-key"), f.claims()), token.ReasonInvalid},
				{"no kid", f.sign(t, withHeader("kid", nil), f.claims()), token.ReasonInvalid},
				{"kid not a string", f.sign(t, withHeader("kid", 7), f.claims()), token.ReasonInvalid},
				{"typ JOSE", f.sign(t, withHeader("typ", "JOSE"), f.claims()), token.ReasonInvalid},
				{"typ not a string", f.sign(t, withHeader("typ", 1), f.claims()), token.ReasonInvalid},
				{"too long", raw + strings.Repeat("A", token.MaxTokenSize+1-len(raw)), token.ReasonMalformed},
				{"empty", "", token.ReasonMalformed},
				{"one segment", "abc", token.ReasonMalformed},
				{"two segments", "a.b", token.ReasonMalformed},
				{"non-JSON segments", "a.b.c", token.ReasonMalformed},
				{"four segments", raw + ".AAAA", token.ReasonMalformed},
				{"header not base64url", "!!!." + parts[1] + "." + parts[2], token.ReasonMalformed},
				{"padded signature", raw + "==", token.ReasonMalformed},
				{"header a JSON array", b64.EncodeToString([]byte(`["alg"]`)) + "." + parts[1] + "." + parts[2], token.ReasonMalformed},
				{"payload JSON null", parts[0] + "." + b64.EncodeToString([]byte(`null`)) + "." + parts[2], token.ReasonMalformed},
				{"payload a JSON string", parts[0] + "." + b64.EncodeToString([]byte(`"x"`)) + "." + parts[2], token.ReasonMalformed},
				{"payload truncated JSON", parts[0] + "." + b64.EncodeToString([]byte(`{"sub":`)) + "." + parts[2], token.ReasonMalformed},
				{"signature in non-canonical base64", respelled, token.ReasonMalformed},
				{"signature not base64url", parts[0] + "." + parts[1] + ".*", token.ReasonMalformed},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					c, err := f.ver.Verify(tc.raw)
					if c != nil {
						t.Errorf("returned claims %+v with error %v", c, err)
					}
					wantReason(t, err, tc.want)
				})
			}
		})
	}
}

func TestVerifyLeeway(t *testing.T) {
	f := newFixture(t, token.AlgES256)
	now := f.clk.Now().Unix()
	c := f.claims()
	c["exp"] = now - 29
	c["nbf"] = now + 29
	c["iat"] = now + 29
	raw := f.sign(t, f.header(), c)
	if _, err := f.ver.Verify(raw); err != nil {
		t.Fatalf("within the default leeway: %v", err)
	}

	strict := &token.Verifier{Keys: f.ver.Keys, Issuer: testIss, Audience: testAud, Now: f.clk.Now, Leeway: -1}
	wantReason(t, func() error { _, err := strict.Verify(raw); return err }(), token.ReasonInvalid)

	// An issued token, followed through its life.
	raw = f.issue(t)
	f.clk.Add(testTTL + 29*time.Second)
	if _, err := f.ver.Verify(raw); err != nil {
		t.Fatalf("expired 29s ago, within leeway: %v", err)
	}
	f.clk.Add(2 * time.Second)
	_, err := f.ver.Verify(raw)
	wantReason(t, err, token.ReasonExpired)
	if token.ReasonOf(err) != token.ReasonExpired {
		t.Error("ReasonOf disagrees")
	}
}

// TestHMACWithPublicKey is the classic algorithm confusion: an attacker
// signs with HS256, using the server's public key as the HMAC secret.
func TestHMACWithPublicKey(t *testing.T) {
	for _, alg := range asyms {
		t.Run(alg, func(t *testing.T) {
			f := newFixture(t, alg)
			der, err := x509.MarshalPKIXPublicKey(f.key.Public)
			if err != nil {
				t.Fatal(err)
			}
			pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
			for name, secret := range map[string][]byte{"PEM": pemBytes, "DER": der, "JWKS": f.ks.JWKS()} {
				tok := jwt.NewWithClaims(jwt.SigningMethodHS256, f.claims())
				tok.Header["kid"] = f.key.ID
				raw, err := tok.SignedString(secret)
				if err != nil {
					t.Fatal(err)
				}
				_, err = f.ver.Verify(raw)
				wantReason(t, err, token.ReasonInvalid)
				if !strings.Contains(err.Error(), "HS256") {
					t.Errorf("%s: refused for %v, want the alg allow-list", name, err)
				}
			}
		})
	}
}

// TestOtherAlgorithmsRefused: a token of a supported algorithm other than
// the configured one is refused even when its kid is known.
func TestOtherAlgorithmsRefused(t *testing.T) {
	es := newFixture(t, token.AlgES256)
	ed := newFixture(t, token.AlgEdDSA)
	both := token.NewKeySet(token.AlgES256, []*token.Key{es.key, ed.key}, es.clk.Now(), testTTL, 0)
	if both.Lookup(ed.key.ID) != nil {
		t.Fatal("an EdDSA key got into an ES256 set")
	}
	v := &token.Verifier{Keys: token.StaticKeys(both), Issuer: testIss, Audience: testAud, Now: es.clk.Now}
	_, err := v.Verify(ed.issue(t))
	wantReason(t, err, token.ReasonInvalid)
	if _, err := v.Verify(es.issue(t)); err != nil {
		t.Fatal(err)
	}
}

func TestTypHeader(t *testing.T) {
	f := newFixture(t, token.AlgEdDSA)
	for _, typ := range []any{"jwt", "Jwt", nil} {
		h := f.header()
		if typ == nil {
			delete(h, "typ")
		} else {
			h["typ"] = typ
		}
		if _, err := f.ver.Verify(f.sign(t, h, f.claims())); err != nil {
			t.Errorf("typ %v: %v", typ, err)
		}
	}
}

func TestVerifierConfiguration(t *testing.T) {
	f := newFixture(t, token.AlgHS256)
	raw := f.issue(t)

	for _, v := range []*token.Verifier{
		{Keys: f.ver.Keys, Audience: testAud, Now: f.clk.Now},
		{Keys: f.ver.Keys, Issuer: testIss, Now: f.clk.Now},
		{Keys: token.StaticKeys(nil), Issuer: testIss, Audience: testAud, Now: f.clk.Now},
		{Issuer: testIss, Audience: testAud, Now: f.clk.Now},
	} {
		_, err := v.Verify(raw)
		wantReason(t, err, token.ReasonInvalid)
	}

	// Settings changed between calls take effect, and a copy of a used
	// Verifier works on its own settings.
	v := &token.Verifier{Keys: f.ver.Keys, Issuer: testIss, Audience: testAud, Now: f.clk.Now}
	if _, err := v.Verify(raw); err != nil {
		t.Fatal(err)
	}
	v.Audience = "other"
	if _, err := v.Verify(raw); err == nil {
		t.Fatal("changed audience ignored")
	}
	v.Audience = testAud
	cp := &token.Verifier{Keys: v.Keys, Issuer: v.Issuer, Audience: v.Audience, Now: v.Now}
	if _, err := cp.Verify(raw); err != nil {
		t.Fatal(err)
	}
	late := newClock(f.clk.After(time.Hour))
	cp.Now = late.Now
	_, err := cp.Verify(raw)
	wantReason(t, err, token.ReasonExpired)
	if _, err := v.Verify(raw); err != nil {
		t.Fatal("the original took the copy's clock:", err)
	}
}

func TestErrorCarriesCause(t *testing.T) {
	f := newFixture(t, token.AlgES256)
	_, err := f.ver.Verify("abc")
	if err == nil || !strings.HasPrefix(err.Error(), "token malformed") {
		t.Fatalf("err = %v", err)
	}
	if fmt.Sprint(token.ReasonOf(err)) != "malformed" {
		t.Error("ReasonOf")
	}
}

func TestVerifyConcurrent(t *testing.T) {
	f := newFixture(t, token.AlgEdDSA)
	raw := f.issue(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if _, err := f.ver.Verify(raw); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
