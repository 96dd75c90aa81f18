// Command standalone is one program with its own users: email and password
// login (guard.Local), signed access tokens (token), protected routes
// (guard.JWT) and logout that takes effect at once (guard.RevocationSet).
// No jot server, no database: users live in memory.
//
//	go run ./examples/standalone &
//	curl -d '{"email":"ann@example.com","password":"correct horse battery"}' -H 'Content-Type: application/json' 127.0.0.1:8082/signup
//	curl -d '{"email":"ann@example.com","password":"correct horse battery"}' -H 'Content-Type: application/json' 127.0.0.1:8082/login
//	curl -H "Authorization: Bearer $TOKEN" 127.0.0.1:8082/me
package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"sync"
	"time"

	"github.com/jotauth/jot/guard"
	"github.com/jotauth/jot/password"
	"github.com/jotauth/jot/token"
)

func main() { log.Fatal(http.ListenAndServe("127.0.0.1:8082", newApp(10))) }

type app struct {
	mu     sync.Mutex
	users  map[string]string // email → password hash
	hasher *password.Hasher
	issuer *token.Issuer
	ended  *guard.RevocationSet
}

func newApp(cost int) http.Handler {
	key, _ := token.Generate(token.AlgEdDSA) // keep it with key.MarshalPEM to outlive restarts
	keys, _ := token.NewStaticKeys(key)
	hasher, _ := password.New(cost, 4)
	a := &app{users: map[string]string{}, hasher: hasher, ended: guard.NewRevocationSet(),
		issuer: &token.Issuer{Keys: keys, Issuer: "standalone", Audience: "standalone", TTL: 15 * time.Minute}}
	verifier := &token.Verifier{Keys: keys, Issuer: "standalone", Audience: "standalone"}
	auth := guard.Require(guard.JWT(verifier, guard.JWTOptions{Revocations: a.ended}))

	mux := http.NewServeMux()
	mux.HandleFunc("POST /signup", a.signup)
	mux.Handle("POST /login", guard.Require(guard.Local(a.check))(http.HandlerFunc(a.login)))
	mux.Handle("GET /me", auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := guard.FromContext(r.Context())
		json.NewEncoder(w).Encode(p)
	})))
	mux.Handle("POST /logout", auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := guard.FromContext(r.Context())
		a.ended.Add(p.SessionID, p.Claims.ExpiresAt.Time)
		w.WriteHeader(http.StatusNoContent)
	})))
	return mux
}

func (a *app) signup(w http.ResponseWriter, r *http.Request) {
	var in struct{ Email, Password string }
	if json.NewDecoder(r.Body).Decode(&in) != nil || in.Email == "" {
		http.Error(w, "email and password required", http.StatusBadRequest)
		return
	}
	var weak *password.FieldError
	if errors.As(password.Validate(in.Password), &weak) {
		http.Error(w, weak.Error(), http.StatusUnprocessableEntity) // e.g. "password is too common"
		return
	}
	hash, err := a.hasher.Hash(r.Context(), in.Password)
	if err != nil {
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, taken := a.users[in.Email]; taken {
		http.Error(w, "email taken", http.StatusConflict)
		return
	}
	a.users[in.Email] = hash
	w.WriteHeader(http.StatusCreated)
}

// check is the local strategy's question: is this the user's password?
func (a *app) check(ctx context.Context, email, pw string) (*guard.Principal, error) {
	a.mu.Lock()
	hash, ok := a.users[email]
	a.mu.Unlock()
	if !ok {
		// Costs what a real check costs, so timing does not tell who exists.
		_ = a.hasher.VerifyDummy(ctx, pw)
		return nil, guard.ErrInvalidCredentials
	}
	if good, err := a.hasher.Verify(ctx, hash, pw); err != nil || !good {
		return nil, cmp.Or(err, guard.ErrInvalidCredentials)
	}
	return &guard.Principal{UserID: email, Email: email, Role: "user"}, nil
}

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	p, _ := guard.FromContext(r.Context())
	raw, exp, err := a.issuer.IssueFor(token.Subject{UserID: p.UserID, SessionID: rand.Text(), Role: p.Role, Email: p.Email})
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"access_token": raw, "token_type": "Bearer", "expires_in": int(time.Until(exp).Seconds())})
}
