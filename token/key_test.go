package token_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/jotauth/jot/token"
)

func TestGenerateKey(t *testing.T) {
	for _, alg := range asyms {
		t.Run(alg, func(t *testing.T) {
			sk, err := token.GenerateKey(alg, t0, t0.Add(5*60e9))
			if err != nil {
				t.Fatal(err)
			}
			if sk.Alg != alg || len(sk.KID) != 43 || !sk.CreatedAt.Equal(t0) || !sk.ActivatesAt.Equal(t0.Add(5*60e9)) {
				t.Fatalf("key = %+v", sk)
			}
			priv, err := x509.ParsePKCS8PrivateKey(sk.Private)
			if err != nil {
				t.Fatalf("not PKCS #8: %v", err)
			}
			switch p := priv.(type) {
			case *ecdsa.PrivateKey:
				if alg != token.AlgES256 || p.Curve != elliptic.P256() {
					t.Fatalf("%s: %T", alg, p)
				}
			case ed25519.PrivateKey:
				if alg != token.AlgEdDSA {
					t.Fatalf("%s: %T", alg, p)
				}
			case *rsa.PrivateKey:
				if alg != token.AlgRS256 || p.N.BitLen() != 2048 {
					t.Fatalf("%s: %T", alg, p)
				}
			}
			k, err := token.ParseSigningKey(sk)
			if err != nil {
				t.Fatal(err)
			}
			if k.ID != sk.KID || k.Alg != alg || !k.ActivatesAt.Equal(sk.ActivatesAt) || k.Private == nil || k.Public == nil {
				t.Fatalf("parsed = %+v", k)
			}
		})
	}
	if _, err := token.GenerateKey(token.AlgHS256, t0, t0); err == nil {
		t.Error("generated an HS256 key")
	}
	if _, err := token.GenerateKey("ES512", t0, t0); err == nil {
		t.Error("generated an ES512 key")
	}
}

func TestParseSigningKeyRefuses(t *testing.T) {
	sk := newStoredKey(t, token.AlgES256, t0, t0)
	wrongAlg, wrongKID, garbage := *sk, *sk, *sk
	wrongAlg.Alg = token.AlgEdDSA
	wrongKID.KID = "something-else"
	garbage.Private = []byte("not DER")
	for name, k := range map[string]*token.StoredKey{"alg": &wrongAlg, "kid": &wrongKID, "DER": &garbage, "nil": nil} {
		if _, err := token.ParseSigningKey(k); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestHMACKey(t *testing.T) {
	if _, err := token.HMACKey(make([]byte, 31)); err == nil {
		t.Fatal("accepted a 31-byte secret")
	}
	secret := []byte(strings.Repeat("s", 32))
	k, err := token.HMACKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := token.HMACKey([]byte(strings.Repeat("s", 32)))
	k3, _ := token.HMACKey([]byte(strings.Repeat("t", 32)))
	if k.ID != k2.ID || k.ID == k3.ID || k.Alg != token.AlgHS256 {
		t.Fatalf("kid must be stable per secret and differ between secrets: %q %q %q", k.ID, k2.ID, k3.ID)
	}
	if strings.Contains(k.ID, "sss") {
		t.Fatal("kid shows the secret")
	}
	secret[0] = 'x'
	if k.Private.([]byte)[0] != 's' {
		t.Fatal("the key aliases the caller's secret")
	}
}

func pemOf(t testing.TB, typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestParsePEMKey(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rsaSK := newStoredKey(t, token.AlgRS256, t0, t0)
	rsaKey, _ := x509.ParsePKCS8PrivateKey(rsaSK.Private)
	rs := rsaKey.(*rsa.PrivateKey)
	rs1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}

	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pemOf(t, "PRIVATE KEY", der)
	}
	sec1, _ := x509.MarshalECPrivateKey(ec)
	// What `openssl ecparam -genkey` writes: parameters first, then the key.
	ecWithParams := append(pemOf(t, "EC PARAMETERS", []byte{6, 8, 42, 134, 72, 206, 61, 3, 1, 7}), pemOf(t, "EC PRIVATE KEY", sec1)...)

	good := []struct {
		alg string
		pem []byte
	}{
		{token.AlgES256, pkcs8(ec)},
		{token.AlgES256, ecWithParams},
		{token.AlgEdDSA, pkcs8(ed)},
		{token.AlgRS256, pkcs8(rs)},
		{token.AlgRS256, pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rs))},
	}
	for _, g := range good {
		k, err := token.ParsePEMKey(g.alg, g.pem)
		if err != nil {
			t.Errorf("%s: %v", g.alg, err)
			continue
		}
		if k.Alg != g.alg || len(k.ID) != 43 || k.Private == nil {
			t.Errorf("%s: key = %+v", g.alg, k)
		}
		// A PEM key is a working, fixed key: it signs and verifies.
		clk := newClock(t0)
		ks := token.NewKeySet(g.alg, []*token.Key{k}, clk.Now(), testTTL, 0)
		iss := &token.Issuer{Keys: token.StaticKeys(ks), Issuer: testIss, Audience: testAud, TTL: testTTL, Now: clk.Now}
		v := &token.Verifier{Keys: token.StaticKeys(ks), Issuer: testIss, Audience: testAud, Now: clk.Now}
		raw, _, err := iss.Issue(testClaims())
		if err == nil {
			_, err = v.Verify(raw)
		}
		if err != nil {
			t.Errorf("%s: %v", g.alg, err)
		}
	}
	// The same key read as PKCS #8 and as SEC 1 has the same kid.
	a, _ := token.ParsePEMKey(token.AlgES256, pkcs8(ec))
	b, _ := token.ParsePEMKey(token.AlgES256, ecWithParams)
	if a.ID != b.ID {
		t.Error("kid depends on the encoding")
	}

	bad := []struct {
		name, alg string
		pem       []byte
	}{
		{"EC key for EdDSA", token.AlgEdDSA, pkcs8(ec)},
		{"EC key for RS256", token.AlgRS256, pkcs8(ec)},
		{"Ed25519 key for ES256", token.AlgES256, pkcs8(ed)},
		{"RSA key for ES256", token.AlgES256, pkcs8(rs)},
		{"P-384 for ES256", token.AlgES256, pkcs8(ec384)},
		{"RSA 1024", token.AlgRS256, pkcs8(rs1024)},
		{"HS256", token.AlgHS256, pkcs8(ec)},
		{"public key", token.AlgES256, func() []byte { d, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey); return pemOf(t, "PUBLIC KEY", d) }()},
		{"encrypted", token.AlgES256, pemOf(t, "ENCRYPTED PRIVATE KEY", []byte{1, 2, 3})},
		{"not PEM", token.AlgES256, []byte("hello")},
		{"broken DER", token.AlgES256, pemOf(t, "PRIVATE KEY", []byte{1, 2, 3})},
	}
	for _, c := range bad {
		if _, err := token.ParsePEMKey(c.alg, c.pem); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
}
