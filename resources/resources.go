// Package resources is the service of jot's example resources, tasks and
// recipes. It asks policy who may do what, holds owners to their quota
// (and, through Options.Writes, to a write budget), validates what is
// written and keeps it in a jot store. The HTTP layer decodes, calls it
// and writes what it returns.
//
// Methods that take a body take it as a function that decodes it, and call
// that only once the caller is known to be allowed: a caller who may not
// touch a thing learns nothing from how its body would have been judged.
package resources

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/policy"
)

// Options tune the services.
type Options struct {
	// MaxPerUser is the most tasks, and the most recipes, a user may own
	// (JOT_MAX_RESOURCES; 0: no bound).
	MaxPerUser int
	// Writes, if set, takes one write (a create, update or delete) from the
	// caller's budget before anything else about it is looked at; an error
	// it returns is returned as is.
	Writes func(ctx context.Context, userID string) error
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

func (o *Options) write(ctx context.Context, sub policy.Subject) error {
	if o.Writes == nil {
		return nil
	}
	return o.Writes(ctx, sub.UserID)
}

func (o *Options) now() time.Time {
	if o.Now == nil {
		return time.Now().UTC()
	}
	return o.Now().UTC()
}

// Field is a field of a change as a JSON body sends it: whether it was
// sent, and whether as null, which a pointer cannot tell apart. An update
// leaves fields that were not sent alone, and a null is an invalid value,
// not a missing field.
type Field[T any] struct {
	Set  bool
	Null bool
	V    T
}

// UnmarshalJSON implements json.Unmarshaler; it is only called for fields
// present in the body.
func (f *Field[T]) UnmarshalJSON(b []byte) error {
	f.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		f.Null = true
		return nil
	}
	return json.Unmarshal(b, &f.V)
}

// missingField is the answer to a required field that was not sent: 400
// invalid_request, as docs/api.md has it for a missing field.
func missingField(name string) error {
	return jot.Errorf(jot.EINVALID, "missing field %q", name)
}

// Limits of resource fields, in characters.
const (
	maxTitle        = 200
	maxIngredient   = 200
	maxIngredients  = 100
	maxInstructions = 10000
)

// checkLine validates a one-line text: trimmed, 1 to max characters, no
// control characters. It returns the trimmed text and what is wrong, if
// anything.
func checkLine(s string, max int) (string, string) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return s, "must not be empty"
	case utf8.RuneCountInString(s) > max:
		return s, fmt.Sprintf("must be at most %d characters", max)
	case hasControl(s, false):
		return s, "must not contain control characters"
	}
	return s, ""
}

// hasControl reports whether s holds a control character; with multiline,
// line breaks and tabs are allowed.
func hasControl(s string, multiline bool) bool {
	for _, r := range s {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return true
		}
	}
	return false
}
