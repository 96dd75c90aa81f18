package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// checkURL parses the base URL and refuses any host that is not loopback:
// a load test pointed elsewhere by mistake is an attack.
func checkURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("-url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("-url: scheme must be http or https, not %q", u.Scheme)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("-url: only scheme, host, port and path are allowed")
	}
	if !loopbackHost(u.Hostname()) {
		return "", fmt.Errorf("-url: %q is not a loopback host (127.0.0.0/8, ::1 or localhost)", u.Hostname())
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// dialLoopbackOnly refuses connections to anything but a loopback address,
// checked after name resolution, so that localhost resolving elsewhere
// cannot send the load off the machine.
func dialLoopbackOnly(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		return fmt.Errorf("refusing to connect to %s: not a loopback address", address)
	}
	return nil
}

// request sends one request of a worker and returns its status; a nil
// error means the server answered as the scenario expects.
type request func(ctx context.Context) (status int, err error)

type client struct {
	hc      *http.Client
	timeout time.Duration
}

func newClient(conns int, timeout time.Duration) *client {
	tr := &http.Transport{
		// Never a proxy: the load must go straight to the loopback server.
		Proxy:       nil,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second, Control: dialLoopbackOnly}).DialContext,
		// One idle connection per worker, or connections would be closed
		// and reopened all the time (the default keeps 2 per host).
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	return &client{
		hc: &http.Client{
			Transport: tr,
			// A redirect could lead off the machine; the API has none.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		timeout: timeout,
	}
}

// do sends a request and reads the whole answer, so the connection is
// reused; it keeps the body only when asked.
func (cl *client) do(ctx context.Context, method, u, contentType, bearer, body string, keep bool) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, cl.timeout)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := cl.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	if keep || resp.StatusCode >= 300 {
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, b, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil, err
}

func (cl *client) get(u, bearer string, want int) request {
	return func(ctx context.Context) (int, error) {
		st, _, err := cl.do(ctx, "GET", u, "", bearer, "", false)
		return check(st, err, want)
	}
}

// tokenResponse is the part of a token response the scenarios use.
type tokenResponse struct {
	Access  string `json:"access_token"`
	Refresh string `json:"refresh_token"`
}

// tokens posts a JSON body to an endpoint that answers with tokens.
func (cl *client) tokens(ctx context.Context, u, body string, want int) (tokenResponse, error) {
	var tk tokenResponse
	st, b, err := cl.do(ctx, "POST", u, "application/json", "", body, true)
	if _, err := check(st, err, want); err != nil {
		if len(b) > 0 {
			err = fmt.Errorf("%w: %s", err, truncate(b))
		}
		return tk, err
	}
	if err := json.Unmarshal(b, &tk); err != nil || tk.Access == "" || tk.Refresh == "" {
		return tk, fmt.Errorf("no tokens in answer: %s", truncate(b))
	}
	return tk, nil
}

func check(status int, err error, want int) (int, error) {
	if err != nil {
		return status, err
	}
	if status != want {
		return status, fmt.Errorf("status %d, want %d", status, want)
	}
	return status, nil
}

// tamper changes one character in the middle of the signature: the token
// stays well formed (every bit of a middle base64url character counts, so
// the encoding stays canonical), and the server has to verify the
// signature to refuse it, which is the refusal that costs it most.
func tamper(raw string) (string, error) {
	i := strings.LastIndexByte(raw, '.')
	if i < 0 || len(raw)-i < 8 {
		return "", errors.New("access token has no signature to tamper with")
	}
	j := i + (len(raw)-i)/2
	b := []byte(raw)
	if b[j] == 'A' {
		b[j] = 'B'
	} else {
		b[j] = 'A'
	}
	return string(b), nil
}

func truncate(b []byte) string {
	const limit = 200
	b = bytes.TrimSpace(b)
	if len(b) > limit {
		return string(b[:limit]) + "…"
	}
	return string(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
