package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jotauth/jot"
)

func TestChannelNames(t *testing.T) {
	for _, schema := range []string{"", "public"} {
		if got := channelsFor(schema); got != (channels{"jot_revocations", "jot_keys"}) {
			t.Errorf("channelsFor(%q) = %+v, want the plain names", schema, got)
		}
	}
	if got := channelsFor("jot"); got != (channels{"jot_revocations:jot", "jot_keys:jot"}) {
		t.Errorf("channelsFor(jot) = %+v", got)
	}
	// The longest name that fits stays readable; one byte more is hashed.
	fits := strings.Repeat("s", maxChannel-len("jot_revocations:"))
	if got := channelIn(revocationChannel, fits); got != "jot_revocations:"+fits {
		t.Errorf("channelIn(%q) = %q", fits, got)
	}
	long1, long2 := fits+"1", fits+"2"
	a, b := channelIn(revocationChannel, long1), channelIn(revocationChannel, long2)
	if len(a) > maxChannel || len(b) > maxChannel || a == b || !strings.HasPrefix(a, "jot_revocations#") {
		t.Errorf("long schemas: %q, %q; want distinct hashed names of at most %d bytes", a, b, maxChannel)
	}
	if a != channelIn(revocationChannel, long1) {
		t.Error("a long schema's channel differs from one call to the next")
	}
}

// listenBoth runs db's ListenRevocations and ListenKeys until the test
// ends and returns their calls, once both listen.
func listenBoth(t *testing.T, db *DB) (revs, keys chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	revs, keys = make(chan struct{}, 100), make(chan struct{}, 100)
	done := make(chan struct{}, 2)
	go func() { db.ListenRevocations(ctx, func() { revs <- struct{}{} }); done <- struct{}{} }()
	go func() { db.ListenKeys(ctx, func() { keys <- struct{}{} }); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done })
	waitCall(t, revs, 5*time.Second, "when revocations listening starts")
	waitCall(t, keys, 5*time.Second, "when keys listening starts")
	return revs, keys
}

// TestListenSchemas: the instances of one schema wake each other, those of
// another schema of the same database do not, whether the schema's name
// fits in the channel's or is hashed.
func TestListenSchemas(t *testing.T) {
	ctx := t.Context()
	short := newSchema(t)
	long := newSchemaNamed(t, randomName("jot_test_a_schema_name_too_long_for_a_channel_"))
	type instance struct {
		db         *DB
		revs, keys chan struct{}
	}
	var is []instance
	for _, u := range []string{short, short, long, long} {
		db := open(t, u)
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		revs, keys := listenBoth(t, db)
		is = append(is, instance{db, revs, keys})
	}
	if is[0].db.ch == is[2].db.ch || is[0].db.ch != is[1].db.ch || is[2].db.ch != is[3].db.ch {
		t.Fatalf("channels %+v, %+v; want one pair per schema", is[0].db.ch, is[2].db.ch)
	}
	if !strings.Contains(is[2].db.ch.revocations, "#") {
		t.Errorf("channel %q of the long schema, want a hashed name", is[2].db.ch.revocations)
	}

	for _, from := range []int{0, 2} {
		same, other := is[from+1], is[2-from]
		user := mustUser(t, is[from].db, jot.RoleUser)
		s := mustSession(t, is[from].db, user)
		for _, in := range is {
			drain(in.revs)
			drain(in.keys)
		}
		if err := is[from].db.EndSession(ctx, s.ID, time.Now()); err != nil {
			t.Fatalf("EndSession: %v", err)
		}
		waitCall(t, same.revs, time.Second, "after a session ended in the same schema")
		noCall(t, other.revs, 200*time.Millisecond, "after a session ended in another schema")
		if err := is[from].db.CreateSigningKey(ctx, &jot.SigningKey{KID: "k-schemas", Alg: "ES256", Private: []byte("x"), CreatedAt: time.Now()}); err != nil {
			t.Fatalf("CreateSigningKey: %v", err)
		}
		waitCall(t, same.keys, time.Second, "after a key was stored in the same schema")
		noCall(t, other.keys, 200*time.Millisecond, "after a key was stored in another schema")
	}
}
