package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The whole flow through HTTP: signup (a weak password refused), login
// (a wrong password refused), a protected route, logout, and the token
// refused at once after it.
func TestStandaloneFlow(t *testing.T) {
	srv := httptest.NewServer(newApp(10))
	defer srv.Close()
	do := func(method, path, auth, body string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	creds := `{"email":"ann@example.com","password":"correct horse battery"}`

	if resp, body := do("POST", "/signup", "", `{"email":"ann@example.com","password":"password1"}`); resp.StatusCode != 422 || !strings.Contains(body, "password is too common") {
		t.Fatalf("weak signup: %d %s", resp.StatusCode, body)
	}
	if resp, body := do("POST", "/signup", "", creds); resp.StatusCode != 201 {
		t.Fatalf("signup: %d %s", resp.StatusCode, body)
	}
	if resp, body := do("POST", "/login", "", `{"email":"ann@example.com","password":"wrong horse battery"}`); resp.StatusCode != 401 || !strings.Contains(body, `"invalid_credentials"`) {
		t.Fatalf("wrong password: %d %s", resp.StatusCode, body)
	}
	resp, body := do("POST", "/login", "", creds)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &tok) != nil || tok.AccessToken == "" {
		t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	if resp, body := do("GET", "/me", tok.AccessToken, ""); resp.StatusCode != 200 || !strings.Contains(body, `"user_id":"ann@example.com"`) {
		t.Fatalf("me: %d %s", resp.StatusCode, body)
	}
	if resp, body := do("GET", "/me", "", ""); resp.StatusCode != 401 || !strings.Contains(body, `"reason":"missing"`) {
		t.Fatalf("me without a token: %d %s", resp.StatusCode, body)
	}
	if resp, body := do("POST", "/logout", tok.AccessToken, ""); resp.StatusCode != 204 {
		t.Fatalf("logout: %d %s", resp.StatusCode, body)
	}
	if resp, body := do("GET", "/me", tok.AccessToken, ""); resp.StatusCode != 401 || !strings.Contains(body, `"reason":"revoked"`) {
		t.Fatalf("me after logout: %d %s", resp.StatusCode, body)
	}
}
