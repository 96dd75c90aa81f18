package token_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jotauth/jot/token"
)

// fuzzSecret is the HS256 key of the fuzz targets: known, so a target can
// sign payloads of its own and reach the claim checks.
var fuzzSecret = bytes.Repeat([]byte("k"), 32)

func fuzzFixture(t testing.TB) (*token.Verifier, *token.Issuer) {
	key, err := token.HMACKey(fuzzSecret)
	if err != nil {
		t.Fatal(err)
	}
	clk := newClock(t0.Add(time.Hour))
	src := token.StaticKeys(token.NewKeySet(token.AlgHS256, []*token.Key{key}, clk.Now(), testTTL, token.DefaultLeeway))
	return &token.Verifier{Keys: src, Issuer: testIss, Audience: testAud, Now: clk.Now},
		&token.Issuer{Keys: src, Issuer: testIss, Audience: testAud, TTL: testTTL, Now: clk.Now}
}

// wellFormedToken is docs/api.md §2's line between malformed and the rest: at
// most MaxTokenSize, three strict base64url segments, the first two JSON
// objects. Written here independently of the verifier's own check.
func wellFormedToken(raw string) bool {
	parts := strings.Split(raw, ".")
	if len(raw) > token.MaxTokenSize || len(parts) != 3 {
		return false
	}
	for i, p := range parts {
		b, err := b64.Strict().DecodeString(p)
		if err != nil {
			return false
		}
		if i < 2 {
			var m map[string]json.RawMessage
			if json.Unmarshal(b, &m) != nil || m == nil {
				return false
			}
		}
	}
	return true
}

// FuzzVerify feeds arbitrary strings to the verifier: it never panics,
// refuses with a *token.Error whose reason is malformed exactly when the
// token is not well formed, and accepts only tokens signed with its key.
func FuzzVerify(f *testing.F) {
	ver, iss := fuzzFixture(f)
	c := testClaims()
	good, _, err := iss.Issue(c)
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(good, ".")
	for _, s := range []string{
		good, "", ".", "..", "a.b.c", parts[0] + "." + parts[1] + ".",
		parts[0] + "." + parts[1], good + ".", good + "=", strings.ToUpper(good),
		b64.EncodeToString([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".",
		b64.EncodeToString([]byte(`[]`)) + "." + parts[1] + "." + parts[2],
		b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + parts[1] + "." + parts[2],
		strings.Repeat("a", token.MaxTokenSize+1),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		claims, err := ver.Verify(raw)
		if err == nil {
			// Only a genuine signature over exactly these bytes passes.
			dot := strings.LastIndexByte(raw, '.')
			mac := hmac.New(sha256.New, fuzzSecret)
			mac.Write([]byte(raw[:dot]))
			if got, _ := b64.Strict().DecodeString(raw[dot+1:]); !hmac.Equal(got, mac.Sum(nil)) {
				t.Fatalf("accepted a token it did not sign: %q", raw)
			}
			if claims.Subject != c.Subject || claims.SessionID != c.SessionID {
				t.Fatalf("claims %+v", claims)
			}
			return
		}
		var te *token.Error
		if !errors.As(err, &te) {
			t.Fatalf("error %T %v is not a *token.Error", err, err)
		}
		switch te.Reason {
		case token.ReasonMalformed:
			if wellFormedToken(raw) {
				t.Fatalf("well-formed token called malformed: %q (%v)", raw, err)
			}
		case token.ReasonInvalid, token.ReasonExpired:
			if !wellFormedToken(raw) {
				t.Fatalf("malformed token called %s: %q (%v)", te.Reason, raw, err)
			}
		default:
			t.Fatalf("reason %q", te.Reason)
		}
	})
}

// FuzzVerifyPayload signs arbitrary payloads with the verifier's own key,
// so the fuzzer reaches the claim checks past the signature: whatever it
// accepts has a string sub and sid, the configured iss and aud, and exp,
// iat and nbf that are JSON numbers with exp in the future.
func FuzzVerifyPayload(f *testing.F) {
	ver, iss := fuzzFixture(f)
	good, _, err := iss.Issue(testClaims())
	if err != nil {
		f.Fatal(err)
	}
	header, payload, _ := strings.Cut(good, ".")
	payload, _, _ = strings.Cut(payload, ".")
	p, _ := b64.DecodeString(payload)
	f.Add(p)
	f.Add(bytes.Replace(p, []byte(`"exp":`), []byte(`"exp":"`), 1))
	f.Add([]byte(`{"sub":"u","sid":"s","iss":"jot","aud":"jot-api","exp":"9999999999"}`))
	f.Add([]byte(`{"sub":"u","sid":"s","iss":"jot","aud":["jot-api"],"exp":9999999999,"iat":1,"nbf":1e3}`))
	f.Add([]byte(`{"sub":"u","sid":"s","iss":"jot","aud":"jot-api","exp":9999999999,"EXP":"1"}`))
	f.Add([]byte(`{"sub":"u","sid":"s","iss":"jot","aud":"jot-api","exp":9999999999,"nbf":null}`))
	now := t0.Add(time.Hour)
	f.Fuzz(func(t *testing.T, payload []byte) {
		signing := header + "." + b64.EncodeToString(payload)
		mac := hmac.New(sha256.New, fuzzSecret)
		mac.Write([]byte(signing))
		raw := signing + "." + b64.EncodeToString(mac.Sum(nil))
		claims, err := ver.Verify(raw)
		if err != nil {
			var te *token.Error
			if !errors.As(err, &te) || (te.Reason != token.ReasonMalformed && te.Reason != token.ReasonInvalid && te.Reason != token.ReasonExpired) {
				t.Fatalf("refusal %T %v", err, err)
			}
			return
		}
		if claims.Subject == "" || claims.SessionID == "" || claims.Issuer != testIss {
			t.Fatalf("accepted claims %+v from %s", claims, payload)
		}
		var raw2 map[string]any
		dec := json.NewDecoder(bytes.NewReader(payload))
		dec.UseNumber()
		if err := dec.Decode(&raw2); err != nil {
			t.Fatalf("accepted a payload that is not a JSON object: %s", payload)
		}
		for k, v := range raw2 {
			switch strings.ToLower(k) {
			case "exp", "iat", "nbf":
				if _, ok := v.(json.Number); !ok {
					t.Fatalf("accepted %s of JSON type %T: %s", k, v, payload)
				}
			}
		}
		if claims.ExpiresAt == nil || !claims.ExpiresAt.Add(token.DefaultLeeway).After(now) {
			t.Fatalf("accepted without a future exp: %s", payload)
		}
	})
}
