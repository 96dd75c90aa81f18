package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/jotauth/jot/internal/jottest"
)

// listenedAt reads the address out of a "jot NAME listening" log line.
func listenedAt(t *testing.T, line string) string {
	t.Helper()
	m := regexp.MustCompile(`addr=http://(\S+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no address in %q", line)
	}
	return m[1]
}

func plainGet(t *testing.T, url string) (int, string) {
	t.Helper()
	res, b := jottest.Send(t, nil, jottest.Request(t, "GET", url, "", nil))
	return res.StatusCode, string(b)
}

// TestServeMetricsAndPprofListeners: with JOT_METRICS_ADDR, /metrics moves
// to its own listener (404 on the main one); JOT_PPROF_ADDR serves pprof.
func TestServeMetricsAndPprofListeners(t *testing.T) {
	t.Parallel()
	p := serveStart(t, append(serveDB(t), "JOT_METRICS_ADDR=127.0.0.1:0", "JOT_PPROF_ADDR=127.0.0.1:0"))
	metrics := listenedAt(t, p.waitLog("jot metrics listening"))
	pprofAt := listenedAt(t, p.waitLog("jot pprof listening"))

	if code, body := plainGet(t, "http://"+p.addr+"/metrics"); code != http.StatusNotFound || !strings.Contains(body, `"not_found"`) {
		t.Errorf("main listener /metrics: %d %s", code, body)
	}
	code, body := plainGet(t, "http://"+metrics+"/metrics")
	if code != http.StatusOK || !strings.Contains(body, "# TYPE") {
		t.Errorf("metrics listener: %d %.200s", code, body)
	}
	if code, _ := plainGet(t, "http://"+metrics+"/v1/users/me"); code != http.StatusNotFound {
		t.Errorf("metrics listener serves the API: %d", code)
	}
	if code, body := plainGet(t, "http://"+pprofAt+"/debug/pprof/cmdline"); code != http.StatusOK || !strings.Contains(body, "serve") {
		t.Errorf("pprof: %d %q", code, body)
	}
	if code, _ := plainGet(t, "http://"+p.addr+"/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("main listener serves pprof: %d", code)
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.logText())
	}
}

// TestServeWithoutMetricsAddr: by default /metrics is on the main listener.
func TestServeMetricsOnMainByDefault(t *testing.T) {
	t.Parallel()
	p := serveStart(t, serveDB(t))
	if code, body := plainGet(t, "http://"+p.addr+"/metrics"); code != http.StatusOK || !strings.Contains(body, "# TYPE") {
		t.Errorf("/metrics: %d %.200s", code, body)
	}
	p.stop()
}

// TestPprofMustBeLoopback: a pprof address off loopback stops the start
// with one line naming the setting.
func TestPprofMustBeLoopback(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"0.0.0.0:6060", ":6060", "10.0.0.1:6060", "example.com:6060"} {
		code, stdout, stderr := binRun(t, "", append(serveDB(t), "JOT_ADDR=127.0.0.1:0", "JOT_PPROF_ADDR="+addr), "", "serve")
		line := strings.TrimSuffix(stderr, "\n")
		if code == 0 || strings.Contains(line, "\n") || !strings.HasPrefix(line, "jot: JOT_PPROF_ADDR: must be a loopback address") {
			t.Errorf("%s: exit %d, stderr %q", addr, code, stderr)
		}
		if strings.Contains(stdout, "listening") {
			t.Errorf("%s: the server started", addr)
		}
	}
	for _, addr := range []string{"localhost:0", "[::1]:0"} {
		code, _, stderr := binRun(t, "", append(serveDB(t), "JOT_ADDR=127.0.0.1:0", "JOT_PPROF_ADDR="+addr), "", "migrate")
		if code != 0 {
			t.Errorf("%s refused: %s", addr, stderr)
		}
	}
}

// TestCLIEmailsNormalizeLikeTheAPI: users create and users import fold and
// refuse emails as signup does, so a look-alike never becomes a second
// account through the CLI either.
func TestCLIEmailsNormalizeLikeTheAPI(t *testing.T) {
	t.Parallel()
	db := serveDB(t)
	const pw = "cli-created-password"
	// Fullwidth ＡＤＡ is stored as ada.
	code, stdout, stderr := binRun(t, "", db, pw+"\n", "users", "create", "--email", "\uff21\uff24\uff21@example.com", "--password-stdin")
	if code != 0 || !strings.Contains(stdout, "ada@example.com") {
		t.Fatalf("users create: %d %q %q", code, stdout, stderr)
	}
	// A Cyrillic а among Latin letters, a zero-width space: refused.
	for _, email := range []string{"\u0430da@example.com", "ada\u200b@example.com"} {
		code, _, stderr := binRun(t, "", db, pw+"\n", "users", "create", "--email", email, "--password-stdin")
		if code == 0 || !strings.Contains(stderr, "email") {
			t.Errorf("users create %q: %d %q", email, code, stderr)
		}
	}
	hash := importHashes(t, 10, "imported-password")[0]
	bad := importFile(t, "bad.jsonl", `{"email": "\u0430da@example.com", "password": "`+hash+`"}
{"email": "bob\u00ad@example.com", "password": "`+hash+`"}
`)
	code, _, stderr = binRun(t, "", db, "", "users", "import", "--skip-existing", bad)
	if code == 0 || !strings.Contains(stderr, "line 1: email") || !strings.Contains(stderr, "line 2: email") {
		t.Errorf("import of look-alikes: %d %q", code, stderr)
	}
	// The decomposed and fullwidth spellings of one email in one file are
	// duplicates; against the database, ａda is the existing ada.
	dup := importFile(t, "dup.jsonl", `{"email": "rene\u0301@example.com", "password": "`+hash+`"}
{"email": "ren\u00e9@example.com", "password": "`+hash+`"}
`)
	if code, _, stderr := binRun(t, "", db, "", "users", "import", dup); code == 0 || !strings.Contains(stderr, "line 2: duplicate of line 1") {
		t.Errorf("decomposed duplicate: %d %q", code, stderr)
	}
	same := importFile(t, "same.jsonl", `{"email": "\uff41da@example.com", "password": "`+hash+`"}
`)
	code, stdout, stderr = binRun(t, "", db, "", "users", "import", "--skip-existing", same)
	if code != 0 || !strings.Contains(stdout, "skipped line 1: ada@example.com") || !strings.Contains(stdout, "skipped 1 existing") {
		t.Errorf("fullwidth import: %d %q %q", code, stdout, stderr)
	}
}
