package jottest

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Tokens is jot's token response (docs/api.md §2).
type Tokens struct {
	Access  string `json:"access_token"`
	Type    string `json:"token_type"`
	Expires int    `json:"expires_in"`
	Refresh string `json:"refresh_token"`
	User    struct {
		ID    string `json:"id"`
		Email string `json:"email"`
		Name  string `json:"name"`
		Role  string `json:"role"`
	} `json:"user"`
}

// Request builds a request for url carrying bearer as its Authorization
// (none when bearer is empty); a request that cannot be built ends the test.
func Request(tb testing.TB, method, url, bearer string, body io.Reader) *http.Request {
	tb.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		tb.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return req
}

// Send sends req with c (nil: http.DefaultClient) and returns the response
// with its whole body; failing to send it or to read the answer ends the
// test.
func Send(tb testing.TB, c *http.Client, req *http.Request) (*http.Response, []byte) {
	tb.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	res, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return res, b
}

// SendJSON is Send returning the status and the body decoded as a JSON
// object: nil when the body is not one.
func SendJSON(tb testing.TB, c *http.Client, req *http.Request) (int, map[string]any) {
	tb.Helper()
	res, b := Send(tb, c, req)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return res.StatusCode, m
}

// Segment decodes part i of the compact JWS raw (0: its header, 1: its
// payload) as JSON into v, without verifying anything; raw that is not a
// JWS, or a part that does not decode, ends the test.
func Segment(tb testing.TB, raw string, i int, v any) {
	tb.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		tb.Fatalf("not a JWS: %q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("part %d of %q: %v", i, raw, err)
	}
}
