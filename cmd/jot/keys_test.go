package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// keysLines runs `jot keys list` and returns its lines split in fields.
func keysLines(t *testing.T, env []string) [][]string {
	t.Helper()
	code, out, errOut := binRun(t, "", env, "", "keys", "list")
	if code != 0 {
		t.Fatalf("keys list: exit %d: %s", code, errOut)
	}
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 4 && (len(f) != 5 || f[2] != "revoked") {
			t.Fatalf("line %q: want kid, algorithm, state, created (and revoked, for a revoked key)", line)
		}
		rows = append(rows, f)
	}
	return rows
}

// TestKeysListAndRotate: one key a line; a rotation adds a `next` key
// that becomes current after the delay, or at once with --now.
func TestKeysListAndRotate(t *testing.T) {
	env := append(serveDB(t), "JOT_JWKS_MAX_AGE=1h")
	rows := keysLines(t, env)
	if len(rows) != 1 || rows[0][1] != "ES256" || rows[0][2] != "current" {
		t.Fatalf("first start: %v", rows)
	}
	if _, err := time.Parse(time.RFC3339, rows[0][3]); err != nil {
		t.Fatalf("created %q: %v", rows[0][3], err)
	}
	first := rows[0][0]

	if code, out, errOut := binRun(t, "", env, "", "keys", "rotate"); code != 0 || !strings.Contains(out, "new key") {
		t.Fatalf("rotate: exit %d: %s %s", code, out, errOut)
	}
	states := map[string]string{}
	for _, r := range keysLines(t, env) {
		states[r[0]] = r[2]
	}
	if len(states) != 2 || states[first] != "current" {
		t.Fatalf("after a delayed rotation: %v", states)
	}

	if code, _, errOut := binRun(t, "", env, "", "keys", "rotate", "--now"); code != 0 {
		t.Fatalf("rotate --now: exit %d: %s", code, errOut)
	}
	var keys []struct {
		KID, Algorithm, State, Created string
	}
	code, out, errOut := binRun(t, "", env, "", "keys", "list", "--json")
	if code != 0 || json.Unmarshal([]byte(out), &keys) != nil {
		t.Fatalf("keys list --json: exit %d: %s %s", code, out, errOut)
	}
	count := map[string]int{}
	for _, k := range keys {
		count[k.State]++
		if k.KID == first && k.State != "retired" {
			t.Errorf("the first key is %s after rotate --now, want retired", k.State)
		}
		if k.Algorithm != "ES256" || k.Created == "" {
			t.Errorf("key %+v", k)
		}
	}
	if count["current"] != 1 || len(keys) != 3 {
		t.Fatalf("after rotate --now: %+v", keys)
	}
}

// TestKeysRotateRefusedForHS256: the HS256 key is the secret itself.
func TestKeysRotateRefusedForHS256(t *testing.T) {
	env := append(serveDB(t), "JOT_JWT_ALG=HS256", "JOT_JWT_SECRET="+strings.Repeat("k", 32))
	code, _, errOut := binRun(t, "", env, "", "keys", "rotate")
	if code == 0 || !strings.HasPrefix(errOut, "jot: JOT_JWT_ALG: ") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("exit %d: %q", code, errOut)
	}
}

// TestUnknownFlagIsOneUsageLine: a typo in a flag is one line and exit 2.
func TestUnknownFlagIsOneUsageLine(t *testing.T) {
	code, _, errOut := binRun(t, "", serveDB(t), "", "migrate", "--nope")
	if code != 2 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "-nope") {
		t.Fatalf("exit %d: %q", code, errOut)
	}
}
