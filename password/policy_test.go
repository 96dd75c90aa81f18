package password

import (
	"errors"
	"strings"
	"testing"

	"github.com/jotauth/jot"
)

func checkValidation(t *testing.T, err error, want string) {
	t.Helper()
	var e *jot.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want a *jot.Error", err)
	}
	if e.Code != jot.EVALIDATION || e.Fields["password"] != want || len(e.Fields) != 1 {
		t.Errorf("error = code %q fields %v, want %q {password: %q}", e.Code, e.Fields, jot.EVALIDATION, want)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	const short, long = "must be at least 8 characters", "must be at most 72 bytes"
	tests := []struct {
		name, password, want string
	}{
		{"empty", "", short},
		{"7 bytes", "1234567", short},
		{"8 bytes", "12345678", ""},
		{"72 bytes", strings.Repeat("a", 72), ""},
		{"73 bytes", strings.Repeat("a", 73), long},
		{"4 two-byte letters: 8 bytes, 4 characters", "éééé", short},
		{"8 two-byte letters", "éééééééé", ""},
		{"36 two-byte letters: 72 bytes", strings.Repeat("é", 36), ""},
		{"37 two-byte letters: 74 bytes", strings.Repeat("é", 37), long},
		{"24 three-byte letters: 72 bytes", strings.Repeat("€", 24), ""},
		{"25 three-byte letters: 75 bytes", strings.Repeat("€", 25), long},
		{"71 bytes then a two-byte letter", strings.Repeat("a", 71) + "é", long},
		{"18 four-byte emoji: 72 bytes", strings.Repeat("🔑", 18), ""},
		{"spaces count", "        ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.password)
			if tt.want == "" {
				if err != nil {
					t.Errorf("Validate = %v, want nil", err)
				}
				return
			}
			checkValidation(t, err, tt.want)
		})
	}
}
