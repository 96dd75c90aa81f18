package jot_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jotauth/jot"
)

func TestTimestampsAreWholeSecondsUTC(t *testing.T) {
	at := time.Date(2026, 11, 24, 11, 0, 0, 123456789, time.FixedZone("CET", 3600))
	for name, v := range map[string]any{
		"user":   jot.User{ID: "u", Role: jot.RoleUser, PasswordHash: "secret-hash", CreatedAt: at, UpdatedAt: at},
		"task":   &jot.Task{ID: "t", CreatedAt: at, UpdatedAt: at},
		"recipe": jot.Recipe{ID: "r", CreatedAt: at, UpdatedAt: at},
	} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"created_at", "updated_at"} {
			if m[k] != "2026-11-24T10:00:00Z" {
				t.Errorf("%s %s = %v", name, k, m[k])
			}
		}
		if strings.Contains(string(b), "secret-hash") {
			t.Errorf("%s leaks the password hash: %s", name, b)
		}
		if name == "recipe" && !strings.Contains(string(b), `"ingredients":[]`) {
			t.Errorf("recipe ingredients: %s", b)
		}
	}
}
