package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/accounts"
	"github.com/jotauth/jot/password"
)

// FuzzImportParse feeds arbitrary files to the import reader: it never
// panics; a refusal is a message that never quotes a hash; and every record
// it accepts has a normalized, valid email unique in the file, a bcrypt
// hash, a valid role and an acceptable name, with a line within the file.
func FuzzImportParse(f *testing.F) {
	h := importSomeHash
	for _, s := range []string{
		`[{"id": 1, "email": "ada@example.com", "password": "` + h + `", "name": "Ada"}]`,
		"{\"email\": \"a@b.co\", \"password_hash\": \"" + h + "\"}\n{\"email\": \"A@B.co\", \"password\": \"" + h + "\"}\n",
		"\xef\xbb\xbf[\n  {\"email\": \"ｂob@example.com\", \"password\": \"" + h + "\", \"role\": \"admin\"}\n]",
		`{"email": "аda@example.com", "password": "` + h + `"}`,
		`{"email": "x@y.z", "password": "` + h + `", "password_hash": "$2b$10$x"}`,
		`[1, "a", null, {}]`,
		`[{"email": "a@b.co", "password": "` + h + `"}] trailing`,
		`{"email": "a@b.co", "password": "plaintext", "role": "root"}`,
		``, `[`, `{"email": `, `]`, `[]`, `{"email": "a@b.co", "password": "` + h + `"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := importParse(data)
		if err != nil {
			msg := err.Error()
			if msg == "" {
				t.Fatal("empty error")
			}
			if strings.Contains(msg, h) {
				t.Fatalf("error quotes a hash: %s", msg)
			}
			return
		}
		if len(recs) == 0 {
			// Only an empty array holds no records.
			var v []json.RawMessage
			if json.Unmarshal(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), &v) != nil || len(v) != 0 {
				t.Fatalf("accepted a file without records: %q", data)
			}
		}
		lines := strings.Count(string(data), "\n") + 1
		seen := map[string]bool{}
		for _, r := range recs {
			if jot.NormalizeEmail(r.email) != r.email || accounts.ValidateEmail(r.email) != "" {
				t.Fatalf("accepted email %q", r.email)
			}
			if seen[r.email] {
				t.Fatalf("accepted %q twice", r.email)
			}
			seen[r.email] = true
			if !password.IsBcrypt(r.hash) || !r.role.Valid() || accounts.ValidateName(r.name) != "" {
				t.Fatalf("accepted record %+v", r)
			}
			if r.line < 1 || r.line > lines {
				t.Fatalf("line %d of a %d-line file", r.line, lines)
			}
		}
	})
}
