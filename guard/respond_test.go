package guard_test

import (
	"net/http/httptest"
	"testing"

	"github.com/jotauth/jot/guard"
)

// WriteRefusal writes jot's error shape in its order, fields included,
// with the description held to RFC 6749's characters.
func TestWriteRefusal(t *testing.T) {
	rec := httptest.NewRecorder()
	guard.WriteRefusal(rec, guard.Refusal{Status: 422, Error: "validation_failed", Description: "a \"b\" <c> & é",
		Fields: map[string]string{"title": "must not be empty"}})
	want := `{"error":"validation_failed","error_description":"a 'b' <c> & ?","status":422,"fields":{"title":"must not be empty"}}` + "\n"
	if rec.Code != 422 || rec.Body.String() != want {
		t.Errorf("got %d %s", rec.Code, rec.Body)
	}
	h := rec.Header()
	if h.Get("Content-Type") != "application/json; charset=utf-8" || h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers %v", h)
	}
	if got := guard.Challenge(`a"b`, "invalid_token"); got != `Bearer realm="a\"b", error="invalid_token"` {
		t.Errorf("Challenge = %s", got)
	}
}
