package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite"

	"github.com/jotauth/jot/token"
)

// makeKey writes the ES256 key jot signs with (JOT_JWT_KEY_FILE), so this
// program can mint the tokens of seeded users.
func makeKey(dir string) (string, *token.Issuer) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	check(err)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	check(err)
	b := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	path := filepath.Join(dir, "key.pem")
	check(os.WriteFile(path, b, 0o600))
	k, err := token.ParsePEMKey(token.AlgES256, b)
	check(err)
	ks := token.NewKeySet(token.AlgES256, []*token.Key{k}, time.Now(), time.Hour, 30*time.Second)
	return path, &token.Issuer{Keys: token.StaticKeys(ks), Issuer: "jot", Audience: "jot", TTL: time.Hour}
}

func userID(i int) string { return fmt.Sprintf("%08x-0000-7000-8000-%012x", i, i) }

func mintTokens(iss *token.Issuer, ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		c := token.Claims{SessionID: fmt.Sprintf("%08x-0001-7000-8000-%012x", i, i), Role: "user"}
		c.Subject = id
		raw, _, err := iss.Issue(c)
		check(err)
		out[i] = raw
	}
	return out
}

// verifyTime is one ES256 verification on one goroutine, in µs.
func verifyTime(iss *token.Issuer) float64 {
	raw := mintTokens(iss, []string{userID(1)})[0]
	v := &token.Verifier{Keys: iss.Keys, Issuer: "jot", Audience: "jot"}
	n := 0
	t0 := time.Now()
	for time.Since(t0) < time.Second {
		if _, err := v.Verify(raw); err != nil {
			log.Fatal(err)
		}
		n++
	}
	return float64(time.Since(t0).Microseconds()) / float64(n)
}

// seedUsers creates db (jot migrates it on a first start), then inserts
// the W1 users and, for W4, extra users and ended sessions in bulk,
// straight into SQLite. It returns the W1 users' ids.
func seedUsers(dir, db, keyFile string, n, extra int) []string {
	p := start(filepath.Join(dir, "jot"), []string{"JOT_DATABASE_URL=sqlite://" + db, "JOT_JWT_KEY_FILE=" + keyFile}, dir, "jot-migrate", "migrate")
	check(p.cmd.Wait())
	conn, err := sql.Open("sqlite", db+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)")
	check(err)
	defer conn.Close()
	now := time.Now()
	ns := now.UnixNano()
	exec1 := func(q string, args ...any) {
		if _, err := conn.Exec(q, args...); err != nil {
			log.Fatalf("seed: %v\n%s", err, q)
		}
	}
	// Generated inside SQLite with a recursive CTE: a million rows in
	// seconds, without a million round trips.
	exec1(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i+1 < ?)
		INSERT INTO users (id, email, name, role, disabled, password_hash, created_at, updated_at)
		SELECT printf('%08x-0000-7000-8000-%012x', i, i), 'u' || i || '@bench.example', '', 'user', 0, '', ?, ? FROM n`,
		n+extra, ns, ns)
	if extra > 0 {
		exp := now.Add(15 * time.Minute)
		exec1(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i+1 < ?)
			INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, access_exp, ended_at)
			SELECT printf('%08x-0002-7000-8000-%012x', i, i), printf('%08x-0000-7000-8000-%012x', ?+i, ?+i), ?, ?, ?, ?, ? FROM n`,
			extra, n, n, ns, ns, now.Add(24*time.Hour).UnixNano(), exp.UnixNano(), ns)
		exec1(`INSERT INTO revocations (session_id, exp, ended_at) SELECT id, access_exp, ended_at FROM sessions WHERE ended_at IS NOT NULL`)
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = userID(i)
	}
	return ids
}
