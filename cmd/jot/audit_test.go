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
