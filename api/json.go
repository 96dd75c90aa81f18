package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"

	"github.com/jotauth/jot"
)

// maxBody is the largest request body accepted (docs/api.md §1).
const maxBody = 1 << 20

var errTooLarge = &jot.Error{Code: codePayloadTooLarge, Message: "request body exceeds 1 MiB"}

// writeJSON writes v as the JSON answer with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"error":"server_error","error_description":"internal error","status":500}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// mediaType returns the request's media type, "" when none is given.
func mediaType(r *http.Request) (string, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return "", nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", jot.Errorf(jot.EINVALID, "invalid Content-Type")
	}
	return strings.ToLower(mt), nil
}

// isJSONType reports whether mt names JSON. A missing Content-Type is not
// JSON: a cross-origin fetch without one is a CORS "simple request" that
// skips the preflight, so reading it as JSON would let any page post to the
// API with the browser's cookies.
func isJSONType(mt string) bool {
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// readBody reads the whole body within the size limit.
func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > maxBody {
		return nil, errTooLarge
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errTooLarge
		}
		return nil, jot.Errorf(jot.EINVALID, "could not read request body")
	}
	return b, nil
}

// decodeJSON decodes a JSON object body into v strictly: unknown fields,
// trailing data and a wrong Content-Type are refused.
func decodeJSON(r *http.Request, v any) error {
	mt, err := mediaType(r)
	if err != nil {
		return err
	}
	b, err := readBody(r)
	if err != nil {
		return err
	}
	// A request without a body says nothing about its type; one with a
	// body must say it is JSON.
	if len(bytes.TrimSpace(b)) > 0 && !isJSONType(mt) {
		return jot.Errorf(jot.EINVALID, "Content-Type must be application/json")
	}
	return unmarshalStrict(b, v)
}

// unmarshalStrict decodes one JSON object from b into v, a pointer to a
// struct. encoding/json matches field names case-insensitively and lets a
// repeated key win silently; here every key must be one of v's JSON names
// exactly, once, so a typo in any case is refused.
func unmarshalStrict(b []byte, v any) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return jot.Errorf(jot.EINVALID, "request body is empty")
	}
	if b[0] != '{' {
		return jot.Errorf(jot.EINVALID, "request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := checkKeys(dec, fieldNames(reflect.TypeOf(v))); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return jot.Errorf(jot.EINVALID, "unexpected data after the JSON object")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return jsonError(err)
	}
	return nil
}

// checkKeys reads one JSON object from dec and checks its keys against
// names: each known, exactly as spelled, and given once.
func checkKeys(dec *json.Decoder, names map[string]bool) error {
	if _, err := dec.Token(); err != nil {
		return jsonError(err)
	}
	seen := make(map[string]bool, len(names))
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return jsonError(err)
		}
		key, _ := t.(string)
		if !names[key] {
			return jot.Errorf(jot.EINVALID, "unknown field %q", key)
		}
		if seen[key] {
			return jot.Errorf(jot.EINVALID, "field %q is repeated", key)
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return jsonError(err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return jsonError(err)
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
		return jot.Errorf(jot.EINVALID, "malformed JSON at offset %d", se.Offset)
	case errors.As(err, &te):
		if te.Field != "" {
			return jot.Errorf(jot.EINVALID, "field %q must be of JSON type %s", te.Field, jsonKind(te.Type.Kind().String()))
		}
		return jot.Errorf(jot.EINVALID, "request body has the wrong JSON type")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return jot.Errorf(jot.EINVALID, "malformed JSON: unexpected end")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return jot.Errorf(jot.EINVALID, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	default:
		return jot.Errorf(jot.EINVALID, "malformed JSON")
	}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	default:
		return "number"
	}
}

// params reads a body that may be JSON or form-encoded into flat string
// parameters. With strictJSON, unknown JSON fields (not in allowed) are
// refused; form bodies ignore unknown fields, as HTML forms send extra ones.
func params(r *http.Request, allowed []string, strictJSON bool) (map[string]string, error) {
	mt, err := mediaType(r)
	if err != nil {
		return nil, err
	}
	b, err := readBody(r)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	switch {
	case mt == "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(b))
		if err != nil {
			return nil, jot.Errorf(jot.EINVALID, "malformed form body")
		}
		for _, k := range allowed {
			if vs, ok := vals[k]; ok {
				if len(vs) > 1 {
					// RFC 6749 §3.2: parameters must not be repeated.
					return nil, jot.Errorf(jot.EINVALID, "parameter %q is repeated", k)
				}
				out[k] = vs[0]
			}
		}
		return out, nil
	case isJSONType(mt):
		bt := bytes.TrimSpace(b)
		if len(bt) == 0 {
			return nil, jot.Errorf(jot.EINVALID, "request body is empty")
		}
		if bt[0] != '{' {
			return nil, jot.Errorf(jot.EINVALID, "request body must be a JSON object")
		}
		// Walked key by key rather than decoded into a map, which would let
		// the last of a repeated key win silently.
		dec := json.NewDecoder(bytes.NewReader(bt))
		if _, err := dec.Token(); err != nil {
			return nil, jsonError(err)
		}
		seen := map[string]bool{}
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return nil, jsonError(err)
			}
			k, _ := t.(string)
			if seen[k] {
				return nil, jot.Errorf(jot.EINVALID, "field %q is repeated", k)
			}
			seen[k] = true
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return nil, jsonError(err)
			}
			if !contains(allowed, k) {
				if strictJSON {
					return nil, jot.Errorf(jot.EINVALID, "unknown field %q", k)
				}
				continue
			}
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, jot.Errorf(jot.EINVALID, "field %q must be a string", k)
			}
			out[k] = s
		}
		if _, err := dec.Token(); err != nil {
			return nil, jsonError(err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, jot.Errorf(jot.EINVALID, "unexpected data after the JSON object")
		}
		return out, nil
	default:
		return nil, jot.Errorf(jot.EINVALID, "Content-Type must be application/json or application/x-www-form-urlencoded")
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
