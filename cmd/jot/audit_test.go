package main

import (
	"context"
	"strings"
	"testing"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/sqlite"
)

// TestKeysRotateIsAudited: `jot keys rotate` leaves a key_rotated event
// whose actor is the command line, naming the new key.
func TestKeysRotateIsAudited(t *testing.T) {
	env := serveDB(t)
	keysLines(t, env)
	code, out, errOut := binRun(t, "", env, "", "keys", "rotate", "--now")
	if code != 0 {
		t.Fatalf("rotate: exit %d: %s", code, errOut)
	}
	kid := strings.Fields(out)[2]
	path := strings.TrimPrefix(env[0], "JOT_DATABASE_URL=sqlite://")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.ListAudit(context.Background(), jot.AuditFilter{Event: jot.AuditKeyRotated}, jot.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].ActorID != jot.AuditActorCLI || evs[0].Detail["kid"] != kid || evs[0].Detail["now"] != true {
		t.Fatalf("key_rotated events %+v, want one by %q for %s", evs, jot.AuditActorCLI, kid)
	}
}

// auditEvents opens the database of env (sqlite) and lists its events
// named name, newest first.
func auditEvents(t *testing.T, env []string, name string) []*jot.AuditEvent {
	t.Helper()
	path := strings.TrimPrefix(env[0], "JOT_DATABASE_URL=sqlite://")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.ListAudit(context.Background(), jot.AuditFilter{Event: name}, jot.Page{})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// TestKeysRevokeIsAudited: `jot keys revoke` leaves one key_revoked event
// whose actor is the command line, naming the key; revoking it again, or
// a refused revocation, leaves none.
func TestKeysRevokeIsAudited(t *testing.T) {
	env := serveDB(t)
	first := keysLines(t, env)[0][0]
	if code, _, _ := binRun(t, "", env, "", "keys", "revoke", first); code != 1 {
		t.Fatalf("revoking the current key: exit %d", code)
	}
	if evs := auditEvents(t, env, jot.AuditKeyRevoked); len(evs) != 0 {
		t.Fatalf("a refused revocation left %+v", evs)
	}
	if code, _, errOut := binRun(t, "", env, "", "keys", "rotate", "--now"); code != 0 {
		t.Fatalf("rotate --now: exit %d: %s", code, errOut)
	}
	for range 2 {
		if code, _, errOut := binRun(t, "", env, "", "keys", "revoke", first); code != 0 {
			t.Fatalf("revoke: exit %d: %s", code, errOut)
		}
	}
	evs := auditEvents(t, env, jot.AuditKeyRevoked)
	if len(evs) != 1 || evs[0].ActorID != jot.AuditActorCLI || evs[0].Detail["kid"] != first || evs[0].UserID != "" {
		t.Fatalf("key_revoked events %+v, want one by %q for %s", evs, jot.AuditActorCLI, first)
	}
}

// TestUsersResetLinkIsAudited: `jot users reset-link` leaves a
// password_reset_requested event about the user, by the command line;
// an unknown email leaves none.
func TestUsersResetLinkIsAudited(t *testing.T) {
	env := serveDB(t)
	code, out, errOut := binRun(t, "", env, "cli created password\n", "users", "create", "--email", "rl@example.com", "--password-stdin")
	if code != 0 {
		t.Fatalf("users create: exit %d: %s", code, errOut)
	}
	if code, _, errOut := binRun(t, "", env, "", "users", "reset-link", "--email", "rl@example.com"); code != 0 {
		t.Fatalf("reset-link: exit %d: %s", code, errOut)
	}
	if code, _, _ := binRun(t, "", env, "", "users", "reset-link", "--email", "nobody@example.com"); code != 1 {
		t.Fatalf("reset-link for an unknown email: exit %d", code)
	}
	evs := auditEvents(t, env, jot.AuditPasswordResetRequest)
	if len(evs) != 1 || evs[0].ActorID != jot.AuditActorCLI || evs[0].UserID == "" || !strings.Contains(out, evs[0].UserID) ||
		evs[0].Detail["by"] != "cli" || evs[0].IP != "" || evs[0].RequestID != "" {
		t.Fatalf("password_reset_requested events %+v, want one by %q about the user in %q", evs, jot.AuditActorCLI, out)
	}
}
