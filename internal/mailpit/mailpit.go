// Package mailpit runs a real SMTP server for tests: Mailpit
// (github.com/axllent/mailpit), on free loopback ports, with its HTTP API
// to read what it received. Tests skip, saying why, where the binary is
// missing; CI installs it (.ci/run).
package mailpit

import (
	"encoding/json"
	"fmt"
	"go/build"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Server is a running Mailpit.
type Server struct {
	tb       testing.TB
	bin, db  string
	smtpAddr string
	apiAddr  string
	cmd      *exec.Cmd
	done     chan struct{}
}

// Binary returns the path of the mailpit binary, or "" when there is none.
func Binary() string {
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	p := filepath.Join(build.Default.GOPATH, "bin", "mailpit")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

// Start starts Mailpit on free loopback ports, stopped when tb ends. It
// skips the test when the binary is missing.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin := Binary()
	if bin == "" {
		tb.Skip("mailpit not installed (go install github.com/axllent/mailpit@v1.33.1): skipping the real-SMTP test")
	}
	s := &Server{tb: tb, bin: bin, db: filepath.Join(tb.TempDir(), "mailpit.db"),
		smtpAddr: freeAddr(tb), apiAddr: freeAddr(tb)}
	s.start()
	tb.Cleanup(s.Stop)
	return s
}

func freeAddr(tb testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (s *Server) start() {
	s.tb.Helper()
	// The database is a file, so what was received survives a restart.
	s.cmd = exec.Command(s.bin, "--smtp", s.smtpAddr, "--listen", s.apiAddr, "--database", s.db,
		"--smtp-auth-accept-any", "--smtp-auth-allow-insecure", "--disable-version-check", "--quiet")
	// Its own output (start and stop lines) would only clutter test logs.
	s.cmd.Stdout, s.cmd.Stderr = nil, nil
	if err := s.cmd.Start(); err != nil {
		s.tb.Fatalf("start mailpit: %v", err)
	}
	s.done = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.smtpAddr, time.Second)
		if err == nil {
			c.Close()
			if res, err := http.Get(s.APIURL() + "/api/v1/info"); err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			s.tb.Fatalf("mailpit did not start on %s / %s", s.smtpAddr, s.apiAddr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops Mailpit; calling it again does nothing.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// Restart starts a stopped Mailpit again on the same ports and database.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Stop()
	s.start()
}

// SMTPURL is the JOT_SMTP_URL of the server. Mailpit offers no STARTTLS
// here, hence starttls=off.
func (s *Server) SMTPURL() string {
	return "smtp://" + s.smtpAddr + "?starttls=off"
}

// APIURL is the base URL of the HTTP API.
func (s *Server) APIURL() string { return "http://" + s.apiAddr }

// Address is a mail address as the API shows it.
type Address struct {
	Name    string
	Address string
}

// Summary is a message in the list.
type Summary struct {
	ID        string
	MessageID string
	From      Address
	To        []Address
	Subject   string
}

// Message is a whole message.
type Message struct {
	ID      string
	From    Address
	To      []Address
	Subject string
	Text    string
	HTML    string
	// Headers are the raw headers.
	Headers map[string][]string
}

func (s *Server) get(path string, v any) error {
	res, err := http.Get(s.APIURL() + path)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, res.Status)
	}
	return json.NewDecoder(res.Body).Decode(v)
}

// Messages lists every message received, newest first.
func (s *Server) Messages() ([]Summary, error) {
	var out struct{ Messages []Summary }
	err := s.get("/api/v1/messages?limit=1000", &out)
	return out.Messages, err
}

// Message reads one message with its headers.
func (s *Server) Message(id string) (*Message, error) {
	var m Message
	if err := s.get("/api/v1/message/"+id, &m); err != nil {
		return nil, err
	}
	if err := s.get("/api/v1/message/"+id+"/headers", &m.Headers); err != nil {
		return nil, err
	}
	return &m, nil
}

// WaitFor waits up to timeout until n messages to the address have
// arrived and returns them, newest first.
func (s *Server) WaitFor(to string, n int, timeout time.Duration) ([]*Message, error) {
	deadline := time.Now().Add(timeout)
	for {
		list, err := s.Messages()
		var got []Summary
		for _, m := range list {
			for _, a := range m.To {
				if strings.EqualFold(a.Address, to) {
					got = append(got, m)
				}
			}
		}
		if err == nil && len(got) >= n {
			var out []*Message
			for _, m := range got {
				full, err := s.Message(m.ID)
				if err != nil {
					return nil, err
				}
				out = append(out, full)
			}
			return out, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d messages to %s after %v, want %d (last error: %v)", len(got), to, timeout, n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
