package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
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
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
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
