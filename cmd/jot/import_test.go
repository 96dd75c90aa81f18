package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/internal/jottest"
	"github.com/jotauth/jot/sqlite"
	"golang.org/x/crypto/bcrypt"
)

// importHashes makes bcrypt hashes at the given cost in the $2b$ spelling
// of Node's bcrypt: the variants share one algorithm, so swapping the
// prefix of x/crypto's $2a$ yields what a Node app would have stored.
// Cost 10 is what an Express tutorial uses; tests that never verify the
// hashes use the cheapest cost, as hashing is slow under the race detector.
func importHashes(t *testing.T, cost int, passwords ...string) []string {
	t.Helper()
	out := make([]string, len(passwords))
	for i, pw := range passwords {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = "$2b$" + strings.TrimPrefix(string(h), "$2a$")
	}
	return out
}

// importSomeHash is a well-formed $2b$ hash at cost 10, for the parser
// tests, which never verify it.
const importSomeHash = "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"

func TestImportParseArrayLines(t *testing.T) {
	data := []byte(`[
  {
    "id": 1,
    "name": "Ada",
    "email": " Ada@Example.com ",
    "password": "` + importSomeHash + `"
  },
  {"id": 2, "email": "bob@example.com", "password_hash": "` + importSomeHash + `", "role": "admin", "created_at": "2020-01-01"}
]
`)
	recs, err := importParse(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	if r := recs[0]; r.line != 2 || r.email != "ada@example.com" || r.name != "Ada" || r.role != jot.RoleUser || r.hash != importSomeHash {
		t.Errorf("record 1: %+v", r)
	}
	if r := recs[1]; r.line != 8 || r.email != "bob@example.com" || r.role != jot.RoleAdmin || r.hash != importSomeHash {
		t.Errorf("record 2: %+v", r)
	}
}

func TestImportParseJSONLines(t *testing.T) {
	data := []byte("\xef\xbb\xbf" + `{"email": "a@example.com", "password": "` + importSomeHash + `"}

{"email": "b@example.com", "password": "` + importSomeHash + `", "name": "B"}
`)
	recs, err := importParse(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].line != 1 || recs[1].line != 3 || recs[1].name != "B" {
		t.Fatalf("records %+v", recs)
	}
}

func TestImportParseProblems(t *testing.T) {
	rec := func(fields string) string { return "{" + fields + "}\n" }
	h := `"password": "` + importSomeHash + `"`
	tests := []struct {
		name string
		data string
		want []string
	}{
		{"duplicate in array", "[\n" + rec(`"email": "a@example.com", `+h) + ",\n" + rec(`"email": "b@example.com", `+h) + "," + rec(`"email": "A@example.com", `+h) + "]",
			[]string{"line 5: duplicate of line 2; nothing imported"}},
		{"duplicate in lines", rec(`"email": "a@example.com", `+h) + rec(`"email": "b@example.com", `+h) + rec(`"email": "a@example.com", `+h),
			[]string{"line 3: duplicate of line 1"}},
		{"missing email", rec(h), []string{"line 1: email is required"}},
		{"bad email", rec(`"email": "not an email", ` + h), []string{`line 1: email "not an email" must be a valid email address`}},
		{"email not a string", rec(`"email": 7, ` + h), []string{"line 1: email must be a string"}},
		{"missing hash", rec(`"email": "a@example.com"`), []string{"line 1: the bcrypt hash is required"}},
		{"plaintext", rec(`"email": "a@example.com", "password": "hunter2hunter2"`), []string{"line 1: the password is not a bcrypt hash"}},
		{"2x hash", rec(`"email": "a@example.com", "password": "$2x$` + importSomeHash[4:] + `"`), []string{"line 1: the password is not a bcrypt hash"}},
		{"hashes differ", rec(`"email": "a@example.com", ` + h + `, "password_hash": "$2a$` + importSomeHash[4:] + `"`), []string{"line 1: password and password_hash differ"}},
		{"cost too low", rec(`"email": "a@example.com", "password": "$2b$09$` + importSomeHash[7:] + `"`), []string{"line 1: bcrypt cost 9 is outside 10 to 14"}},
		{"cost too high", "[\n" + rec(`"email": "a@example.com", `+h) + ",\n" + rec(`"email": "b@example.com", "password": "$2a$15$`+importSomeHash[7:]+`"`) + "]",
			[]string{"line 4: bcrypt cost 15 is outside 10 to 14; reset this user's password instead; nothing imported"}},
		{"bad role", rec(`"email": "a@example.com", "role": "root", ` + h), []string{`line 1: role "root" must be`}},
		{"not an object", "[\n  1\n]", []string{"line 2: not a JSON object"}},
		{"syntax", "[\n" + rec(`"email": "a@example.com", `+h) + ",\n{\"email\": }\n]", []string{"line 4: invalid JSON"}},
		{"truncated", "[\n" + rec(`"email": "a@example.com", `+h), []string{"invalid JSON: unexpected end of file"}},
		{"after array", "[]\n[]", []string{"line 2: unexpected data after the array"}},
		{"empty", "  \n", []string{"the file is empty"}},
		{"every problem", rec(`"email": "a@example.com"`) + rec(`"email": "b@example.com", `+h) + rec(`"email": "B@example.com", `+h),
			[]string{"2 bad records; nothing imported:", "\n  line 1: the bcrypt hash is required", "\n  line 3: duplicate of line 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := importParse([]byte(tt.data))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), importSomeHash[7:]) {
				t.Errorf("error %q quotes the hash", err)
			}
		})
	}
}

// importBuilt is the jot binary the subprocess tests run, built once.
var importBuilt struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// importCleanup removes the binary; TestMain calls it.
func importCleanup() {
	if importBuilt.dir != "" {
		os.RemoveAll(importBuilt.dir)
	}
}

// importBinary builds ./cmd/jot once per test run. It builds with -race
// when the test binary has it, so the packages compiled for the test are
// reused from the build cache instead of compiled a second time.
func importBinary(t *testing.T) string {
	t.Helper()
	importBuilt.once.Do(func() {
		dir, err := os.MkdirTemp("", "jot-import-test-")
		if err != nil {
			importBuilt.err = err
			return
		}
		importBuilt.dir = dir
		importBuilt.path = filepath.Join(dir, "jot")
		args := []string{"build", "-o", importBuilt.path}
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "-race" && s.Value == "true" {
					args = append(args, "-race")
				}
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", append(args, ".")...).CombinedOutput()
		if err != nil {
			importBuilt.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if importBuilt.err != nil {
		t.Fatal(importBuilt.err)
	}
	return importBuilt.path
}

// importRun runs the jot binary in an empty directory (so no stray .env is
// read) with only the JOT_* settings given, and returns its exit code and
// output.
func importRun(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return binRun(t, "", env, "", args...)
}

// importDB is a fresh SQLite database for the CLI and a server to share.
type importDB struct {
	dsn string
	env []string
}

func newImportDB(t *testing.T) *importDB {
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "jot.db")
	return &importDB{dsn: dsn, env: []string{"JOT_DATABASE_URL=" + dsn, "JOT_BCRYPT_COST=11"}}
}

// importFile writes content to a file in a temporary directory.
func importFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// importServer starts a jot server over the database, hashing at cost 11,
// and returns its URL and its store.
func importServer(t *testing.T, db *importDB) (string, jot.Store) {
	t.Helper()
	cfg := jottest.Config(t)
	cfg.DatabaseURL = db.dsn
	cfg.BcryptCost = 11
	app, st := jottest.Start(t, cfg, nil)
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close)
	return srv.URL, st
}

// importOpen opens the database as the server would, without a server.
func importOpen(t *testing.T, db *importDB) jot.Store {
	t.Helper()
	st, err := sqlite.OpenURL(context.Background(), db.dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// importLogin logs in through the HTTP API and returns the status.
func importLogin(t *testing.T, url, email, pw string) int {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": pw})
	res, err := http.Post(url+"/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// importCount returns how many users the database holds.
func importCount(t *testing.T, st jot.Store) int {
	t.Helper()
	users, err := st.ListUsers(context.Background(), jot.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return len(users)
}

// The users file of an Express + Passport tutorial app, as it stores it:
// a pretty-printed array, numeric ids, $2b$ hashes at cost 10. The users
// log in with their original passwords, and the first login upgrades the
// hash to the configured cost (11 here).
func TestImportExpressUsersLogIn(t *testing.T) {
	t.Parallel()
	db := newImportDB(t)
	pws := []string{"tutorial-password-1", "tutorial-password-2"}
	h := importHashes(t, 10, pws...)
	file := importFile(t, "users.json", fmt.Sprintf(`[
  {
    "id": 1,
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "password": %q
  },
  {
    "id": 2,
    "name": "Bob",
    "email": "Bob@Example.com",
    "password": %q
  }
]
`, h[0], h[1]))

	code, out, errOut := importRun(t, db.env, "users", "import", file)
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	if strings.TrimSpace(out) != "imported 2 users" {
		t.Errorf("stdout %q, want the summary line", out)
	}

	url, st := importServer(t, db)
	for i, email := range []string{"ada@example.com", "bob@example.com"} {
		if got := importLogin(t, url, email, pws[i]); got != http.StatusOK {
			t.Errorf("login %s with the original password: %d", email, got)
		}
	}
	// The login path skips the upgrade when its hashing budget is spent
	// (it then waits for the next login), which a loaded machine running
	// the race detector can cause; so a few logins are allowed for it.
	var u *jot.User
	for i := 0; ; i++ {
		var err error
		if u, err = st.UserByEmail(context.Background(), "ada@example.com"); err != nil {
			t.Fatal(err)
		}
		cost, err := bcrypt.Cost([]byte(u.PasswordHash))
		if err == nil && cost == 11 {
			break
		}
		if i == 3 {
			t.Fatalf("stored hash cost %d (%v) after %d logins, want 11", cost, err, i+1)
		}
		t.Logf("login %d left the hash at cost %d; logging in again", i+1, cost)
		if got := importLogin(t, url, "ada@example.com", pws[0]); got != http.StatusOK {
			t.Fatalf("login again: %d", got)
		}
	}
	if u.Name != "Ada Lovelace" || u.Role != jot.RoleUser || !jot.ValidID(u.ID) {
		t.Errorf("imported user %+v", u)
	}
}

func TestImportDuplicateImportsNothing(t *testing.T) {
	t.Parallel()
	db := newImportDB(t)
	h := importHashes(t, 10, "first-password", "second-password")
	file := importFile(t, "users.json", fmt.Sprintf(`[
  {"id": 1, "name": "Ada", "email": "ada@example.com", "password": %q},
  {"id": 2, "name": "Bob", "email": "bob@example.com", "password": %q},
  {"id": 3, "name": "Ada again", "email": "ADA@example.com", "password": %q}
]`, h[0], h[1], h[1]))

	code, out, errOut := importRun(t, db.env, "users", "import", file)
	if code == 0 {
		t.Fatalf("exit 0 for a file with a duplicate: %s", out)
	}
	if !strings.Contains(errOut, "line 4: duplicate of line 2") || !strings.Contains(errOut, "nothing imported") {
		t.Errorf("stderr %q does not name the duplicate's line", errOut)
	}
	// The same file with --skip-existing still fails: that flag is about
	// the database, not about a file that contradicts itself.
	if code, _, errOut := importRun(t, db.env, "users", "import", "--skip-existing", file); code == 0 || !strings.Contains(errOut, "line 4: duplicate of line 2") {
		t.Errorf("--skip-existing: exit %d, stderr %q", code, errOut)
	}
	if n := importCount(t, importOpen(t, db)); n != 0 {
		t.Errorf("%d users in the database, want none", n)
	}
}

func TestImportExistingAllOrNothing(t *testing.T) {
	t.Parallel()
	db := newImportDB(t)
	h := importHashes(t, 10, "first-password", "second-password", "third-password")
	// JSON Lines, with the hash under password_hash.
	first := importFile(t, "first.jsonl", fmt.Sprintf(`{"email": "ada@example.com", "password_hash": %q, "role": "admin"}
`, h[0]))
	if code, out, errOut := importRun(t, db.env, "users", "import", first); code != 0 || strings.TrimSpace(out) != "imported 1 user" {
		t.Fatalf("first import: exit %d: %s%s", code, out, errOut)
	}

	second := importFile(t, "second.jsonl", fmt.Sprintf(`{"email": "bob@example.com", "password_hash": %q}
{"email": "Ada@Example.com", "password_hash": %q}
{"email": "carol@example.com", "password_hash": %q, "name": "Carol"}
`, h[1], h[1], h[2]))
	code, out, errOut := importRun(t, db.env, "users", "import", second)
	if code == 0 {
		t.Fatalf("exit 0 with a registered email: %s", out)
	}
	if !strings.Contains(errOut, "line 2: email ada@example.com is already registered") {
		t.Errorf("stderr %q does not name the registered email's line", errOut)
	}
	st := importOpen(t, db)
	if _, err := st.UserByEmail(context.Background(), "bob@example.com"); jot.ErrorCode(err) != jot.ENOTFOUND {
		t.Errorf("a record of the refused file was imported: %v", err)
	}

	code, out, errOut = importRun(t, db.env, "users", "import", "--skip-existing", second)
	if code != 0 {
		t.Fatalf("--skip-existing: exit %d: %s%s", code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || lines[1] != "imported 2 users, skipped 1 existing" {
		t.Errorf("stdout %q", out)
	}
	// The skipped record is named with the account it ran into.
	ada, err := st.UserByEmail(context.Background(), "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	wantSkip := "skipped line 2: ada@example.com, an existing account created " + jot.FormatTime(ada.CreatedAt) + " (email_verified: false)"
	if lines[0] != wantSkip {
		t.Errorf("skip line %q, want %q", lines[0], wantSkip)
	}
	want := map[string]*jot.User{
		// The skipped record left the existing account alone.
		"ada@example.com":   {PasswordHash: h[0], Role: jot.RoleAdmin},
		"bob@example.com":   {PasswordHash: h[1], Role: jot.RoleUser},
		"carol@example.com": {PasswordHash: h[2], Role: jot.RoleUser, Name: "Carol"},
	}
	if n := importCount(t, st); n != len(want) {
		t.Errorf("%d users, want %d", n, len(want))
	}
	for email, w := range want {
		u, err := st.UserByEmail(context.Background(), email)
		if err != nil {
			t.Errorf("%s: %v", email, err)
			continue
		}
		if u.PasswordHash != w.PasswordHash || u.Role != w.Role || u.Name != w.Name {
			t.Errorf("%s: role %s, name %q, hash kept %v", email, u.Role, u.Name, u.PasswordHash == w.PasswordHash)
		}
	}
}

func TestImportUsage(t *testing.T) {
	t.Parallel()
	db := newImportDB(t)
	if code, _, errOut := importRun(t, db.env, "users", "import"); code != 2 || !strings.Contains(errOut, "FILE") {
		t.Errorf("without a file: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := importRun(t, db.env, "users", "import", filepath.Join(t.TempDir(), "missing.json")); code != 1 || !strings.Contains(errOut, "missing.json") {
		t.Errorf("missing file: exit %d, stderr %q", code, errOut)
	}
}
