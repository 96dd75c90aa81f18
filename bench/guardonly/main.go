// Command guardonly is workload W1a of bench/run: a service protected by
// guard.Remote, as examples/basic is, in front of a handler that echoes
// the caller. It trusts the jot server at -issuer-url.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/jotauth/jot/guard"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18091", "listen address")
	issuer := flag.String("issuer-url", "http://127.0.0.1:18080", "the jot server")
	flag.Parse()
	start := time.Now()
	remote, err := guard.NewRemote(context.Background(), guard.RemoteOptions{
		JWKSURL:        *issuer + "/.well-known/jwks.json",
		RevocationsURL: *issuer + "/v1/auth/revocations",
		Issuer:         "jot", Audience: "jot",
	})
	if err != nil {
		log.Fatal(err)
	}
	// Read by bench/run: the time to fetch the JWKS and the whole feed.
	log.Printf("ready in %s", time.Since(start))
	h := guard.Require(guard.JWT(remote, jwtOptions(remote)))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := guard.FromContext(r.Context())
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		json.NewEncoder(w).Encode(struct {
			UserID    string `json:"user_id"`
			SessionID string `json:"session_id"`
			Role      string `json:"role"`
		}{p.UserID, p.SessionID, p.Role})
	}))
	log.Fatal(http.ListenAndServe(*addr, h))
}
