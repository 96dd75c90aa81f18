package guard_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jotauth/jot/guard"
	"github.com/jotauth/jot/token"
)

// Protecting a handler with the bearer strategy and jot's own verifier,
// here with an HS256 secret; a logout adds the session to the set.
func Example() {
	key, _ := token.HMACKey([]byte("an example secret of at least 32 bytes!"))
	keys := token.StaticKeys(token.NewKeySet(token.AlgHS256, []*token.Key{key}, time.Now(), 15*time.Minute, 30*time.Second))
	issuer := &token.Issuer{Keys: keys, Issuer: "jot", Audience: "jot", TTL: 15 * time.Minute}
	verifier := &token.Verifier{Keys: keys, Issuer: "jot", Audience: "jot"}
	ended := guard.NewRevocationSet()

	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := guard.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s", p.UserID)
	})
	h := guard.Require(guard.JWT(verifier, guard.JWTOptions{Revocations: ended}))(hello)

	raw, exp, _ := issuer.Issue(token.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: "u1"}, SessionID: "s1"})
	call := func(auth string) {
		r := httptest.NewRequest("GET", "/", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"), w.Body.String())
	}
	call("bearer " + raw)
	call("")
	call("Bearer " + tamper(raw))
	ended.Add("s1", exp.Add(30*time.Second))
	call("Bearer " + raw)
	// Output:
	// 200  hello u1
	// 401 Bearer realm="jot" {"error":"invalid_token","error_description":"no access token was sent","status":401,"reason":"missing"}
	//
	// 401 Bearer realm="jot", error="invalid_token" {"error":"invalid_token","error_description":"the access token is invalid","status":401,"reason":"invalid"}
	//
	// 401 Bearer realm="jot", error="invalid_token" {"error":"invalid_token","error_description":"the access token's session has ended","status":401,"reason":"revoked"}
}

// tamper changes the first character of the signature: still well formed,
// no longer genuine.
func tamper(raw string) string {
	i := strings.LastIndexByte(raw, '.') + 1
	c := byte('A')
	if raw[i] == 'A' {
		c = 'B'
	}
	return raw[:i] + string(c) + raw[i+1:]
}
