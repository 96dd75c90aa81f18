package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jotauth/jot/internal/jottest"
)

// serveBound keeps a broken server from hanging the tests; nothing waits
// for it to pass.
const serveBound = time.Minute

// binRun runs the jot binary in dir (a fresh one when "") with only the
// given JOT_* settings and stdin, and returns its exit code and output.
func binRun(t *testing.T, dir string, env []string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	cmd := exec.Command(importBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = binEnv(env)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(serveBound, func() { _ = cmd.Process.Kill() })
	err := cmd.Wait()
	timer.Stop()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("run jot: %v", err)
	}
	return code, out.String(), errOut.String()
}

// binEnv is the test's environment without its JOT_* settings, plus env.
func binEnv(env []string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "JOT_") {
			out = append(out, kv)
		}
	}
	return append(out, env...)
}

// serveProc is a running `jot serve`.
type serveProc struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string
	// lines delivers stderr (the log) line by line as it is written.
	lines chan string
	mu    sync.Mutex
	log   []string
	done  chan struct{}
	err   error
}

// serveStart starts `jot serve` on a free port of 127.0.0.1 and waits
// until it listens. It is killed at the end of the test if still running.
func serveStart(t *testing.T, env []string) *serveProc {
	t.Helper()
	cmd := exec.Command(importBinary(t), "serve")
	cmd.Dir = t.TempDir()
	cmd.Env = binEnv(append([]string{"JOT_ADDR=127.0.0.1:0"}, env...))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{t: t, cmd: cmd, lines: make(chan string, 1024), done: make(chan struct{})}
	addr := make(chan string, 1)
	var readers sync.WaitGroup
	readers.Add(2)
	go func() {
		defer readers.Done()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "jot listening on http://"); ok {
				addr <- rest
			}
		}
	}()
	go func() {
		defer readers.Done()
		defer close(p.lines)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.log = append(p.log, sc.Text())
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default: // nobody is waiting for lines; the log keeps them
			}
		}
	}()
	go func() {
		// Wait only once both pipes are drained (os/exec's rule).
		readers.Wait()
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	select {
	case p.addr = <-addr:
	case <-p.done:
		t.Fatalf("jot serve exited before listening: %v\n%s", p.err, p.logText())
	case <-time.After(serveBound):
		t.Fatalf("jot serve did not listen\n%s", p.logText())
	}
	return p
}

func (p *serveProc) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.log, "\n")
}

// waitLog waits for a log line that contains s and returns it.
func (p *serveProc) waitLog(s string) string {
	p.t.Helper()
	timeout := time.After(serveBound)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("jot serve ended without logging %q:\n%s", s, p.logText())
			}
			if strings.Contains(line, s) {
				return line
			}
		case <-timeout:
			p.t.Fatalf("no log line with %q:\n%s", s, p.logText())
		}
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *serveProc) wait() int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(serveBound):
		p.t.Fatalf("jot serve did not exit:\n%s", p.logText())
	}
	var ee *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &ee):
		return ee.ExitCode()
	default:
		p.t.Fatalf("jot serve: %v", p.err)
		return -1
	}
}

// stop sends SIGTERM and returns the exit code.
func (p *serveProc) stop() int {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	return p.wait()
}

// post sends a JSON body and returns the status and the decoded answer.
func (p *serveProc) post(path, bearer string, body any) (int, map[string]any) {
	p.t.Helper()
	b, _ := json.Marshal(body)
	req := jottest.Request(p.t, "POST", "http://"+p.addr+path, bearer, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	return jottest.SendJSON(p.t, &http.Client{Timeout: serveBound}, req)
}

func (p *serveProc) get(path, bearer string) (int, map[string]any) {
	p.t.Helper()
	return jottest.SendJSON(p.t, &http.Client{Timeout: serveBound}, jottest.Request(p.t, "GET", "http://"+p.addr+path, bearer, nil))
}

// serveDB is the settings of a fresh SQLite database.
func serveDB(t *testing.T) []string {
	return []string{"JOT_DATABASE_URL=sqlite://" + filepath.Join(t.TempDir(), "jot.db"), "JOT_BCRYPT_COST=10"}
}

// TestServeGracefulShutdown: a request in flight when SIGTERM arrives is
// answered, and the process then exits 0.
func TestServeGracefulShutdown(t *testing.T) {
	t.Parallel()
	db := serveDB(t)
	p := serveStart(t, append(db, "JOT_LOG_FORMAT=json"))

	// The request is held in flight by the client: its headers ask for
	// 100 Continue, which the server sends only once the handler reads the
	// body, so its arrival proves the handler is running.
	body := `{"email":"late@example.com","password":"pass-phrase-1"}`
	conn, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(serveBound))
	fmt.Fprintf(conn, "POST /v1/auth/signup HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\nX-Request-Id: in-flight-1\r\n\r\n", p.addr, len(body))
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusContinue {
		t.Fatalf("status %d, want 100 Continue", res.StatusCode)
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.waitLog("shutting down")
	// Only now does the rest of the request arrive.
	if _, err := io.WriteString(conn, body); err != nil {
		t.Fatal(err)
	}
	res, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("in-flight request after SIGTERM: %v\n%s", err, p.logText())
	}
	var tk struct {
		Access string `json:"access_token"`
	}
	err = json.NewDecoder(res.Body).Decode(&tk)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated || err != nil || tk.Access == "" {
		t.Fatalf("in-flight signup: %d %v", res.StatusCode, err)
	}
	if code := p.wait(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM:\n%s", code, p.logText())
	}

	// The log tells the story, in JSON, and the request carried its id.
	var sawRequest, sawStopped bool
	for _, line := range strings.Split(p.logText(), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("JOT_LOG_FORMAT=json wrote a line that is not JSON: %q", line)
			continue
		}
		if rec["msg"] == "request" && rec["request_id"] == "in-flight-1" && rec["status"] == float64(201) {
			sawRequest = true
		}
		sawStopped = sawStopped || rec["msg"] == "stopped"
	}
	if !sawRequest || !sawStopped {
		t.Fatalf("log lacks the in-flight request or the stop:\n%s", p.logText())
	}
	// The signup was committed before the database closed.
	code, _, stderr := binRun(t, "", db, "pass-phrase-2\n", "users", "create", "--email", "late@example.com", "--password-stdin")
	if code == 0 || !strings.Contains(stderr, "already registered") {
		t.Fatalf("user of the in-flight signup not stored: %d %s", code, stderr)
	}
}

// TestServeStopsIdle: a server with nothing in flight stops at once on
// SIGINT as on SIGTERM.
func TestServeStopsIdle(t *testing.T) {
	t.Parallel()
	p := serveStart(t, serveDB(t))
	if code, _ := p.get("/healthz", ""); code != 200 {
		t.Fatalf("healthz %d", code)
	}
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(); code != 0 {
		t.Fatalf("exit code %d after SIGINT:\n%s", code, p.logText())
	}
}
