package password_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/jotauth/jot/password"
)

func checkValidation(t *testing.T, err error, want string) {
	t.Helper()
	var fe *password.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error = %v, want a *password.FieldError", err)
	}
	if fe.Field != "password" || fe.Err.Error() != want {
		t.Errorf("error = field %q %q, want password %q", fe.Field, fe.Err, want)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	const (
		short  = "must be at least 8 characters"
		long   = "must be at most 72 bytes"
		spaces = "must not be all whitespace"
		common = "is too common"
	)
	tests := []struct {
		name, password, want string
	}{
		{"empty", "", short},
		{"7 bytes", "x7#kq2m", short},
		{"8 bytes", "x7#kq2mZ", ""},
		{"72 bytes", strings.Repeat("a", 71) + "b", ""},
		{"73 bytes", strings.Repeat("a", 73), long},
		{"4 two-byte letters: 8 bytes, 4 characters", "éßäö", short},
		{"8 two-byte letters", "éßäöüñçø", ""},
		{"36 two-byte letters: 72 bytes", strings.Repeat("é", 36), ""},
		{"37 two-byte letters: 74 bytes", strings.Repeat("é", 37), long},
		{"24 three-byte letters: 72 bytes", strings.Repeat("€", 24), ""},
		{"25 three-byte letters: 75 bytes", strings.Repeat("€", 25), long},
		{"71 bytes then a two-byte letter", strings.Repeat("a", 71) + "é", long},
		{"18 four-byte emoji: 72 bytes", strings.Repeat("🔑", 18), ""},
		{"combining marks do not count: 4 letters, 4 accents", "e\u0301a\u0301o\u0301u\u0301", short},
		{"7 letters and a combining mark", "abcdefe\u0301", short},
		{"8 letters and a combining mark", "kq7zxwpe\u0301", ""},
		{"a lone combining mark counts for nothing", strings.Repeat("\u0301", 8), short},
		{"eight spaces", "        ", spaces},
		{"tabs, newlines and no-break spaces", "\t\n\u00a0\u2003\t\n\u00a0\u2003", spaces},
		{"spaces around a word are fine", "  kq7zxwp  ", ""},
		{"common", "password", common},
		{"common, upper case", "PASSWORD", common},
		{"common, mixed case", "PassWord1", common},
		{"common digits", "12345678", common},
		{"common, far down the list", "iloveyou2", common},
		{"a passphrase", "correct horse battery staple", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := password.Validate(tt.password)
			if tt.want == "" {
				if err != nil {
					t.Errorf("Validate(%q) = %v, want nil", tt.password, err)
				}
				return
			}
			checkValidation(t, err, tt.want)
		})
	}
}

func TestCommonList(t *testing.T) {
	t.Parallel()
	// The top of the source's ranking, and its last entries of 8 or more
	// characters, are all on the list.
	for _, pw := range []string{"password", "12345678", "qwertyuiop", "baseball", "football", "trustno1", "1qaz2wsx", "dimazarya", "12141618"} {
		if !password.Common(pw) || !password.Common(strings.ToUpper(pw)) {
			t.Errorf("Common(%q) = false, want true in any case", pw)
		}
	}
	for _, pw := range []string{"", "kq7zxwp#Lm", "correct horse battery staple", "password\n12345678", "passwor", "password "} {
		if password.Common(pw) {
			t.Errorf("Common(%q) = true, want false", pw)
		}
	}
}

func TestValidateSentinels(t *testing.T) {
	for pw, want := range map[string]error{
		"short":                 password.ErrTooShort,
		strings.Repeat("a", 73): password.ErrTooLong,
		"          ":            password.ErrWhitespace,
		"Password123":           password.ErrTooCommon,
	} {
		err := password.Validate(pw)
		var fe *password.FieldError
		if !errors.Is(err, want) || !errors.As(err, &fe) || fe.Field != "password" {
			t.Errorf("Validate(%.10q) = %v, want %v", pw, err, want)
		}
	}
}
