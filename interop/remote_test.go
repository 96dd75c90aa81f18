package interop_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jotauth/jot/guard"
	"github.com/jotauth/jot/internal/jottest"
)

// snippet:start
// protect lets through to h only the requests that carry a live jot access
// token; h finds the caller with guard.FromContext(r.Context()).
func protect(ctx context.Context, jotURL string, poll time.Duration, h http.Handler) (http.Handler, error) {
	remote, err := guard.NewRemote(ctx, guard.RemoteOptions{
		JWKSURL:        jotURL + "/.well-known/jwks.json",
		RevocationsURL: jotURL + "/v1/auth/revocations", // a logout at jot is refused here within poll
		Issuer:         "jot",
		Audience:       "jot",
		Algorithms:     []string{"ES256"}, // what jot signs with (JOT_JWT_ALG)
		PollInterval:   poll,              // 0: every 5 s
	})
	if err != nil {
		return nil, err
	}
	return guard.Require(guard.JWT(remote, guard.JWTOptions{Revocations: remote}))(h), nil
}

// snippet:end

// TestRemoteGuardFollowsLogout runs a downstream service protected by
// guard.Remote against a jot server: it accepts jot's tokens offline and
// refuses one within a poll of the revocation feed once its session is
// logged out at jot, while the user's other session keeps working.
func TestRemoteGuardFollowsLogout(t *testing.T) {
	t.Parallel()
	s := startJot(t, "ES256", nil)
	a := s.signup("downstream@example.com", "interop password")
	b := s.login("downstream@example.com", "interop password")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h, err := protect(ctx, s.URL, 200*time.Millisecond, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := guard.FromContext(r.Context())
		_ = json.NewEncoder(w).Encode(map[string]string{"user": p.UserID, "session": p.SessionID})
	}))
	if err != nil {
		t.Fatal(err)
	}
	downstream := httptest.NewServer(h)
	defer downstream.Close()

	call := func(tok string) (int, map[string]any) {
		t.Helper()
		return jottest.SendJSON(t, nil, jottest.Request(t, "GET", downstream.URL+"/things", tok, nil))
	}

	if code, m := call(a.Access); code != http.StatusOK || m["user"] != a.User.ID {
		t.Fatalf("jot token: %d %v", code, m)
	}
	if code, _ := call(forgeRole(t, a.Access)); code != http.StatusUnauthorized {
		t.Errorf("edited token: %d, want 401", code)
	}
	if code, _ := call(""); code != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", code)
	}

	if code, body := s.call("POST", "/v1/auth/logout", a.Access, nil); code != http.StatusNoContent {
		t.Fatalf("logout at jot: %d %s", code, body)
	}
	// Bounded generously for a loaded machine; it normally takes one poll.
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, m := call(a.Access)
		if code == http.StatusUnauthorized && m["reason"] == "revoked" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the logged-out token is still accepted downstream: %d %v", code, m)
		}
		time.Sleep(50 * time.Millisecond) // waits for the Remote's poll of a real jot over HTTP
	}
	if code, m := call(b.Access); code != http.StatusOK || m["user"] != a.User.ID {
		t.Errorf("the user's other session: %d %v", code, m)
	}
}
