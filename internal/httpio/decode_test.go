package httpio_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jotauth/jot/internal/httpio"
)

func TestStrict(t *testing.T) {
	type body struct {
		Email *string `json:"email"`
		Name  string  `json:"name"`
	}
	tests := []struct {
		in      string
		problem httpio.Problem
		msg     string
	}{
		{`{"email":"a@b.co","name":"A"}`, 0, ""},
		{`  `, httpio.Empty, "request body is empty"},
		{`[]`, httpio.BadJSON, "request body must be a JSON object"},
		{`{"Email":"a"}`, httpio.UnknownField, `unknown field "Email"`},
		{`{"emial":}`, httpio.UnknownField, `unknown field "emial"`},
		{`{"email":"a","email":"b"}`, httpio.BadJSON, `field "email" is repeated`},
		{`{"email":"a"} {}`, httpio.BadJSON, "unexpected data after the JSON object"},
		{`{"name":1}`, httpio.BadJSON, `field "name" must be of JSON type string`},
		{`{"email":`, httpio.BadJSON, "malformed JSON"},
	}
	for _, tt := range tests {
		var b body
		err := httpio.Strict([]byte(tt.in), &b)
		if httpio.ProblemOf(err) != tt.problem || (err != nil && err.Error() != tt.msg) {
			t.Errorf("%s: got %v (%d), want %q (%d)", tt.in, err, httpio.ProblemOf(err), tt.msg, tt.problem)
		}
	}
}

func TestParams(t *testing.T) {
	allowed := []string{"email", "password"}
	tests := []struct {
		mt, in  string
		strict  bool
		want    string // email=…;password=… of what was found, "nil" for null
		problem httpio.Problem
	}{
		{"application/json", `{"email":"a","password":"b"}`, true, "email=a;password=b", 0},
		{"application/json", `{"email":null}`, true, "email=nil", 0},
		{"application/json", `{"email":"a","x":1}`, false, "email=a", 0},
		{"application/json", `{"email":"a","x":1}`, true, "", httpio.UnknownField},
		{"application/json", `{"email":1}`, true, "", httpio.BadJSON},
		{"application/json", ``, true, "", httpio.Empty},
		{httpio.Form, `email=a&password=b&remember=on`, true, "email=a;password=b", 0},
		{httpio.Form, `email=a&email=b`, true, "", httpio.BadForm},
		{httpio.Form, `email=%zz`, true, "", httpio.BadForm},
		{"text/plain", `email=a`, true, "", httpio.BadType},
	}
	for _, tt := range tests {
		p, err := httpio.Params(tt.mt, []byte(tt.in), allowed, tt.strict)
		if httpio.ProblemOf(err) != tt.problem {
			t.Errorf("%s %s: got %v, want problem %d", tt.mt, tt.in, err, tt.problem)
			continue
		}
		var got []string
		for _, k := range allowed {
			if v, ok := p[k]; ok {
				if v == nil {
					got = append(got, k+"=nil")
				} else {
					got = append(got, k+"="+*v)
				}
			}
		}
		if err == nil && strings.Join(got, ";") != tt.want {
			t.Errorf("%s %s: got %q, want %q", tt.mt, tt.in, got, tt.want)
		}
	}
}

func TestRead(t *testing.T) {
	r := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("a", httpio.MaxBody+1)))
	if _, err := httpio.Read(r); httpio.ProblemOf(err) != httpio.TooLarge {
		t.Errorf("over the limit: %v", err)
	}
	r = httptest.NewRequest("POST", "/", strings.NewReader("abc"))
	r.ContentLength = -1
	if b, err := httpio.Read(r); err != nil || string(b) != "abc" {
		t.Errorf("got %q, %v", b, err)
	}
}
