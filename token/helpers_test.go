package token_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jotauth/jot/token"
)

var (
	t0      = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	allAlgs = []string{token.AlgHS256, token.AlgES256, token.AlgEdDSA, token.AlgRS256}
	asyms   = []string{token.AlgES256, token.AlgEdDSA, token.AlgRS256}
)

const (
	testIss = "jot"
	testAud = "jot-api"
	testTTL = 15 * time.Minute
)

// clock is a settable time source shared by issuers, verifiers and keyrings.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *clock) Now() time.Time                  { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Add(d time.Duration)             { c.ns.Add(int64(d)) }
func (c *clock) Set(t time.Time)                 { c.ns.Store(t.UnixNano()) }
func (c *clock) After(d time.Duration) time.Time { return c.Now().Add(d) }

// rsaPool hands out pre-generated RSA keys: generating 2048-bit keys is the
// slowest thing these tests do, and a few distinct ones are enough.
var rsaPool = struct {
	sync.Mutex
	keys []*token.StoredKey
	next int
}{}

// newStoredKey returns a stored-form key of alg activating at activates.
func newStoredKey(t testing.TB, alg string, created, activates time.Time) *token.StoredKey {
	t.Helper()
	if alg == token.AlgRS256 {
		rsaPool.Lock()
		defer rsaPool.Unlock()
		i := rsaPool.next % 4
		rsaPool.next++
		if i >= len(rsaPool.keys) {
			sk, err := token.GenerateKey(alg, created, activates)
			if err != nil {
				t.Fatal(err)
			}
			rsaPool.keys = append(rsaPool.keys, sk)
		}
		sk := *rsaPool.keys[i]
		sk.CreatedAt, sk.ActivatesAt = created, activates
		return &sk
	}
	sk, err := token.GenerateKey(alg, created, activates)
	if err != nil {
		t.Fatal(err)
	}
	return sk
}

// newKey returns a parsed key of alg, active from t0.
func newKey(t testing.TB, alg string) *token.Key {
	t.Helper()
	if alg == token.AlgHS256 {
		secret := make([]byte, 32)
		rand.Read(secret)
		k, err := token.HMACKey(secret)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	k, err := token.ParseSigningKey(newStoredKey(t, alg, t0, t0))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type fixture struct {
	alg string
	clk *clock
	key *token.Key
	ks  *token.KeySet
	iss *token.Issuer
	ver *token.Verifier
}

func newFixture(t testing.TB, alg string) *fixture {
	t.Helper()
	clk := newClock(t0.Add(time.Hour))
	key := newKey(t, alg)
	ks := token.NewKeySet(alg, []*token.Key{key}, clk.Now(), testTTL, token.DefaultLeeway)
	src := token.StaticKeys(ks)
	return &fixture{
		alg: alg, clk: clk, key: key, ks: ks,
		iss: &token.Issuer{Keys: src, Issuer: testIss, Audience: testAud, TTL: testTTL, Now: clk.Now},
		ver: &token.Verifier{Keys: src, Issuer: testIss, Audience: testAud, Now: clk.Now},
	}
}

func testClaims() token.Claims {
	c := token.Claims{SessionID: "sess-1", Role: "user", Email: "ada@example.com"}
	c.Subject = "user-1"
	return c
}

func (f *fixture) issue(t testing.TB) string {
	t.Helper()
	raw, _, err := f.iss.Issue(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// wantReason fails unless err is a *token.Error with reason want.
func wantReason(t testing.TB, err error, want token.Reason) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want %s", want)
	}
	var te *token.Error
	if !errors.As(err, &te) {
		t.Fatalf("error %v is %T, not *token.Error", err, err)
	}
	if te.Reason != want {
		t.Fatalf("reason %s (%v); want %s", te.Reason, err, want)
	}
}

var b64 = base64.RawURLEncoding

// segments splits a token and decodes its header and payload.
func segments(t testing.TB, raw string) (header, payload map[string]any, sig []byte) {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments", len(parts))
	}
	dec := func(s string, v any) {
		b, err := b64.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		if v != nil {
			if err := json.Unmarshal(b, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	dec(parts[0], &header)
	dec(parts[1], &payload)
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	return header, payload, sig
}

func encJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b64.EncodeToString(b)
}

// memStore is an in-memory token.KeyStore: a test double for the interface,
// with a switch to make reads fail.
type memStore struct {
	mu      sync.Mutex
	keys    []*token.StoredKey
	secrets map[string][]byte
	fail    error
	reads   int
	servers map[string]token.KeyServer
}

func (m *memStore) SigningKeys(ctx context.Context) ([]*token.StoredKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	if m.fail != nil {
		return nil, m.fail
	}
	out := make([]*token.StoredKey, len(m.keys))
	for i, k := range m.keys {
		c := *k
		out[i] = &c
	}
	return out, nil
}

func (m *memStore) CreateSigningKey(ctx context.Context, k *token.StoredKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.keys {
		if e.KID == k.KID {
			return errors.New("duplicate kid")
		}
	}
	c := *k
	m.keys = append(m.keys, &c)
	return nil
}

func (m *memStore) CreateFirstSigningKey(ctx context.Context, k *token.StoredKey, now time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.keys {
		if e.Alg == k.Alg && !e.ActivatesAt.After(now) {
			return false, nil
		}
	}
	c := *k
	m.keys = append(m.keys, &c)
	return true, nil
}

func (m *memStore) DeleteSigningKey(ctx context.Context, kid string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys = slices.DeleteFunc(m.keys, func(k *token.StoredKey) bool { return k.KID == kid })
	return nil
}

func (m *memStore) RevokeSigningKey(ctx context.Context, kid string, at time.Time, _ ...token.RevokeNote) (time.Time, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range m.keys {
		if k.KID == kid {
			if !k.RevokedAt.IsZero() {
				return k.RevokedAt, true, nil
			}
			k.RevokedAt = at
			return at, false, nil
		}
	}
	return time.Time{}, false, errors.New("signing key not found")
}

func (m *memStore) RewriteSigningKeys(ctx context.Context, fn func(k *token.StoredKey) ([]byte, bool, error)) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, k := range m.keys {
		p, changed, err := fn(k)
		if err != nil {
			return 0, err
		}
		if changed {
			k.Private = p
			n++
		}
	}
	return n, nil
}

func (m *memStore) RecordKeyServer(ctx context.Context, r token.KeyServer, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.servers == nil {
		m.servers = map[string]token.KeyServer{}
	}
	m.servers[r.ID] = r
	for id, s := range m.servers {
		if s.ExpiresAt.Before(now) {
			delete(m.servers, id)
		}
	}
	return nil
}

func (m *memStore) KeyServerLimits(ctx context.Context, now time.Time) (time.Duration, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var age, ttl time.Duration
	for _, s := range m.servers {
		if !s.ExpiresAt.Before(now) {
			age, ttl = max(age, s.JWKSMaxAge), max(ttl, s.AccessTTL)
		}
	}
	return age, ttl, nil
}

func (m *memStore) Secret(ctx context.Context, name string, gen func() ([]byte, error)) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.secrets[name]; ok {
		return s, nil
	}
	s, err := gen()
	if err != nil {
		return nil, err
	}
	if m.secrets == nil {
		m.secrets = map[string][]byte{}
	}
	m.secrets[name] = s
	return s, nil
}

func (m *memStore) setFail(err error) {
	m.mu.Lock()
	m.fail = err
	m.mu.Unlock()
}

func (m *memStore) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.keys)
}

var _ token.KeyStore = (*memStore)(nil)
