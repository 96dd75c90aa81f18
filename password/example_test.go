package password_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/jotauth/jot/password"
)

// Checking a new password against the policy, hashing it, and verifying a
// login attempt.
func Example() {
	for _, pw := range []string{"short", "password123", "correct horse battery staple"} {
		err := password.Validate(pw)
		var fe *password.FieldError
		switch {
		case errors.Is(err, password.ErrTooShort), errors.Is(err, password.ErrTooCommon):
			errors.As(err, &fe)
			fmt.Println(fe)
		case err == nil:
			fmt.Println("ok")
		}
	}

	h, _ := password.New(password.MinCost, 2)
	ctx := context.Background()
	hash, _ := h.Hash(ctx, "correct horse battery staple")
	good, _ := h.Verify(ctx, hash, "correct horse battery staple")
	bad, _ := h.Verify(ctx, hash, "correct horse battery stable")
	fmt.Println(good, bad)
	// Output:
	// password must be at least 8 characters
	// password is too common
	// ok
	// true false
}
