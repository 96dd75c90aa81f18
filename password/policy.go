package password

import (
	"unicode/utf8"

	"github.com/jotauth/jot"
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

// Validate applies the password policy. It returns nil or a *jot.Error with
// code jot.EVALIDATION and the problem under Fields["password"].
//
// The minimum counts characters, so a password of four two-byte letters is
// too short; the maximum counts bytes, so 24 three-byte letters fit and 25
// do not. Nothing else is required: composition rules push users to worse
// passwords, per NIST SP 800-63B.
func Validate(password string) error {
	switch {
	case utf8.RuneCountInString(password) < MinChars:
		return jot.ValidationError(map[string]string{"password": "must be at least 8 characters"})
	case len(password) > MaxBytes:
		return tooLong()
	}
	return nil
}

func tooLong() error {
	return jot.ValidationError(map[string]string{"password": "must be at most 72 bytes"})
}
