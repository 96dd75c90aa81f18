package token_test

import (
	"strings"
	"testing"

	"github.com/jotauth/jot/token"
)

var benchAlgs = []string{token.AlgES256, token.AlgEdDSA, token.AlgHS256, token.AlgRS256}

// benchEachAlg runs bench for each algorithm with a fixture and a token
// it issued.
func benchEachAlg(b *testing.B, bench func(b *testing.B, f *fixture, raw string)) {
	for _, alg := range benchAlgs {
		b.Run(alg, func(b *testing.B) {
			f := newFixture(b, alg)
			raw := f.issue(b)
			b.ReportAllocs()
			bench(b, f, raw)
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	benchEachAlg(b, func(b *testing.B, f *fixture, raw string) {
		for b.Loop() {
			if _, err := f.ver.Verify(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerifyParallel shows that concurrent verifications share nothing
// they would wait on.
func BenchmarkVerifyParallel(b *testing.B) {
	benchEachAlg(b, func(b *testing.B, f *fixture, raw string) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := f.ver.Verify(raw); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkVerifyRefused measures the refusal paths an attacker can drive.
func BenchmarkVerifyRefused(b *testing.B) {
	f := newFixture(b, token.AlgES256)
	raw := f.issue(b)
	i := strings.LastIndexByte(raw, '.')
	cases := map[string]string{
		"garbage":     "a.b.c",
		"too long":    strings.Repeat("A", token.MaxTokenSize+1),
		"unknown kid": f.sign(b, map[string]any{"alg": token.AlgES256, "typ": "JWT", "kid": "nope"}, f.claims()),
		"bad sig":     raw[:i+1] + strings.Repeat("A", len(raw)-i-1),
	}
	for name, raw := range cases {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.ver.Verify(raw); err == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
}

func BenchmarkIssue(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg, func(b *testing.B) {
			f := newFixture(b, alg)
			c := testClaims()
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := f.iss.Issue(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
