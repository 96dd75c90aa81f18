package guard_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jotauth/jot/guard"
	"github.com/jotauth/jot/token"
)

// constVerifier accepts one token without any cryptography, so that
// BenchmarkRequire measures guard alone: extraction, revocation check,
// Principal and context.
type constVerifier struct {
	raw    string
	claims *token.Claims
}

func (v constVerifier) Verify(raw string) (*token.Claims, error) {
	if raw != v.raw {
		return nil, &token.Error{Reason: token.ReasonInvalid}
	}
	return v.claims, nil
}

func BenchmarkRequire(b *testing.B) {
	const raw = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhbGljZSJ9.c2ln"
	revoked := guard.NewRevocationSet()
	for i := range 1000 {
		revoked.Add("ended-"+string(rune('a'+i%26))+string(rune(i)), farFuture)
	}
	v := constVerifier{raw: raw, claims: claims("alice", "s-alice", "user")}
	h := guard.Require(guard.JWT(v, guard.JWTOptions{Revocations: revoked}))(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, ok := guard.FromContext(r.Context()); !ok {
				b.Fatal("no principal")
			}
		}))

	b.Run("ok", func(b *testing.B) {
		r := httptest.NewRequest("GET", "/v1/things", nil)
		r.Header.Set("Authorization", "Bearer "+raw)
		w := httptest.NewRecorder()
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(w, r)
		}
	})
	b.Run("ok-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			r := httptest.NewRequest("GET", "/v1/things", nil)
			r.Header.Set("Authorization", "Bearer "+raw)
			w := httptest.NewRecorder()
			for pb.Next() {
				h.ServeHTTP(w, r)
			}
		})
	})
	b.Run("missing", func(b *testing.B) {
		r := httptest.NewRequest("GET", "/v1/things", nil)
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(httptest.NewRecorder(), r)
		}
	})
}
