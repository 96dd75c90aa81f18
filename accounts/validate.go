package accounts

import (
	"errors"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/password"
)

// ValidateEmail checks an email's shape and returns what is wrong with it,
// or "" when nothing is. The value must already be normalized.
func ValidateEmail(email string) string {
	if email == "" {
		return "is required"
	}
	if len(email) > 254 {
		return "must be at most 254 characters"
	}
	if msg := emailLookAlike(email); msg != "" {
		return msg
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" {
		return "must be a valid email address"
	}
	at := strings.LastIndexByte(email, '@')
	if at < 1 || !strings.Contains(email[at+1:], ".") || strings.HasSuffix(email, ".") {
		return "must be a valid email address"
	}
	return ""
}

// ValidateName checks a display name and returns what is wrong with it, or
// "" when nothing is.
func ValidateName(name string) string {
	if !utf8.ValidString(name) {
		return "must be valid UTF-8"
	}
	if utf8.RuneCountInString(name) > 100 {
		return "must be at most 100 characters"
	}
	if strings.IndexFunc(name, refusedInName) >= 0 {
		return "must not contain control characters, bidi controls or zero-width spaces"
	}
	return ""
}

// policyMessage is the message of password.Validate's error to show under
// the password's field: the rule broken ("must be at least 8 characters").
func policyMessage(err error) string {
	var fe *password.FieldError
	if errors.As(err, &fe) {
		return fe.Err.Error()
	}
	return err.Error()
}

// validateNewUser checks a new account's fields and returns the email and
// name normalized.
func validateNewUser(email, pw, name string, role jot.Role) (string, string, error) {
	email = jot.NormalizeEmail(email)
	name = strings.TrimSpace(name)
	fields := map[string]string{}
	if msg := ValidateEmail(email); msg != "" {
		fields["email"] = msg
	}
	if err := password.Validate(pw); err != nil {
		fields["password"] = policyMessage(err)
	}
	if msg := ValidateName(name); msg != "" {
		fields["name"] = msg
	}
	if !role.Valid() {
		fields["role"] = "must be \"user\" or \"admin\""
	}
	if len(fields) > 0 {
		return "", "", jot.ValidationError(fields)
	}
	return email, name, nil
}
