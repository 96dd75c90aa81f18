package token_test

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jotauth/jot/token"
)

func TestJWKSShape(t *testing.T) {
	want := map[string]struct {
		members []string
		fixed   map[string]string
		lens    map[string]int
	}{
		token.AlgES256: {
			members: []string{"alg", "crv", "kid", "kty", "use", "x", "y"},
			fixed:   map[string]string{"kty": "EC", "crv": "P-256"},
			lens:    map[string]int{"x": 43, "y": 43},
		},
		token.AlgEdDSA: {
			members: []string{"alg", "crv", "kid", "kty", "use", "x"},
			fixed:   map[string]string{"kty": "OKP", "crv": "Ed25519"},
			lens:    map[string]int{"x": 43},
		},
		token.AlgRS256: {
			members: []string{"alg", "e", "kid", "kty", "n", "use"},
			fixed:   map[string]string{"kty": "RSA", "e": "AQAB"},
			lens:    map[string]int{"n": 342},
		},
	}
	for _, alg := range asyms {
		t.Run(alg, func(t *testing.T) {
			f := newFixture(t, alg)
			var set map[string][]map[string]string
			if err := json.Unmarshal(f.ks.JWKS(), &set); err != nil {
				t.Fatal(err)
			}
			if len(set) != 1 || len(set["keys"]) != 1 {
				t.Fatalf("JWKS = %s", f.ks.JWKS())
			}
			k := set["keys"][0]
			var members []string
			for m := range k {
				members = append(members, m)
			}
			sort.Strings(members)
			w := want[alg]
			if strings.Join(members, ",") != strings.Join(w.members, ",") {
				t.Fatalf("members %v, want %v (never a private member)", members, w.members)
			}
			if k["kid"] != f.key.ID || k["alg"] != alg || k["use"] != "sig" {
				t.Fatalf("key = %v", k)
			}
			for m, v := range w.fixed {
				if k[m] != v {
					t.Errorf("%s = %q, want %q", m, k[m], v)
				}
			}
			for m, n := range w.lens {
				if len(k[m]) != n {
					t.Errorf("len(%s) = %d, want %d", m, len(k[m]), n)
				}
			}

			// A service verifying offline: parse the JWKS, build a set, verify.
			keys, err := token.ParseJWKS(f.ks.JWKS())
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != 1 || keys[0].ID != f.key.ID || keys[0].Alg != alg || keys[0].Private != nil {
				t.Fatalf("parsed %+v", keys)
			}
			remote := token.NewKeySet(alg, keys, f.clk.Now(), 0, 0)
			if remote.Signing() != nil {
				t.Fatal("a public key can sign")
			}
			if string(remote.JWKS()) != string(f.ks.JWKS()) {
				t.Errorf("republished JWKS differs:\n%s\n%s", remote.JWKS(), f.ks.JWKS())
			}
			if st := remote.Keys()[0].State; st != token.StateVerify {
				t.Errorf("state %q", st)
			}
			v := &token.Verifier{Keys: token.StaticKeys(remote), Issuer: testIss, Audience: testAud, Now: f.clk.Now}
			if _, err := v.Verify(f.issue(t)); err != nil {
				t.Fatal(err)
			}
			// Far in the future, the keys still verify: they are not on a
			// rotation timeline.
			later := token.NewKeySet(alg, keys, f.clk.After(1000*time.Hour), 0, 0)
			if later.Lookup(f.key.ID) == nil {
				t.Fatal("JWKS key dropped")
			}
		})
	}
}

// The example of RFC 7638 §3.1, with its published thumbprint.
const rfc7638N = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"

func TestParseJWKSThumbprint(t *testing.T) {
	keys, err := token.ParseJWKS([]byte(`{"keys":[
		{"kty":"RSA","n":"` + rfc7638N + `","e":"AQAB"},
		{"kty":"RSA","n":"` + rfc7638N + `","e":"AQAB","alg":"RS256","kid":"2011-04-29"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].ID != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" || keys[1].ID != "2011-04-29" {
		t.Fatalf("keys = %+v", keys)
	}
	if keys[0].Alg != token.AlgRS256 {
		t.Fatalf("alg = %q", keys[0].Alg)
	}

	// Our own kids are thumbprints too: a JWKS stripped of kids parses to
	// the same ids.
	for _, alg := range asyms {
		f := newFixture(t, alg)
		var set map[string][]map[string]any
		json.Unmarshal(f.ks.JWKS(), &set)
		delete(set["keys"][0], "kid")
		b, _ := json.Marshal(set)
		keys, err := token.ParseJWKS(b)
		if err != nil || len(keys) != 1 || keys[0].ID != f.key.ID {
			t.Fatalf("%s: thumbprint %+v, %v; want %s", alg, keys, err, f.key.ID)
		}
	}
}

func TestParseJWKSSkipsAndRefuses(t *testing.T) {
	es := newFixture(t, token.AlgES256)
	var set map[string][]map[string]any
	json.Unmarshal(es.ks.JWKS(), &set)
	good := set["keys"][0]
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for k, v := range good {
			m[k] = v
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	jwks := func(keys ...map[string]any) []byte {
		b, _ := json.Marshal(map[string]any{"keys": keys})
		return b
	}

	skipped := [][]byte{
		jwks(with("use", "enc")),
		jwks(with("alg", "ES384")),
		jwks(with("crv", "P-384")),
		jwks(with("kty", "oct")),
		jwks(map[string]any{"kty": "oct", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", "alg": "HS256"}),
		jwks(map[string]any{"kty": "OKP", "crv": "X25519", "x": good["x"]}),
		jwks(map[string]any{"kty": "RSA", "n": rfc7638N[:170], "e": "AQAB"}), // 1020 bits: too short
		jwks(map[string]any{"kty": "RSA", "n": rfc7638N, "e": "AQAB", "alg": "PS256"}),
		jwks(map[string]any{"kty": "EC", "crv": "P-256", "x": good["x"], "y": good["y"], "alg": "HS256"}),
	}
	for _, b := range skipped {
		keys, err := token.ParseJWKS(append([]byte(nil), b...))
		if err != nil || len(keys) != 0 {
			t.Errorf("%s: got %v, %v; want skipped", b, keys, err)
		}
	}
	// A skipped key does not cost the others.
	keys, err := token.ParseJWKS(jwks(with("use", "enc"), good, with("kty", "oct")))
	if err != nil || len(keys) != 1 || keys[0].ID != es.key.ID {
		t.Fatalf("mixed set: %v, %v", keys, err)
	}
	// Missing use is allowed (RFC 7517 §4.2 makes it optional).
	if keys, err := token.ParseJWKS(jwks(with("use", nil), with("alg", nil))); err != nil || len(keys) != 2 {
		t.Fatalf("optional members: %v, %v", keys, err)
	}

	bad := [][]byte{
		[]byte(`not json`),
		[]byte(`{}`),
		[]byte(`{"keys":{}}`),
		jwks(with("x", "AAAA")),                  // wrong length
		jwks(with("y", strings.Repeat("A", 43))), // not on the curve
		jwks(with("x", "!!!")),                   // not base64url
		jwks(map[string]any{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}),
		jwks(map[string]any{"kty": "RSA", "n": rfc7638N, "e": "AAAA"}), // e = 0
		jwks(map[string]any{"kty": "RSA", "n": "", "e": "AQAB"}),
		jwks(map[string]any{"kty": "EC", "crv": "P-256", "x": 1}),
	}
	for _, b := range bad {
		if keys, err := token.ParseJWKS(b); err == nil {
			t.Errorf("%s: parsed %v; want an error", b, keys)
		}
	}
	if keys, err := token.ParseJWKS([]byte(`{"keys":[]}`)); err != nil || len(keys) != 0 {
		t.Errorf("empty set: %v, %v", keys, err)
	}
}
