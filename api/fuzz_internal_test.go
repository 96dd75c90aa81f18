package api

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"testing"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/internal/httpio"
)

// fuzzRefusal fails unless err is one of the decoders' documented
// refusals: 400 invalid_request or 413.
func fuzzRefusal(t *testing.T, err error) {
	t.Helper()
	if c := jot.ErrorCode(err); c != jot.EINVALID && c != codePayloadTooLarge {
		t.Fatalf("refusal %q: %v", c, err)
	}
}

// FuzzDecodeJSON feeds arbitrary bodies and Content-Types to the strict
// JSON decoder of every JSON endpoint: it never panics, refuses only with
// invalid_request or 413, and what it accepts is a JSON body of a JSON
// type whose keys are all known, and reads back the same after a round
// trip.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []struct{ body, ct string }{
		{`{"email":"a@b.co","password":"pw","name":"A"}`, "application/json"},
		{`{"email":"a@b.co","email":"b@b.co"}`, "application/json"},
		{`{"Email":"a@b.co"}`, "application/json; charset=utf-8"},
		{`{"email":null,"name":1}`, "application/merge-patch+json"},
		{`{"email":"a"} {}`, "application/json"},
		{`[]`, "application/json"},
		{`{"email":"a"}`, ""},
		{`{"email":"a"}`, "text/plain"},
		{`  `, ""},
		{`{"email":"\ud800"}`, "application/json"},
	} {
		f.Add([]byte(s.body), s.ct)
	}
	f.Fuzz(func(t *testing.T, body []byte, ct string) {
		r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		var req signupRequest
		if err := decodeJSON(r, &req); err != nil {
			fuzzRefusal(t, err)
			return
		}
		mt, _ := mediaType(r)
		if !httpio.IsJSON(mt) {
			t.Fatalf("accepted Content-Type %q", ct)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil || m == nil {
			t.Fatalf("accepted a body that is not a JSON object: %q", body)
		}
		for k := range m {
			if k != "email" && k != "password" && k != "name" {
				t.Fatalf("accepted unknown key %q", k)
			}
		}
		again, _ := json.Marshal(req)
		var req2 signupRequest
		if err := unmarshalStrict(again, &req2); err != nil || !reflect.DeepEqual(req, req2) {
			t.Fatalf("round trip of %q: %v, %+v != %+v", body, err, req, req2)
		}
	})
}

// FuzzParams feeds arbitrary bodies to the decoder of login and the token
// endpoint, which reads JSON or a form: it never panics, refuses only with
// invalid_request or 413, and what it returns is exactly the body's one
// value of each known parameter (a repeated one is refused), with unknown
// JSON keys refused when strict.
func FuzzParams(f *testing.F) {
	for _, s := range []struct {
		body, ct string
		strict   bool
	}{
		{`{"email":"a@b.co","password":"pw"}`, "application/json", true},
		{`{"email":"a@b.co","email":"b@b.co","password":"pw"}`, "application/json", true},
		{`{"grant_type":"password","client_id":"x","client_id":"y"}`, "application/json", false},
		{`grant_type=password&username=a%40b.co&password=pw`, "application/x-www-form-urlencoded", false},
		{`username=a&username=b`, "application/x-www-form-urlencoded", true},
		{`email=%zz`, "application/x-www-form-urlencoded; charset=utf-8", true},
		{`{"email":1}`, "application/json", true},
		{`email=a`, "", true},
	} {
		f.Add([]byte(s.body), s.ct, s.strict)
	}
	allowed := []string{"email", "username", "password", "grant_type"}
	f.Fuzz(func(t *testing.T, body []byte, ct string, strict bool) {
		r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		out, err := params(r, allowed, strict)
		if err != nil {
			fuzzRefusal(t, err)
			return
		}
		mt, _ := mediaType(r)
		switch {
		case mt == "application/x-www-form-urlencoded":
			vals, err := url.ParseQuery(string(body))
			if err != nil {
				t.Fatalf("accepted a malformed form %q", body)
			}
			for _, k := range allowed {
				vs, ok := vals[k]
				got, ok2 := out[k]
				if ok != ok2 || (ok && (len(vs) != 1 || vs[0] != got)) {
					t.Fatalf("form %q: %s is %q, values %q", body, k, got, vs)
				}
			}
		case httpio.IsJSON(mt):
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil || m == nil {
				t.Fatalf("accepted a body that is not a JSON object: %q", body)
			}
			for k, v := range m {
				got, ok := out[k]
				known := slices.Contains(allowed, k)
				switch {
				case known && (!ok || got != v):
					t.Fatalf("json %q: %s is %q, body has %v", body, k, got, v)
				case !known && strict:
					t.Fatalf("json %q: unknown %q accepted", body, k)
				}
			}
		default:
			t.Fatalf("accepted Content-Type %q", ct)
		}
		for k := range out {
			if !slices.Contains(allowed, k) {
				t.Fatalf("returned unknown %q", k)
			}
		}
	})
}
