package main

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// oneLine checks a failure: exit code, one line on stderr holding want,
// nothing on stdout.
func oneLine(t *testing.T, what string, code int, out, errOut string, wantCode int, want string) {
	t.Helper()
	if code != wantCode || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "jot: ") || !strings.Contains(errOut, want) || out != "" {
		t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d and one line with %q", what, code, out, errOut, wantCode, want)
	}
}

// TestKeysRevoke: the current key is refused until rotated away, an
// unknown kid is named, a retired key is revoked (listed as revoked with
// when), and revoking it again says so and succeeds.
func TestKeysRevoke(t *testing.T) {
	env := serveDB(t)
	first := keysLines(t, env)[0][0]

	code, out, errOut := binRun(t, "", env, "", "keys", "revoke", first)
	oneLine(t, "revoking the current key", code, out, errOut, 1, `key `+first+` is the current signing key: rotate it away first with "jot keys rotate --now", then revoke it`)
	code, out, errOut = binRun(t, "", env, "", "keys", "revoke", "no-such-kid")
	oneLine(t, "an unknown kid", code, out, errOut, 1, `unknown signing key "no-such-kid"`)
	code, out, errOut = binRun(t, "", env, "", "keys", "revoke")
	oneLine(t, "no kid", code, out, errOut, 2, "usage: jot keys revoke KID")

	if code, _, errOut := binRun(t, "", env, "", "keys", "rotate", "--now"); code != 0 {
		t.Fatalf("rotate --now: exit %d: %s", code, errOut)
	}
	code, out, errOut = binRun(t, "", env, "", "keys", "revoke", first)
	if code != 0 || !strings.HasPrefix(out, "revoked key "+first+" at ") {
		t.Fatalf("revoke: exit %d: %q %q", code, out, errOut)
	}
	code, out, errOut = binRun(t, "", env, "", "keys", "revoke", first)
	if code != 0 || !strings.HasPrefix(out, "key "+first+" was already revoked at ") {
		t.Fatalf("revoke again: exit %d: %q %q", code, out, errOut)
	}

	states := map[string][]string{}
	for _, r := range keysLines(t, env) {
		states[r[0]] = r[2:]
	}
	if r := states[first]; len(states) != 2 || len(r) != 3 || r[0] != "revoked" {
		t.Fatalf("keys list after revoking %s: %v", first, states)
	} else if _, err := time.Parse(time.RFC3339, r[2]); err != nil {
		t.Fatalf("revoked at %q: %v", r[2], err)
	}
	var keys []struct {
		KID, State string
		Revoked    *time.Time
	}
	code, out, errOut = binRun(t, "", env, "", "keys", "list", "--json")
	if code != 0 || json.Unmarshal([]byte(out), &keys) != nil {
		t.Fatalf("keys list --json: exit %d: %s %s", code, out, errOut)
	}
	for _, k := range keys {
		if (k.KID == first) != (k.State == "revoked" && k.Revoked != nil) {
			t.Errorf("key %+v", k)
		}
	}
	// A new rotation still works beside the revoked key.
	if code, _, errOut := binRun(t, "", env, "", "keys", "rotate", "--now"); code != 0 {
		t.Fatalf("rotate after a revocation: exit %d: %s", code, errOut)
	}
}

// TestKeyEncryptionStartErrors: the keys commands and serve take
// JOT_KEY_ENCRYPTION_KEY; once the keys are encrypted, a missing or wrong
// key stops each with one line and nothing started; a malformed setting
// is one line that does not quote it.
func TestKeyEncryptionStartErrors(t *testing.T) {
	db := serveDB(t)
	kek := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32)))
	wrong := base64.URLEncoding.EncodeToString([]byte(strings.Repeat("w", 32)))
	// A plaintext key, then encrypted by the first command with the key.
	keysLines(t, db)
	withKEK := append(db[:len(db):len(db)], "JOT_KEY_ENCRYPTION_KEY="+kek)
	if rows := keysLines(t, withKEK); len(rows) != 1 || rows[0][2] != "current" {
		t.Fatalf("keys list with the key: %v", rows)
	}
	if code, _, errOut := binRun(t, "", withKEK, "", "keys", "rotate"); code != 0 {
		t.Fatalf("rotate with the key: exit %d: %s", code, errOut)
	}

	missing := "JOT_KEY_ENCRYPTION_KEY: not set, but the stored signing keys are encrypted: set it to the key that encrypted them"
	wrongMsg := "JOT_KEY_ENCRYPTION_KEY: does not decrypt the stored signing keys: it is not the key that encrypted them"
	serve := []string{"serve", "--addr", "127.0.0.1:0"}
	for _, tc := range []struct {
		env  []string
		args []string
		want string
	}{
		{db, serve, missing},
		{db, []string{"keys", "list"}, missing},
		{db, []string{"keys", "rotate", "--now"}, missing},
		{db, []string{"keys", "revoke", "x"}, missing},
		{append(db[:len(db):len(db)], "JOT_KEY_ENCRYPTION_KEY="+wrong), serve, wrongMsg},
		{db, []string{"keys", "list", "--key-encryption-key", wrong}, wrongMsg},
		{db, []string{"keys", "rotate", "--key-encryption-key", wrong}, wrongMsg},
		{append(db[:len(db):len(db)], "JOT_KEY_ENCRYPTION_KEY=not base64!"), serve, "JOT_KEY_ENCRYPTION_KEY: is not base64"},
		{append(db[:len(db):len(db)], "JOT_KEY_ENCRYPTION_KEY="+base64.StdEncoding.EncodeToString(make([]byte, 16))), []string{"keys", "list"}, "JOT_KEY_ENCRYPTION_KEY: must be 32 bytes in base64, got 16 bytes"},
	} {
		code, out, errOut := binRun(t, "", tc.env, "", tc.args...)
		oneLine(t, strings.Join(tc.args, " "), code, out, errOut, 1, tc.want)
		if strings.Contains(errOut, "not base64!") || strings.Contains(errOut, wrong) {
			t.Errorf("the setting's value is quoted: %q", errOut)
		}
	}
	// Still readable with the right key: nothing was changed by the refusals.
	if rows := keysLines(t, withKEK); len(rows) != 2 {
		t.Fatalf("keys list with the key after the refusals: %v", rows)
	}
}

// TestKeysRevokeHelp: revoke's help says what it does and lists only its
// settings, the key encryption key among them.
func TestKeysRevokeHelp(t *testing.T) {
	code, out, _ := binRun(t, "", serveDB(t), "", "keys", "revoke", "-h")
	if code != 0 || !strings.Contains(out, "jot keys revoke KID") || !strings.Contains(out, "-key-encryption-key") ||
		!strings.Contains(out, "rotate --now") || strings.Contains(out, "-cors-origins") {
		t.Fatalf("exit %d: %s", code, out)
	}
}
