// Command basic is a plain net/http API protected by guard. It trusts a jot
// server's tokens through its JWKS and revocation feed, with no shared database.
// Start a jot server (go run ./cmd/jot serve; JOT_URL defaults to it), then this:
//
//	go run ./examples/basic & curl -H "Authorization: Bearer $TOKEN" 127.0.0.1:8081/hello
package main

import (
	"cmp"
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/jotauth/jot/guard"
)

func main() {
	jot := cmp.Or(os.Getenv("JOT_URL"), "http://127.0.0.1:8080")
	remote, err := guard.NewRemote(context.Background(), guard.RemoteOptions{
		JWKSURL:        jot + "/.well-known/jwks.json",
		RevocationsURL: jot + "/v1/auth/revocations",
		Issuer:         "jot", Audience: "jot", // the server's JOT_ISSUER and JOT_AUDIENCE
		StartWithoutIssuer: true,        // 503 until jot answers, rather than fail to start
		MaxStale:           time.Minute, // 503 rather than accept logged-out tokens after a minute of silence
	})
	if err != nil {
		log.Fatal(err)
	}
	defer remote.Close()
	auth := guard.Require(guard.JWT(remote, guard.JWTOptions{Revocations: remote}))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if !remote.Ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	mux.Handle("GET /hello", auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := guard.FromContext(r.Context())
		fmt.Fprintf(w, "hello, %s (%s)\n", p.Email, p.Role)
	})))
	mux.Handle("GET /admin", auth(guard.RequireRole("admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "admins only")
	}))))
	log.Fatal(http.ListenAndServe("127.0.0.1:8081", mux))
}
