package password

import "testing"

// benchPassword is what the benchmarks hash and verify.
const benchPassword = "bench pass-phrase 1"

func BenchmarkHashCost12(b *testing.B)   { benchHash(b, false) }
func BenchmarkVerifyCost12(b *testing.B) { benchVerify(b, false) }
func BenchmarkHashArgon2(b *testing.B)   { benchHash(b, true) }
func BenchmarkVerifyArgon2(b *testing.B) { benchVerify(b, true) }

// benchHasher is a one-worker hasher at the default cost, argon2id when
// argon2 is set.
func benchHasher(b *testing.B, argon2 bool) *Hasher {
	h := newHasher(b, DefaultCost, 1)
	h.Argon2 = argon2
	return h
}

func benchHash(b *testing.B, argon2 bool) {
	h := benchHasher(b, argon2)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(b.Context(), benchPassword); err != nil {
			b.Fatal(err)
		}
	}
}

func benchVerify(b *testing.B, argon2 bool) {
	h := benchHasher(b, argon2)
	hash, err := h.Hash(b.Context(), benchPassword)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := h.Verify(b.Context(), hash, benchPassword); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
