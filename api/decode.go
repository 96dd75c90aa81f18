package api

import (
	"bytes"
	"errors"
	"net/http"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/internal/httpio"
)

// maxBody is the largest request body accepted (docs/api.md §1).
const maxBody = httpio.MaxBody

// bodyError turns a defect of a request body into the API's answer: 413
// payload_too_large, or 400 invalid_request in the decoder's words.
func bodyError(err error) error {
	e, ok := errors.AsType[*httpio.Error](err)
	if !ok {
		return err
	}
	if e.Problem == httpio.TooLarge {
		return &jot.Error{Code: codePayloadTooLarge, Message: e.Msg}
	}
	return &jot.Error{Code: jot.EINVALID, Message: e.Msg}
}

// mediaType returns the request's media type, "" when none is given.
func mediaType(r *http.Request) (string, error) {
	mt, err := httpio.MediaType(r)
	return mt, bodyError(err)
}

// readBody reads the whole body within the size limit.
func readBody(r *http.Request) ([]byte, error) {
	b, err := httpio.Read(r)
	return b, bodyError(err)
}

// decodeJSON decodes a JSON object body into v strictly: unknown fields,
// trailing data and a wrong Content-Type are refused.
func decodeJSON(r *http.Request, v any) error { return decodeBody(r, v, false) }

// decodeOptionalJSON is decodeJSON for a body that may be left out: an
// empty or all-whitespace body leaves v as it is, whatever the headers.
func decodeOptionalJSON(r *http.Request, v any) error { return decodeBody(r, v, true) }

func decodeBody(r *http.Request, v any, optional bool) error {
	mt, mtErr := mediaType(r)
	if mtErr != nil && !optional {
		return mtErr
	}
	b, err := readBody(r)
	if err != nil {
		return err
	}
	blank := len(bytes.TrimSpace(b)) == 0
	switch {
	case blank && optional:
		return nil
	case mtErr != nil:
		return mtErr
	case !blank && !httpio.IsJSON(mt):
		// A request without a body says nothing about its type; one
		// with a body must say it is JSON.
		return jot.Errorf(jot.EINVALID, "Content-Type must be application/json")
	}
	return unmarshalStrict(b, v)
}

// unmarshalStrict decodes one JSON object from b into v, a pointer to a
// struct, with every key one of v's JSON names exactly, once.
func unmarshalStrict(b []byte, v any) error {
	return bodyError(httpio.Strict(b, v))
}

// params reads a body that may be JSON or form-encoded into flat string
// parameters, a JSON null as "". With strictJSON, unknown JSON fields (not
// in allowed) are refused; form bodies ignore unknown fields, as HTML forms
// send extra ones.
func params(r *http.Request, allowed []string, strictJSON bool) (map[string]string, error) {
	mt, err := mediaType(r)
	if err != nil {
		return nil, err
	}
	b, err := readBody(r)
	if err != nil {
		return nil, err
	}
	vals, err := httpio.Params(mt, b, allowed, strictJSON)
	if err != nil {
		return nil, bodyError(err)
	}
	out := make(map[string]string, len(vals))
	for k, v := range vals {
		if v != nil {
			out[k] = *v
		} else {
			out[k] = ""
		}
	}
	return out, nil
}
