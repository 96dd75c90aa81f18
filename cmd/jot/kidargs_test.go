package main

import (
	"slices"
	"testing"
)

// TestKidArgs: a kid that starts with a dash (one in 64 do) reaches
// `jot keys revoke` as its argument, not as an unknown flag.
func TestKidArgs(t *testing.T) {
	const dashKid = "-mBvPa8F1eQnC0pXyZ2u3kT9hWs7dLrJ4oIgN5qE6fU"
	const kid = "mBvPa8F1eQnC0pXyZ2u3kT9hWs7dLrJ4oIgN5qE6fU-"
	for _, tt := range []struct{ in, want []string }{
		{[]string{kid}, []string{kid}},
		{[]string{dashKid}, []string{"--", dashKid}},
		{[]string{"-log-format", "json", dashKid}, []string{"-log-format", "json", "--", dashKid}},
		{[]string{dashKid, "-log-format=json"}, []string{"-log-format=json", "--", dashKid}},
		{[]string{"--", dashKid}, []string{"--", dashKid}},
		{[]string{"-h"}, []string{"-h"}},
	} {
		if got := kidArgs(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("kidArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
