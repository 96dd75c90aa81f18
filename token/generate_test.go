package token_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jotauth/jot/token"
)

// Signing and verifying with a key of one's own, with an app claim and no
// sessions.
func Example() {
	key, _ := token.Generate(token.AlgEdDSA)
	keys, _ := token.NewStaticKeys(key)
	issuer := &token.Issuer{Keys: keys, Issuer: "my-app", Audience: "my-app", TTL: 15 * time.Minute, SessionOptional: true}
	verifier := &token.Verifier{Keys: keys, Issuer: "my-app", Audience: "my-app", SessionOptional: true}

	raw, _, _ := issuer.IssueFor(token.Subject{UserID: "u1", Role: "admin", Extra: map[string]any{"tenant": "acme"}})
	c, err := verifier.Verify(raw)
	fmt.Println(c.Subject, c.Role, c.Extra["tenant"], token.ReasonOf(err) == "")

	// Another app's verifier, with its own audience, refuses it.
	other := &token.Verifier{Keys: keys, Issuer: "my-app", Audience: "billing", SessionOptional: true}
	_, err = other.Verify(raw)
	fmt.Println(token.ReasonOf(err))
	// Output:
	// u1 admin acme true
	// invalid
}

func TestGeneratePEMRoundTrip(t *testing.T) {
	for _, alg := range []string{token.AlgES256, token.AlgEdDSA, token.AlgRS256} {
		k, err := token.Generate(alg)
		if err != nil {
			t.Fatal(err)
		}
		p, err := k.MarshalPEM()
		if err != nil {
			t.Fatal(err)
		}
		back, err := token.ParsePEM(p)
		if err != nil || back.Alg != alg || back.ID != k.ID {
			t.Fatalf("%s: ParsePEM = %+v, %v", alg, back, err)
		}
		// A token signed with the original verifies with the parsed key.
		keys, _ := token.NewStaticKeys(k)
		back2, _ := token.NewStaticKeys(back)
		raw, _, err := (&token.Issuer{Keys: keys, Issuer: "a", Audience: "a", TTL: time.Minute}).IssueFor(token.Subject{UserID: "u", SessionID: "s"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := (&token.Verifier{Keys: back2, Issuer: "a", Audience: "a"}).Verify(raw); err != nil {
			t.Errorf("%s: %v", alg, err)
		}
	}
	h, err := token.Generate(token.AlgHS256)
	if err != nil || h.Alg != token.AlgHS256 {
		t.Fatalf("HS256: %v", err)
	}
	if _, err := h.MarshalPEM(); err == nil {
		t.Error("an HS256 secret marshalled to PEM")
	}
	if _, err := token.Generate("none"); err == nil {
		t.Error("Generate(none) succeeded")
	}
}

func TestNewStaticKeysSignsWithFirst(t *testing.T) {
	a, _ := token.Generate(token.AlgES256)
	b, _ := token.Generate(token.AlgES256)
	keys, err := token.NewStaticKeys(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if got := keys.KeySet().Signing().ID; got != a.ID {
		t.Errorf("signing key %s, want the first, %s", got, a.ID)
	}
	if keys.KeySet().Lookup(b.ID) == nil {
		t.Error("the second key does not verify")
	}
	e, _ := token.Generate(token.AlgEdDSA)
	if _, err := token.NewStaticKeys(a, e); err == nil {
		t.Error("keys of two algorithms accepted")
	}
	if _, err := token.NewStaticKeys(); err == nil {
		t.Error("no keys accepted")
	}
}

func TestSessionOptionalAndExtraClaims(t *testing.T) {
	k, _ := token.Generate(token.AlgES256)
	keys, _ := token.NewStaticKeys(k)
	strict := &token.Issuer{Keys: keys, Issuer: "a", Audience: "a", TTL: time.Minute}
	if _, _, err := strict.IssueFor(token.Subject{UserID: "u"}); err == nil {
		t.Error("a token without sid issued without SessionOptional")
	}
	loose := *strict
	loose.SessionOptional = true
	raw, _, err := loose.IssueFor(token.Subject{UserID: "u", Extra: map[string]any{"plan": "pro", "n": 3}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&token.Verifier{Keys: keys, Issuer: "a", Audience: "a"}).Verify(raw); token.ReasonOf(err) != token.ReasonInvalid {
		t.Errorf("no sid, default verifier: %v", err)
	}
	c, err := (&token.Verifier{Keys: keys, Issuer: "a", Audience: "a", SessionOptional: true}).Verify(raw)
	if err != nil {
		t.Fatal(err)
	}
	if c.Extra["plan"] != "pro" || c.Extra["n"] != float64(3) || len(c.Extra) != 2 {
		t.Errorf("Extra = %v", c.Extra)
	}
	if _, _, err := loose.IssueFor(token.Subject{UserID: "u", Extra: map[string]any{"sub": "admin"}}); err == nil {
		t.Error("an extra claim overrode sub")
	}
}

func TestReasonOfNil(t *testing.T) {
	if r := token.ReasonOf(nil); r != "" {
		t.Errorf("ReasonOf(nil) = %q", r)
	}
	if r := token.ReasonOf(errors.New("x")); r != token.ReasonInvalid {
		t.Errorf("ReasonOf(other) = %q", r)
	}
}
