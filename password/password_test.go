package password

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// testCost keeps the suite fast; the default cost gets one test of its own.
const testCost = 10

// newHasher is New without its up-front dummy hashes, which would double
// the bcrypt work of most tests; VerifyDummy makes them on first use.
func newHasher(t testing.TB, cost, workers int) *Hasher {
	t.Helper()
	if err := checkCost(cost); err != nil {
		t.Fatal(err)
	}
	return &Hasher{Cost: cost, pool: NewPool(workers), dummies: make(map[dummyKey]string)}
}

func mustVerify(t *testing.T, h *Hasher, hash, password string) bool {
	t.Helper()
	ok, err := h.Verify(t.Context(), hash, password)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return ok
}

func TestNew(t *testing.T) {
	t.Parallel()
	for _, cost := range []int{0, 4, 9, 15, 31} {
		if _, err := New(cost, 1); err == nil {
			t.Errorf("New(%d, 1): no error, want one for a cost outside 10..14", cost)
		}
	}
	h, err := New(testCost, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.dummies) != 2 {
		t.Errorf("New made %d dummy hashes, want 2 (bcrypt and argon2id)", len(h.dummies))
	}
	if got, _ := h.Pool().Workers(); got != runtime.NumCPU() {
		t.Errorf("workers = %d with 0 asked, want runtime.NumCPU() = %d", got, runtime.NumCPU())
	}
	if h.Cost != testCost || h.Argon2 {
		t.Errorf("Cost, Argon2 = %d, %v; want %d, false", h.Cost, h.Argon2, testCost)
	}
}

func TestBcryptRoundTrip(t *testing.T) {
	t.Parallel()
	h := newHasher(t, testCost, 2)
	const pw = "correct horse battery staple"
	hash, err := h.Hash(t.Context(), pw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$2a$10$") || !IsBcrypt(hash) {
		t.Fatalf("Hash = %q, want a $2a$10$ bcrypt hash", hash)
	}
	if !mustVerify(t, h, hash, pw) {
		t.Error("Verify(right password) = false")
	}
	for _, wrong := range []string{"", "Correct horse battery staple"} {
		if mustVerify(t, h, hash, wrong) {
			t.Errorf("Verify(%q) = true", wrong)
		}
	}
	if h.NeedsRehash(hash) {
		t.Error("NeedsRehash of a fresh hash = true")
	}
	again, err := h.Hash(t.Context(), pw)
	if err != nil {
		t.Fatal(err)
	}
	if again == hash {
		t.Error("two hashes of one password are equal: salt not random")
	}
}

func TestBcryptDefaultCost(t *testing.T) {
	t.Parallel()
	if testing.Short() || raceEnabled {
		t.Skip("cost 12 is slow under -short and -race")
	}
	h := newHasher(t, DefaultCost, 1)
	hash, err := h.Hash(t.Context(), "password at the default cost")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$2a$12$") {
		t.Errorf("Hash = %q, want cost 12", hash)
	}
	if !mustVerify(t, h, hash, "password at the default cost") {
		t.Error("Verify(right password) = false")
	}
}

func TestArgon2RoundTrip(t *testing.T) {
	t.Parallel()
	h := newHasher(t, testCost, 2)
	h.Argon2 = true
	const pw = "pässwörd with ünïcode"
	hash, err := h.Hash(t.Context(), pw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("Hash = %q, want an argon2id PHC string with the default parameters", hash)
	}
	if !mustVerify(t, h, hash, pw) {
		t.Error("Verify(right password) = false")
	}
	if mustVerify(t, h, hash, "pässwörd with ünïcod") {
		t.Error("Verify(wrong password) = true")
	}
	if h.NeedsRehash(hash) {
		t.Error("NeedsRehash of a fresh argon2id hash = true")
	}
	// A Hasher configured for bcrypt still verifies it, and wants it migrated.
	b := newHasher(t, testCost, 1)
	if !mustVerify(t, b, hash, pw) {
		t.Error("bcrypt Hasher cannot verify an argon2id hash")
	}
	if !b.NeedsRehash(hash) {
		t.Error("bcrypt Hasher: NeedsRehash(argon2id hash) = false")
	}
}

// TestKnownAnswers checks hashes made by other implementations, so the
// scheme is checked against the world and not only against itself.
func TestKnownAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		source, hash, password string
	}{
		// PHP manual, password_verify and password_hash examples ($2y$).
		{"php password_verify", "$2y$07$BCryptRequires22Chrcte/VlQH0piJtjXl.0t1XkA8pw9dMXTpOq", "rasmuslerdorf"},
		{"php password_hash", "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a", "rasmuslerdorf"},
		// OpenWall crypt_blowfish test vectors.
		{"crypt_blowfish U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U"},
		{"crypt_blowfish 8-bit $2a$", "$2a$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq", "\xa3"},
		{"crypt_blowfish 8-bit $2b$", "$2b$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq", "\xa3"},
		{"crypt_blowfish 8-bit $2y$", "$2y$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq", "\xa3"},
		{"crypt_blowfish empty", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy", ""},
		// passlib's UTF-8 vector (U+0451), made on OpenBSD.
		{"passlib utf-8", "$2y$05$6bNw2HLQYeqHYyBfLMsv/OUcZd0LKP39b87nBw3.S2tVZSqiQX6eu", "ё"},
		// x/crypto/bcrypt's own test vector.
		{"x/crypto", "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga", "allmine"},
		// libsodium crypto_pwhash_str (PHP manual, sodium_crypto_pwhash_str example).
		{"libsodium", "$argon2id$v=19$m=65536,t=2,p=1$oWIfdaXwWwhVmovOBc2NAQ$EbsZ+JnZyyavkafS0hoc4HdaOB0ILWZESAZ7kVGa+Iw", "password"},
		// argon2-cffi README (reference C implementation).
		{"argon2-cffi", "$argon2id$v=19$m=65536,t=3,p=4$MIIRqgvgQbgj220jfp0MPA$YfwJSVjtjSU0zzV/P3S9nnQ/USre2wvJMjfCIjrTQbg", "correct horse battery staple"},
	}
	h := newHasher(t, testCost, 4)
	h.Argon2 = true // so that every fixture needs a rehash
	for _, tt := range tests {
		t.Run(tt.source, func(t *testing.T) {
			if !mustVerify(t, h, tt.hash, tt.password) {
				t.Errorf("Verify(%q, %q) = false, want true", tt.hash, tt.password)
			}
			if mustVerify(t, h, tt.hash, tt.password+"x") {
				t.Errorf("Verify(%q, %q+\"x\") = true, want false", tt.hash, tt.password)
			}
			if !h.NeedsRehash(tt.hash) {
				t.Errorf("NeedsRehash(%q) = false; the Hasher wants argon2id", tt.hash)
			}
		})
	}
}

// TestBcryptPrefixVariants checks the fixtures other stacks produce:
// PHP's password_hash writes $2y$, Node's bcrypt and bcryptjs write $2b$.
// For passwords of at most 72 bytes the variants differ only in the prefix,
// so a $2a$ hash with the prefix swapped is what those stacks would store.
func TestBcryptPrefixVariants(t *testing.T) {
	t.Parallel()
	h := newHasher(t, testCost, 2)
	const pw = "imported from an express app"
	hash, err := h.Hash(t.Context(), pw)
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		variant := prefix + hash[4:]
		if !IsBcrypt(variant) {
			t.Errorf("IsBcrypt(%s...) = false", prefix)
		}
		if !mustVerify(t, h, variant, pw) {
			t.Errorf("Verify(%s...) = false", prefix)
		}
		if prefix == "$2b$" && mustVerify(t, h, variant, "wrong password") {
			t.Errorf("Verify(%s..., wrong) = true", prefix)
		}
		if h.NeedsRehash(variant) {
			t.Errorf("NeedsRehash(%s...) = true; variants of the same cost are equivalent", prefix)
		}
	}
}

// TestVerifyNoTruncation: bcrypt compares only the first 72 bytes, so the
// crypt_blowfish vector matches its 72-byte prefix and, left alone, the
// full 98-byte password too. Verify refuses the latter.
func TestVerifyNoTruncation(t *testing.T) {
	t.Parallel()
	h := newHasher(t, testCost, 1)
	const hash = "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui"
	const first72 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	if len(first72) != 72 {
		t.Fatal("fixture is not 72 bytes")
	}
	if !mustVerify(t, h, hash, first72) {
		t.Error("Verify(72-byte password) = false")
	}
	if mustVerify(t, h, hash, first72+"chars after 72 are ignored") {
		t.Error("Verify(98-byte password whose first 72 bytes match) = true, want false")
	}
}

func TestHashTooLong(t *testing.T) {
	t.Parallel()
	h := newHasher(t, testCost, 1)
	_, err := h.Hash(t.Context(), strings.Repeat("a", 73))
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "password" || !errors.Is(err, ErrTooLong) {
		t.Errorf("Hash of 73 bytes: %v, want ErrTooLong", err)
	}
	h.Argon2 = true
	if _, err := h.Hash(t.Context(), strings.Repeat("a", 73)); err != nil {
		t.Errorf("argon2id Hash of 73 bytes: %v; argon2id has no length limit of its own", err)
	}
}

func TestVerifyMalformed(t *testing.T) {
	t.Parallel()
	const salt = "XajjQvNhvvRt5GSeFk1xFe"
	const digest = "yqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"
	tests := []string{
		"",
		"allmine",
		"$",
		"$2a$10$" + salt,                     // truncated
		"$2a$10$" + salt + digest + "x",      // trailing garbage
		" $2a$10$" + salt + digest,           // leading space
		"$2x$10$" + salt + digest,            // crypt_blowfish's buggy variant
		"$2c$10$" + salt + digest,            // no such variant
		"$2$10$" + salt + digest + "x",       // prehistoric, no minor letter
		"$2a$03$" + salt + digest,            // cost below bcrypt's minimum
		"$2a$17$" + salt + digest,            // cost above what Verify runs
		"$2a$1x$" + salt + digest,            // cost not a number
		"$2a$10$" + salt[:21] + "!" + digest, // not bcrypt base64
		"$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
		"$argon2id$v=16$m=65536,t=2,p=1$c29tZXNhbHRzYWx0$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
		"$argon2id$m=65536,t=2,p=1$c29tZXNhbHRzYWx0$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
		"$argon2id$v=19$m=65536,t=2,p=1$fake",
		"$argon2id$v=19$m=65536,t=2,p=0$c29tZXNhbHRzYWx0$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
		"$argon2id$v=19$m=4,t=2,p=1$c29tZXNhbHRzYWx0$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
		"$argon2id$v=19$m=65536,t=0,p=1$c29tZXNhbHRzYWx0$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
		"$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHRzYWx0$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
		"$argon2id$v=19$t=2,m=65536,p=1$c29tZXNhbHRzYWx0$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
		"$argon2id$v=19$m=065536,t=2,p=1$c29tZXNhbHRzYWx0$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
		"$argon2id$v=19$m=65536,t=2,p=1$c29tZQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",            // salt too short
		"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzYWx0$Rdesc",                             // key too short
		"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzYWx0$Rdescud*JCsgt3ub+b+dWRWJTmaaJObG",  // not base64
		"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzYWx0$RdescudvJCsgt3ub+b+dWRWJTmaaJObG$", // extra field
	}
	h := newHasher(t, testCost, 1)
	for _, hash := range tests {
		ok, err := h.Verify(t.Context(), hash, "allmine")
		if err == nil || ok {
			t.Errorf("Verify(%q) = %v, %v; want false and an error", hash, ok, err)
			continue
		}
		// Errors end up in logs; a hash must never be in one.
		if len(hash) > 12 && strings.Contains(err.Error(), hash[len(hash)-12:]) {
			t.Errorf("Verify(%q) error %q quotes the hash", hash, err)
		}
		if IsBcrypt(hash) {
			t.Errorf("IsBcrypt(%q) = true", hash)
		}
		if !h.NeedsRehash(hash) {
			t.Errorf("NeedsRehash(%q) = false for a hash that cannot verify", hash)
		}
	}
}

func TestIsBcrypt(t *testing.T) {
	t.Parallel()
	for _, hash := range []string{
		"$2a$04$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
		"$2b$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga",
		"$2y$16$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga",
	} {
		if !IsBcrypt(hash) {
			t.Errorf("IsBcrypt(%q) = false", hash)
		}
	}
	if IsBcrypt("$argon2id$v=19$m=65536,t=2,p=1$oWIfdaXwWwhVmovOBc2NAQ$EbsZ+JnZyyavkafS0hoc4HdaOB0ILWZESAZ7kVGa+Iw") {
		t.Error("IsBcrypt(argon2id hash) = true")
	}
}

func TestNeedsRehash(t *testing.T) {
	t.Parallel()
	h10 := newHasher(t, 10, 1)
	h12 := newHasher(t, 12, 1)
	hash10, err := h10.Hash(t.Context(), "password")
	if err != nil {
		t.Fatal(err)
	}
	if h10.NeedsRehash(hash10) {
		t.Error("cost 10 Hasher: NeedsRehash(cost 10 hash) = true")
	}
	if !h12.NeedsRehash(hash10) {
		t.Error("cost 12 Hasher: NeedsRehash(cost 10 hash) = false")
	}
	hash12 := "$2a$12$" + hash10[7:] // only the cost field matters here
	if !h10.NeedsRehash(hash12) {
		t.Error("cost 10 Hasher: NeedsRehash(cost 12 hash) = false; a lowered cost is a decision too")
	}
	if h12.NeedsRehash(hash12) {
		t.Error("cost 12 Hasher: NeedsRehash(cost 12 hash) = true")
	}

	h12.Argon2 = true
	if !h12.NeedsRehash(hash12) {
		t.Error("argon2id Hasher: NeedsRehash(bcrypt hash) = false")
	}
	libsodium := "$argon2id$v=19$m=65536,t=2,p=1$oWIfdaXwWwhVmovOBc2NAQ$EbsZ+JnZyyavkafS0hoc4HdaOB0ILWZESAZ7kVGa+Iw"
	if !h12.NeedsRehash(libsodium) {
		t.Error("argon2id Hasher: NeedsRehash(argon2id hash with other parameters) = false")
	}
	own, err := h12.Hash(t.Context(), "password")
	if err != nil {
		t.Fatal(err)
	}
	if h12.NeedsRehash(own) {
		t.Error("argon2id Hasher: NeedsRehash(own hash) = true")
	}
}

func TestVerifyDummy(t *testing.T) {
	t.Parallel()
	h := newHasher(t, testCost, 1)
	if err := h.VerifyDummy(t.Context(), "anything at all"); err != nil {
		t.Errorf("VerifyDummy: %v", err)
	}
	h.Cost = 11 // a new dummy of the new cost is made on first use
	if err := h.VerifyDummy(t.Context(), "anything at all"); err != nil {
		t.Errorf("VerifyDummy after a cost change: %v", err)
	}
	if d, _ := h.dummy(dummyKey{cost: 11}); !strings.HasPrefix(d, "$2a$11$") {
		t.Errorf("dummy for cost 11 = %q", d)
	}
	h.Argon2 = true
	if err := h.VerifyDummy(t.Context(), "anything at all"); err != nil {
		t.Errorf("VerifyDummy with argon2id: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := h.VerifyDummy(ctx, "anything"); !errors.Is(err, ErrBusy) {
		t.Errorf("VerifyDummy(canceled ctx) = %v, want ErrBusy", err)
	}
}

// occupy takes every worker of h until the returned func is called.
func occupy(t *testing.T, h *Hasher) (release func()) {
	t.Helper()
	n, _ := h.Pool().Workers()
	started := make(chan struct{}, n)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_ = h.pool.Run(context.Background(), func() {
				started <- struct{}{}
				<-done
			})
		})
	}
	for range n {
		<-started
	}
	return func() { close(done); wg.Wait() }
}

func TestPoolBusy(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testPoolBusy)
}

func testPoolBusy(t *testing.T) {
	h := newHasher(t, testCost, 1)
	hash, err := h.Hash(t.Context(), "password")
	if err != nil {
		t.Fatal(err)
	}
	release := occupy(t, h)

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.Verify(ctx, hash, "password"); !errors.Is(err, ErrBusy) {
		t.Errorf("Verify while the only worker is busy = %v, want ErrBusy", err)
	}
	if _, err := h.Hash(ctx, "password"); !errors.Is(err, ErrBusy) {
		t.Errorf("Hash with an ended ctx = %v, want ErrBusy", err)
	}

	// A waiter counts as pending, and gets its turn once the worker frees.
	result := make(chan bool)
	go func() {
		ok, err := h.Verify(t.Context(), hash, "password")
		result <- ok && err == nil
	}()
	synctest.Wait() // the waiter has queued
	if got := h.Pending(); got != 2 {
		t.Fatalf("Pending = %d, want 2 (one running, one queued)", got)
	}
	release()
	if !<-result {
		t.Error("queued Verify failed once the worker was free")
	}
	if got := h.Pending(); got != 0 {
		t.Errorf("Pending = %d when idle, want 0", got)
	}
}

func TestPoolCanceledNeverRuns(t *testing.T) {
	t.Parallel()
	h := newHasher(t, testCost, 1)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	ran := false
	if err := h.pool.Run(ctx, func() { ran = true }); !errors.Is(err, ErrBusy) || ran {
		t.Errorf("run(canceled ctx) = %v, ran = %v; want ErrBusy and not run, even with a free worker", err, ran)
	}
}

func TestPoolBoundsConcurrency(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testPoolBoundsConcurrency)
}

// testPoolBoundsConcurrency runs in a synctest bubble: each hash takes 2 ms
// of fake time, so they overlap as real ones would.
func testPoolBoundsConcurrency(t *testing.T) {
	const workers = 3
	h := newHasher(t, testCost, workers)
	var running, most atomic.Int64
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			_ = h.pool.Run(t.Context(), func() {
				n := running.Add(1)
				for {
					m := most.Load()
					if n <= m || most.CompareAndSwap(m, n) {
						break
					}
				}
				time.Sleep(2 * time.Millisecond)
				running.Add(-1)
			})
		})
	}
	wg.Wait()
	if got := most.Load(); got > workers {
		t.Errorf("%d ran at once, want at most %d", got, workers)
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	h := newHasher(t, testCost, 4)
	hash, err := h.Hash(t.Context(), "password")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			if i%2 == 0 {
				if ok, err := h.Verify(t.Context(), hash, "password"); !ok || err != nil {
					t.Errorf("Verify = %v, %v", ok, err)
				}
			} else if err := h.VerifyDummy(t.Context(), "password"); err != nil {
				t.Errorf("VerifyDummy = %v", err)
			}
		})
	}
	wg.Wait()
}

// A padded verification answers as Verify does; the dummies it pads with
// exist for every cost that verifies and never match.
func TestVerifyPadded(t *testing.T) {
	t.Parallel()
	h := newHasher(t, testCost, 1)
	hash, err := h.Hash(t.Context(), "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := h.VerifyPadded(t.Context(), hash, "correct horse", 11, false); !ok || err != nil {
		t.Errorf("right password: %v, %v", ok, err)
	}
	if ok, err := h.VerifyPadded(t.Context(), hash, "correct horse", 11, true); !ok || err != nil {
		t.Errorf("right password, padded anyway: %v, %v", ok, err)
	}
	if ok, err := h.VerifyPadded(t.Context(), hash, "wrong horse", 11, false); ok || err != nil {
		t.Errorf("wrong password: %v, %v", ok, err)
	}
	if ok, err := h.VerifyPadded(t.Context(), "not a hash", "wrong horse", 0, false); ok || err == nil {
		t.Errorf("malformed hash: %v, %v", ok, err)
	}
	if err := h.VerifyDummyAt(t.Context(), "anything", 0); err != nil {
		t.Errorf("VerifyDummyAt: %v", err)
	}
	for c := 10; c <= 16; c++ {
		d, err := h.dummy(dummyKey{cost: c})
		if err != nil || HashCost(d) != c {
			t.Errorf("dummy of cost %d: %q, %v", c, d, err)
		}
	}
	if _, err := h.dummy(dummyKey{cost: 17}); err == nil {
		t.Error("a dummy of cost 17, which would not verify")
	}
	if h.ceiling(0) != testCost || h.ceiling(20) != 16 || h.ceiling(13) != 13 {
		t.Errorf("ceilings %d %d %d", h.ceiling(0), h.ceiling(20), h.ceiling(13))
	}
}

// TestCommonListSize checks the embedded list holds at least the 10,000
// passwords the policy promises, each in the form Common compares.
func TestCommonListSize(t *testing.T) {
	t.Parallel()
	list := commonSorted()
	if len(list) < 10000 {
		t.Fatalf("common list has %d passwords, want at least 10000", len(list))
	}
	for i, pw := range list {
		if pw != strings.ToLower(pw) || chars(pw) < MinChars || len(pw) > MaxBytes || (i > 0 && list[i-1] >= pw) {
			t.Fatalf("entry %d %q: want lower-case, 8 to 72 bytes, sorted and unique", i, pw)
		}
	}
}
