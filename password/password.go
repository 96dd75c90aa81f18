// Package password hashes and verifies user passwords and holds the password
// policy.
//
// New passwords are hashed with bcrypt (or argon2id when configured); stored
// hashes of either scheme verify, including bcrypt hashes imported from other
// systems ($2a$, $2b$, $2y$). Every hash and verification runs in a bounded
// pool (Pool), because login is dominated by hashing on purpose and a flood
// of logins must queue rather than starve the rest of the process of CPU;
// the pool serves logins, signups and password changes in turn, so a flood
// of one kind does not hold up the others.
package password

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// MinCost, MaxCost and DefaultCost are the bcrypt costs a Hasher accepts for
// new hashes. Below 10 is too cheap to slow down an offline attack on a
// leaked database; above 14 a single login takes seconds.
const (
	MinCost     = 10 // MinCost is the lowest cost New accepts.
	MaxCost     = 14 // MaxCost is the highest cost New accepts.
	DefaultCost = 12 // DefaultCost is JOT_BCRYPT_COST's default.
)

// Hasher hashes and verifies passwords in a bounded pool of workers.
// Create it with New. Cost and Argon2 may be changed after New but not while
// the Hasher is in use.
type Hasher struct {
	// Cost is the bcrypt cost of new hashes, MinCost to MaxCost.
	Cost int
	// Argon2 makes new hashes argon2id (with fixed, OWASP-recommended
	// parameters) instead of bcrypt. Stored hashes of either scheme still
	// verify; NeedsRehash reports the ones to migrate.
	Argon2 bool

	pool *Pool

	mu      sync.Mutex
	dummies map[dummyKey]string
}

// dummyKey names one configuration of a Hasher; VerifyDummy needs a hash
// that costs exactly what a real one of the current configuration costs.
type dummyKey struct {
	argon2 bool
	cost   int
}

// New returns a Hasher that hashes new passwords with bcrypt at the given
// cost and runs at most workers hashes at a time (runtime.NumCPU() when
// workers is 0 or less). A cost outside MinCost..MaxCost is an error.
func New(cost, workers int) (*Hasher, error) {
	if err := checkCost(cost); err != nil {
		return nil, err
	}
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	h := &Hasher{Cost: cost, pool: NewPool(workers), dummies: make(map[dummyKey]string)}
	// Made now, not on the first unknown-email login, so that login is not
	// the one that pays for it (and stands out by its timing).
	for _, k := range []dummyKey{{argon2: false, cost: cost}, {argon2: true}} {
		if _, err := h.dummy(k); err != nil {
			return nil, err
		}
	}
	return h, nil
}

func checkCost(cost int) error {
	if cost < MinCost || cost > MaxCost {
		return fmt.Errorf("password: bcrypt cost must be %d to %d, got %d", MinCost, MaxCost, cost)
	}
	return nil
}

// Hash returns the hash of password in the configured scheme. It does not
// apply the policy (call Validate for that) except bcrypt's hard limit: a
// password over 72 bytes gets the same validation error as from Validate,
// because bcrypt would silently ignore the rest. It returns ErrBusy if ctx
// ends while waiting for a worker.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	useArgon2, cost := h.Argon2, h.Cost
	if !useArgon2 {
		if err := checkCost(cost); err != nil {
			return "", err
		}
		if len(password) > MaxBytes {
			return "", tooLong()
		}
	}
	var (
		hash string
		err  error
	)
	if perr := h.pool.Run(ctx, func() {
		if useArgon2 {
			hash, err = hashArgon2(password, defaultArgon2)
			return
		}
		var b []byte
		b, err = bcrypt.GenerateFromPassword([]byte(password), cost)
		hash = string(b)
	}); perr != nil {
		return "", perr
	}
	if err != nil {
		return "", fmt.Errorf("password: hash: %w", err)
	}
	return hash, nil
}

// Verify reports whether password matches hash, a bcrypt ($2a$, $2b$, $2y$)
// or argon2id (PHC string) hash. A mismatch is (false, nil); a hash that is
// neither scheme or is malformed is an error. A password over 72 bytes never
// matches a bcrypt hash, even though bcrypt itself would compare only its
// first 72 bytes: accepting it would be the silent truncation the policy
// rules out. It returns ErrBusy if ctx ends while waiting for a worker.
func (h *Hasher) Verify(ctx context.Context, hash, password string) (bool, error) {
	cmp, err := comparer(hash)
	if err != nil {
		return false, err
	}
	var ok bool
	if perr := h.pool.Run(ctx, func() { ok, err = cmp(password) }); perr != nil {
		return false, perr
	}
	return ok, err
}

// comparer parses hash once, before a worker is taken, so a malformed hash
// fails fast and never occupies the pool.
func comparer(hash string) (func(password string) (bool, error), error) {
	if _, ok := parseBcrypt(hash); ok {
		return func(password string) (bool, error) {
			err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
			switch {
			case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
				return false, nil
			case err != nil:
				return false, fmt.Errorf("password: verify bcrypt hash: %w", err)
			}
			// Checked after the comparison so an over-long password costs
			// the same time as any other wrong one.
			return len(password) <= MaxBytes, nil
		}, nil
	}
	a, err := parseArgon2(hash)
	if err != nil {
		return nil, err
	}
	return a.verify, nil
}

// NeedsRehash reports whether hash should be replaced by a new hash of the
// same password (done at the next successful login): it is of another
// scheme than the configured one, has another bcrypt cost (lower or
// higher) or other argon2id parameters, or cannot be parsed at all.
func (h *Hasher) NeedsRehash(hash string) bool {
	if h.Argon2 {
		a, err := parseArgon2(hash)
		return err != nil || a.params != defaultArgon2
	}
	cost, ok := parseBcrypt(hash)
	return !ok || cost != h.Cost
}

// VerifyDummy verifies password against a hash of a random password made in
// the configured scheme and cost, and discards the result. Call it when a
// login names an unknown email, so that it costs the same time (and the same
// place in the pool) as a wrong password for a known one.
//
// It returns ErrBusy under the same conditions as Verify, so that a caller
// can answer an unknown email exactly as it answers a known one under load.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	hash, err := h.dummy(dummyKey{argon2: h.Argon2, cost: h.costKey()})
	if err != nil {
		return err
	}
	_, err = h.Verify(ctx, hash, password)
	return err
}

// VerifyPadded is Verify for a login, whose answer must not tell which
// emails have accounts: when the answer is a failure (a mismatch, an
// unusable hash, or any answer at all when always is set, for a disabled
// account) the work is padded to what a comparison at bcrypt cost ceiling
// costs, which is what VerifyDummyAt costs for an unknown email. A bcrypt
// hash of cost c is padded by one dummy comparison at each cost c..ceiling-1
// (2^c + 2^c + ... + 2^(ceiling-1) = 2^ceiling units of work), so a hash
// imported at a cheaper cost, or made before the configured cost was
// raised, answers a wrong password in the same time as any other. A hash
// dearer than ceiling gets no padding; the caller's ceiling is the highest
// cost stored, so there is none. An argon2id hash is padded by one dummy
// bcrypt comparison at ceiling, and with Argon2 configured every path,
// unknown emails included, does one argon2id comparison (real or dummy):
// so argon2id and bcrypt accounts cost the same when Argon2 is configured,
// and an argon2id hash left over from it is never cheaper than an unknown
// email once it is not. ceiling is raised to Cost when lower and capped at
// 16, the dearest cost that verifies.
//
// The comparison and its padding run on one worker, one after the other,
// like the single comparison of an unknown email.
func (h *Hasher) VerifyPadded(ctx context.Context, hash, password string, ceiling int, always bool) (bool, error) {
	ceiling = h.ceiling(ceiling)
	cmp, err := comparer(hash)
	if err != nil {
		// Unusable: the caller answers a failure, in a failure's time.
		if derr := h.VerifyDummyAt(ctx, password, ceiling); derr != nil {
			return false, derr
		}
		return false, err
	}
	var pads []string
	if cost, ok := parseBcrypt(hash); ok {
		for c := cost; c < ceiling; c++ {
			d, err := h.dummy(dummyKey{cost: c})
			if err != nil {
				return false, err
			}
			pads = append(pads, d)
		}
		if h.Argon2 {
			d, err := h.dummy(dummyKey{argon2: true})
			if err != nil {
				return false, err
			}
			pads = append(pads, d)
		}
	} else {
		d, err := h.dummy(dummyKey{cost: ceiling})
		if err != nil {
			return false, err
		}
		pads = append(pads, d)
	}
	var ok bool
	if perr := h.pool.Run(ctx, func() {
		ok, err = cmp(password)
		if ok && err == nil && !always {
			// A success needs no padding: it tells only the caller, who
			// knows the password, that the account exists.
			return
		}
		for _, d := range pads {
			_ = bcryptOrArgon2Compare(d, password)
		}
	}); perr != nil {
		return false, perr
	}
	return ok, err
}

// VerifyDummyAt does, for a login naming an unknown email, the work of a
// failed VerifyPadded with the same ceiling: one comparison against a dummy
// bcrypt hash of cost ceiling (raised to Cost when lower, capped at 16),
// and with Argon2 configured one against a dummy argon2id hash as well.
func (h *Hasher) VerifyDummyAt(ctx context.Context, password string, ceiling int) error {
	d, err := h.dummy(dummyKey{cost: h.ceiling(ceiling)})
	if err != nil {
		return err
	}
	dummies := []string{d}
	if h.Argon2 {
		a, err := h.dummy(dummyKey{argon2: true})
		if err != nil {
			return err
		}
		dummies = append(dummies, a)
	}
	return h.pool.Run(ctx, func() {
		for _, d := range dummies {
			_ = bcryptOrArgon2Compare(d, password)
		}
	})
}

// ceiling is the cost a failed check is padded to: at least the configured
// cost, at most the dearest cost that verifies.
func (h *Hasher) ceiling(c int) int {
	c = max(c, h.Cost)
	return min(max(c, bcrypt.MinCost), maxVerifyCost)
}

// bcryptOrArgon2Compare compares password with a dummy hash made by dummy,
// for its cost alone.
func bcryptOrArgon2Compare(hash, password string) bool {
	cmp, err := comparer(hash)
	if err != nil {
		return false
	}
	ok, _ := cmp(password)
	return ok
}

// HashCost returns the bcrypt cost of hash, or 0 for a hash that is not a
// bcrypt hash this package verifies (argon2id, malformed).
func HashCost(hash string) int {
	c, _ := parseBcrypt(hash)
	return c
}

func (h *Hasher) costKey() int {
	if h.Argon2 {
		return 0
	}
	return h.Cost
}

// dummy returns the dummy hash for k, making it on first use. The lock is
// held while hashing so concurrent first uses make it once.
func (h *Hasher) dummy(k dummyKey) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if d, ok := h.dummies[k]; ok {
		return d, nil
	}
	var d string
	if k.argon2 {
		var err error
		if d, err = hashArgon2(rand.Text(), defaultArgon2); err != nil {
			return "", fmt.Errorf("password: dummy hash: %w", err)
		}
	} else {
		if k.cost < bcrypt.MinCost || k.cost > maxVerifyCost {
			return "", fmt.Errorf("password: no dummy hash of bcrypt cost %d", k.cost)
		}
		// A hash made at the cheapest cost with its cost field raised: a
		// comparison against it does the full work of cost k.cost (the
		// cost is read from the hash) and never matches, since the digest
		// is of another cost. Made in a millisecond, so a dummy of any cost
		// (up to 16, about 4 s a comparison) is there when first needed.
		b, err := bcrypt.GenerateFromPassword([]byte(rand.Text()), bcrypt.MinCost)
		if err != nil {
			return "", fmt.Errorf("password: dummy hash: %w", err)
		}
		d = fmt.Sprintf("%s%02d%s", b[:4], k.cost, b[6:])
	}
	h.dummies[k] = d
	return d, nil
}

// Pending returns how many hashes and verifications are queued or running,
// for metrics.
func (h *Hasher) Pending() int { return h.pool.Pending() }

// Pool returns the pool the Hasher's work runs in, for a server to tell it
// which of its requests are not hashing ones (Pool.Foreground).
func (h *Hasher) Pool() *Pool { return h.pool }
