package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain removes what the subprocess tests built once for the whole run
// (the jot binary) after every test has finished with it.
func TestMain(m *testing.M) {
	code := m.Run()
	importCleanup()
	os.Exit(code)
}

// TestBadSettingStopsWithOneLine: a bad setting, from the environment, a
// flag or .env, stops the program before it serves, with one line that
// names the setting.
func TestBadSettingStopsWithOneLine(t *testing.T) {
	t.Parallel()
	db := "JOT_DATABASE_URL=sqlite://" + filepath.Join(t.TempDir(), "jot.db")
	cases := []struct {
		name    string
		env     []string
		args    []string
		dotenv  string
		setting string
	}{
		{"cost too low", []string{"JOT_BCRYPT_COST=9"}, nil, "", "JOT_BCRYPT_COST"},
		{"cost not a number", []string{"JOT_BCRYPT_COST=high"}, nil, "", "JOT_BCRYPT_COST"},
		{"HS256 without a secret", []string{"JOT_JWT_ALG=HS256"}, nil, "", "JOT_JWT_SECRET"},
		{"HS256 with a short secret", []string{"JOT_JWT_ALG=HS256", "JOT_JWT_SECRET=short"}, nil, "", "JOT_JWT_SECRET"},
		{"alg none", []string{"JOT_JWT_ALG=none"}, nil, "", "JOT_JWT_ALG"},
		{"bad duration", []string{"JOT_ACCESS_TTL=soon"}, nil, "", "JOT_ACCESS_TTL"},
		{"log format", []string{"JOT_LOG_FORMAT=xml"}, nil, "", "JOT_LOG_FORMAT"},
		{"wildcard with cookies", []string{"JOT_CORS_ORIGINS=*", "JOT_TOKEN_COOKIE=jot"}, nil, "", "JOT_CORS_ORIGINS"},
		{"flag", nil, []string{"--bcrypt-cost=15"}, "", "JOT_BCRYPT_COST"},
		{".env", nil, nil, "JOT_BCRYPT_COST=20\n", "JOT_BCRYPT_COST"},
	}
	for _, c := range cases {
		dir := t.TempDir()
		if c.dotenv != "" {
			if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(c.dotenv), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		// A free port, in case a bad setting were taken: the test then
		// fails on the exit code instead of hanging.
		env := append([]string{db, "JOT_ADDR=127.0.0.1:0"}, c.env...)
		code, stdout, stderr := binRun(t, dir, env, "", append([]string{"serve"}, c.args...)...)
		if code == 0 {
			t.Errorf("%s: exit code 0", c.name)
			continue
		}
		line := strings.TrimSuffix(stderr, "\n")
		if line == "" || strings.Contains(line, "\n") || !strings.Contains(line, c.setting) {
			t.Errorf("%s: stderr is not one line naming %s:\n%s", c.name, c.setting, stderr)
		}
		if strings.Contains(stdout, "listening") {
			t.Errorf("%s: the server started", c.name)
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"version", "--version"} {
		code, stdout, stderr := binRun(t, "", nil, "", arg)
		v, ok := strings.CutPrefix(strings.TrimSuffix(stdout, "\n"), "jot ")
		if code != 0 || !ok || v == "" || strings.ContainsAny(v, " \n") || stderr != "" {
			t.Fatalf("jot %s: %d %q %q", arg, code, stdout, stderr)
		}
	}
}

// TestUsersCreateThenLogin: an admin created by the CLI, with the password
// on stdin, logs in to the server and can use the admin routes.
func TestUsersCreateThenLogin(t *testing.T) {
	t.Parallel()
	db := serveDB(t)
	const pw = "cli-created-password"
	code, stdout, stderr := binRun(t, "", db, pw+"\n", "users", "create", "--email", "a@b.co", "--password-stdin", "--role", "admin", "--name", "Ada")
	if code != 0 || !strings.Contains(stdout, "a@b.co") {
		t.Fatalf("users create: %d %q %q", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, pw) {
		t.Fatal("users create echoes the password")
	}
	// The same email again is refused in one line.
	code, _, stderr = binRun(t, "", db, pw+"\n", "users", "create", "--email", "A@B.co", "--password-stdin")
	if code == 0 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Fatalf("duplicate users create: %d %q", code, stderr)
	}
	// The password policy applies: a common password is refused, saying why.
	code, _, stderr = binRun(t, "", db, "Iloveyou1\n", "users", "create", "--email", "d@b.co", "--password-stdin")
	if code == 0 || !strings.Contains(stderr, "password is too common") {
		t.Fatalf("users create with a common password: %d %q", code, stderr)
	}
	// The password is never taken from the command line.
	if code, _, _ := binRun(t, "", db, "", "users", "create", "--email", "c@b.co"); code == 0 {
		t.Fatal("users create without --password-stdin succeeded")
	}

	p := serveStart(t, append(db, "JOT_LOG_FORMAT=text"))
	status, tk := p.post("/v1/auth/login", "", map[string]string{"email": "a@b.co", "password": pw})
	if status != 200 {
		t.Fatalf("login: %d %v", status, tk)
	}
	user, _ := tk["user"].(map[string]any)
	if user["role"] != "admin" || user["name"] != "Ada" {
		t.Fatalf("user %v", user)
	}
	access, _ := tk["access_token"].(string)
	if status, body := p.get("/v1/users", access); status != 200 {
		t.Fatalf("admin list: %d %v", status, body)
	}
	if status, _ := p.post("/v1/auth/login", "", map[string]string{"email": "a@b.co", "password": pw + "x"}); status != 401 {
		t.Fatalf("wrong password: %d", status)
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("exit code %d:\n%s", code, p.logText())
	}
	// JOT_LOG_FORMAT=text: key=value lines, with the access log in them.
	log := p.logText()
	if !strings.Contains(log, "msg=request") || !strings.Contains(log, "path=/v1/auth/login") || !strings.Contains(log, "status=200") || strings.HasPrefix(log, "{") {
		t.Fatalf("text log:\n%s", log)
	}
	if strings.Contains(log, pw) || strings.Contains(log, access) {
		t.Fatal("the log contains the password or the token")
	}
}
