package password

import "testing"

func BenchmarkHashCost12(b *testing.B) {
	h := newHasher(b, DefaultCost, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(b.Context(), "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyCost12(b *testing.B) {
	h := newHasher(b, DefaultCost, 1)
	hash, err := h.Hash(b.Context(), "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := h.Verify(b.Context(), hash, "correct horse battery staple"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkHashArgon2(b *testing.B) {
	h := newHasher(b, DefaultCost, 1)
	h.Argon2 = true
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(b.Context(), "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyArgon2(b *testing.B) {
	h := newHasher(b, DefaultCost, 1)
	h.Argon2 = true
	hash, err := h.Hash(b.Context(), "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := h.Verify(b.Context(), hash, "correct horse battery staple"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
