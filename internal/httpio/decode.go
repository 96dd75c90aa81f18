// Package httpio reads request bodies the one way that jot's HTTP layer
// (api) and its library (guard) share, and writes their JSON answers.
//
// Its errors say what is wrong with a body in words a client may be shown
// (a key the client sent may be quoted), and which kind of defect it is,
// so that each caller can answer in its own shape: the api with the words,
// guard with fixed text of its own.
package httpio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// MaxBody is the largest request body accepted (docs/api.md §1).
const MaxBody = 1 << 20

// Problem is the kind of defect a request body has.
type Problem int

// The defects a body may have.
const (
	// TooLarge: the body is over MaxBody.
	TooLarge Problem = iota + 1
	// Unreadable: reading the body failed.
	Unreadable
	// BadType: the Content-Type is malformed or not one accepted.
	BadType
	// Empty: a JSON body holds nothing but white space.
	Empty
	// UnknownField: a JSON object has a key that is not asked for.
	UnknownField
	// BadForm: a form body is malformed or repeats a parameter.
	BadForm
	// BadJSON: any other defect of a JSON body: malformed, not an object,
	// data after it, a repeated key, a value of the wrong type.
	BadJSON
)

// Error is a defect of a request body.
type Error struct {
	Problem Problem
	// Msg describes the defect; it may quote a key the client sent.
	Msg string
}

func (e *Error) Error() string { return e.Msg }

func errorf(p Problem, format string, args ...any) *Error {
	return &Error{Problem: p, Msg: fmt.Sprintf(format, args...)}
}

// ProblemOf returns the kind of defect err reports, 0 for an error that is
// not an *Error.
func ProblemOf(err error) Problem {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Problem
	}
	return 0
}

// MediaType returns the request's media type, lower case, "" when none is
// given.
func MediaType(r *http.Request) (string, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return "", nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", errorf(BadType, "invalid Content-Type")
	}
	return strings.ToLower(mt), nil
}

// Form is the media type of a form-encoded body.
const Form = "application/x-www-form-urlencoded"

// IsJSON reports whether mt names JSON: application/json or a type with
// the +json suffix. A missing Content-Type is not JSON: a cross-origin
// fetch without one is a CORS "simple request" that skips the preflight,
// so reading it as JSON would let any page post to the API with the
// browser's cookies.
func IsJSON(mt string) bool {
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// Read reads the whole body within MaxBody; a request without a body has
// an empty one.
func Read(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	if r.ContentLength > MaxBody {
		return nil, errorf(TooLarge, "request body exceeds 1 MiB")
	}
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, errorf(TooLarge, "request body exceeds 1 MiB")
		}
		return nil, errorf(Unreadable, "could not read request body")
	}
	return b, nil
}

// Strict decodes one JSON object from b into v, a pointer to a struct.
// encoding/json matches field names case-insensitively and lets a repeated
// key win silently; here every key must be one of v's JSON names exactly,
// once, so a typo in any case is refused, and nothing may follow the object.
func Strict(b []byte, v any) error {
	b = bytes.TrimSpace(b)
	dec, err := object(b)
	if err != nil {
		return err
	}
	names := fieldNames(reflect.TypeOf(v))
	// Keys are checked before their values are read, so an unknown key is
	// named even when its value is malformed.
	if err := eachKey(dec, func(key string) error {
		if !names[key] {
			return errorf(UnknownField, "unknown field %q", key)
		}
		return nil
	}, nil); err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return jsonError(err)
	}
	return nil
}

// Params reads a body of media type mt, JSON or form-encoded, as flat
// string parameters: the ones named in allowed that the body holds, nil
// for a JSON null. A repeated parameter is refused (RFC 6749 §3.2). Other
// form parameters are ignored, as HTML forms send extra ones; other JSON
// keys are refused when strictJSON, and ignored otherwise.
func Params(mt string, b []byte, allowed []string, strictJSON bool) (map[string]*string, error) {
	out := map[string]*string{}
	switch {
	case mt == Form:
		vals, err := url.ParseQuery(string(b))
		if err != nil {
			return nil, errorf(BadForm, "malformed form body")
		}
		for _, k := range allowed {
			if vs, ok := vals[k]; ok {
				if len(vs) > 1 {
					return nil, errorf(BadForm, "parameter %q is repeated", k)
				}
				out[k] = &vs[0]
			}
		}
		return out, nil
	case IsJSON(mt):
		dec, err := object(b)
		if err != nil {
			return nil, err
		}
		err = eachKey(dec, nil, func(k string, v json.RawMessage) error {
			if !slices.Contains(allowed, k) {
				if strictJSON {
					return errorf(UnknownField, "unknown field %q", k)
				}
				return nil
			}
			var s *string
			if err := json.Unmarshal(v, &s); err != nil {
				return errorf(BadJSON, "field %q must be a string", k)
			}
			out[k] = s
			return nil
		})
		if err != nil {
			return nil, err
		}
		return out, nil
	default:
		return nil, errorf(BadType, "Content-Type must be application/json or application/x-www-form-urlencoded")
	}
}

// object returns a decoder at the start of b, which must hold a JSON
// object.
func object(b []byte) (*json.Decoder, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, errorf(Empty, "request body is empty")
	}
	if b[0] != '{' {
		return nil, errorf(BadJSON, "request body must be a JSON object")
	}
	return json.NewDecoder(bytes.NewReader(b)), nil
}

// eachKey walks the JSON object dec holds key by key, rather than decoding
// it into a map, which would let the last of a repeated key win silently.
// It refuses a repeated key, calls check (if not nil) with each key before
// its value is read and use (if not nil) with the key and its value, and
// refuses data after the object.
func eachKey(dec *json.Decoder, check func(key string) error, use func(key string, value json.RawMessage) error) error {
	if _, err := dec.Token(); err != nil {
		return jsonError(err)
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return jsonError(err)
		}
		key, _ := t.(string)
		if check != nil {
			if err := check(key); err != nil {
				return err
			}
		}
		if seen[key] {
			return errorf(BadJSON, "field %q is repeated", key)
		}
		seen[key] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return jsonError(err)
		}
		if use != nil {
			if err := use(key, v); err != nil {
				return err
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errorf(BadJSON, "unexpected data after the JSON object")
	}
	return nil
}

// fieldNameCache holds the JSON names of each request struct type.
var fieldNameCache sync.Map

// fieldNames returns the JSON names of the fields of the struct t points to.
func fieldNames(t reflect.Type) map[string]bool {
	if m, ok := fieldNameCache.Load(t); ok {
		return m.(map[string]bool)
	}
	st := t.Elem()
	names := make(map[string]bool, st.NumField())
	for i := 0; i < st.NumField(); i++ {
		f := st.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names[name] = true
	}
	fieldNameCache.Store(t, names)
	return names
}

// jsonError describes a decoding error without echoing internals.
func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return errorf(BadJSON, "malformed JSON at offset %d", se.Offset)
	case errors.As(err, &te):
		if te.Field != "" {
			return errorf(BadJSON, "field %q must be of JSON type %s", te.Field, jsonKind(te.Type.Kind()))
		}
		return errorf(BadJSON, "request body has the wrong JSON type")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(BadJSON, "malformed JSON: unexpected end")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return errorf(UnknownField, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	default:
		return errorf(BadJSON, "malformed JSON")
	}
}

func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return "object"
	default:
		return "number"
	}
}
