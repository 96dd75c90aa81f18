package interop_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/jotauth/jot/config"
	"golang.org/x/oauth2"
)

// TestOAuth2PasswordAndRefresh uses golang.org/x/oauth2 unchanged against
// jot's token endpoint: the password grant, then its TokenSource, which
// refreshes through the refresh grant once the access token is (nearly)
// expired, storing each rotated refresh token for the next refresh.
func TestOAuth2PasswordAndRefresh(t *testing.T) {
	t.Parallel()
	// oauth2 treats a token as expired 10 s before its expiry, so with a
	// 2 s lifetime every Token call refreshes: no waiting needed.
	s := startJot(t, "ES256", func(c *config.Config) { c.AccessTTL = 2 * time.Second })
	s.signup("oauth2@example.com", "interop password")

	conf := &oauth2.Config{
		ClientID: "interop-test",
		Endpoint: oauth2.Endpoint{TokenURL: s.URL + "/v1/auth/token"},
		Scopes:   []string{"profile"}, // ignored by jot, as RFC 6749 lets it
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first, err := conf.PasswordCredentialsToken(ctx, "oauth2@example.com", "interop password")
	if err != nil {
		t.Fatalf("password grant: %v", err)
	}
	if first.AccessToken == "" || first.RefreshToken == "" || first.Type() != "Bearer" || first.Expiry.IsZero() {
		t.Fatalf("token %+v", first)
	}
	if _, err := conf.PasswordCredentialsToken(ctx, "oauth2@example.com", "wrong password"); err == nil {
		t.Error("password grant with a wrong password succeeded")
	} else if re, ok := err.(*oauth2.RetrieveError); !ok || re.ErrorCode != "invalid_grant" {
		t.Errorf("wrong password: %v, want a RetrieveError with invalid_grant", err)
	}

	me := func(client *http.Client) (int, string) {
		t.Helper()
		res, err := client.Get(s.URL + "/v1/users/me")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var u struct {
			Email string `json:"email"`
		}
		b, _ := io.ReadAll(res.Body)
		_ = json.Unmarshal(b, &u)
		return res.StatusCode, u.Email
	}

	ts := conf.TokenSource(ctx, first)
	seen := map[string]bool{first.AccessToken: true}
	prevRefresh := first.RefreshToken
	// Twice: the second refresh only works if oauth2 kept the refresh
	// token the first one returned, since jot's refresh tokens are single
	// use and presenting a used one ends the session.
	for i := range 2 {
		tok, err := ts.Token()
		if err != nil {
			t.Fatalf("refresh %d: %v", i+1, err)
		}
		if seen[tok.AccessToken] {
			t.Fatalf("refresh %d returned an access token seen before", i+1)
		}
		seen[tok.AccessToken] = true
		if tok.RefreshToken == "" || tok.RefreshToken == prevRefresh {
			t.Errorf("refresh %d: the refresh token was not rotated", i+1)
		}
		prevRefresh = tok.RefreshToken
		if code, email := me(oauth2.NewClient(ctx, oauth2.StaticTokenSource(tok))); code != http.StatusOK || email != "oauth2@example.com" {
			t.Errorf("refreshed token on /v1/users/me: %d %q", code, email)
		}
	}

	// The client oauth2 builds refreshes on its own as well.
	if code, email := me(oauth2.NewClient(ctx, ts)); code != http.StatusOK || email != "oauth2@example.com" {
		t.Errorf("oauth2 client on /v1/users/me: %d %q", code, email)
	}
}
