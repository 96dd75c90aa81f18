package password

import (
	_ "embed"
	"errors"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// MinChars and MaxBytes are the password policy's bounds.
const (
	// MinChars is the shortest password in characters, NIST SP 800-63B's
	// minimum for a password chosen by its user.
	MinChars = 8
	// MaxBytes is the longest password in bytes: bcrypt's own limit, which
	// it would otherwise enforce by silently ignoring the rest.
	MaxBytes = 72
)

// The policy's answers: Validate's error matches one of them (errors.Is),
// and its text is the message under Fields["password"].
var (
	ErrTooShort   = errors.New("must be at least 8 characters")
	ErrTooLong    = errors.New("must be at most 72 bytes")
	ErrWhitespace = errors.New("must not be all whitespace")
	ErrTooCommon  = errors.New("is too common")
)

// FieldError is a value that breaks the policy: Field is the request field
// ("password"), Err one of the policy's answers.
type FieldError struct {
	Field string
	Err   error
}

// Error reads as a sentence: "password must be at least 8 characters".
func (e *FieldError) Error() string { return e.Field + " " + e.Err.Error() }

// Unwrap returns the policy's answer.
func (e *FieldError) Unwrap() error { return e.Err }

//go:generate go run ./internal/commongen

// commonList is one lower-cased password a line; common-passwords.md says
// where it comes from.
//
//go:embed common-passwords.txt
var commonList string

// commonSorted is commonList split and sorted, built on first use. The
// strings point into the embedded data, so the list costs one slice
// header a password (about 250 KB) beyond the data itself, and a look-up
// is a binary search.
var commonSorted = sync.OnceValue(func() []string {
	list := strings.Split(strings.TrimSuffix(commonList, "\n"), "\n")
	slices.Sort(list)
	return list
})

// Common reports whether password is on the list of common passwords,
// compared case-insensitively: the passwords of at least MinChars
// characters among zxcvbn's ranked list of common passwords.
func Common(password string) bool {
	_, found := slices.BinarySearch(commonSorted(), strings.ToLower(password))
	return found
}

// Validate applies the password policy. It returns nil or a *FieldError
// for the field "password": errors.Is(err, ErrTooShort) tells which rule,
// and the rule's text is the message to show under the field (the server
// answers it as EVALIDATION, its text under Fields["password"]).
//
// A password needs at least MinChars characters that are not combining
// marks (so "e" followed by U+0301 is one character, as it looks), at most
// MaxBytes bytes, something other than whitespace, and must not be a
// common password (Common). Nothing else is required: composition rules
// push users to worse passwords, per NIST SP 800-63B.
func Validate(password string) error {
	switch {
	case chars(password) < MinChars:
		return invalid(ErrTooShort)
	case len(password) > MaxBytes:
		return tooLong()
	case strings.TrimFunc(password, unicode.IsSpace) == "":
		return invalid(ErrWhitespace)
	case Common(password):
		return invalid(ErrTooCommon)
	}
	return nil
}

// chars counts the characters of s that are not combining marks (Unicode
// category M). Bytes that are not UTF-8 count one each.
func chars(s string) int {
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || !unicode.Is(unicode.M, r) {
			n++
		}
		i += size
	}
	return n
}

func invalid(rule error) error {
	return &FieldError{Field: "password", Err: rule}
}

func tooLong() error { return invalid(ErrTooLong) }
