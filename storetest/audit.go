package storetest

import (
	"testing"
	"time"

	"github.com/jotauth/jot"
)

// auditOf is an Audit of one event named name about u, with a template
// for the sessions the call ends.
func auditOf(name string, u *jot.User) *jot.Audit {
	e := jot.NewAuditEvent(name, base())
	e.UserID, e.ActorID, e.IP, e.UserAgent, e.RequestID = u.ID, u.ID, "192.0.2.1", "agent/1.0", "req-1"
	e.Detail = map[string]any{"fields": []any{"name"}}
	ended := jot.NewAuditEvent(jot.AuditSessionEnded, base())
	ended.UserID, ended.Detail = u.ID, map[string]any{"why": "admin_change"}
	return &jot.Audit{Events: []*jot.AuditEvent{e}, Ended: ended}
}

func listAudit(t *testing.T, s jot.Store, f jot.AuditFilter, p jot.Page) []*jot.AuditEvent {
	t.Helper()
	evs, err := s.ListAudit(t.Context(), f, p)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// testAuditWrites: the write calls store their audit with the change, one
// copy of the Ended template per session ended, and nothing when refused.
func testAuditWrites(t *testing.T, s jot.Store) {
	ctx := t.Context()
	admin := mustUser(t, s, "admin@example.com", jot.RoleAdmin)
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	s1, _ := mustSession(t, s, u, base())
	s2, _ := mustSession(t, s, u, base().Add(time.Second))

	name := "Ada"
	a := auditOf(jot.AuditUserUpdated, u)
	if _, err := s.UpdateUser(ctx, u.ID, jot.UserUpdate{Name: &name, EndSessions: true, EndSessionsExcept: s2.ID}, base(), a); err != nil {
		t.Fatal(err)
	}
	got := listAudit(t, s, jot.AuditFilter{UserID: u.ID}, jot.Page{})
	if len(got) != 2 || len(a.Events) != 2 {
		t.Fatalf("stored %d events (audit holds %d), want the update and one session_ended", len(got), len(a.Events))
	}
	// Newest first: the copy was made after the event.
	ended, upd := got[0], got[1]
	if ended.Event != jot.AuditSessionEnded || ended.SessionID != s1.ID || ended.Detail["why"] != "admin_change" {
		t.Errorf("session_ended stored as %+v", ended)
	}
	want := a.Events[0]
	if upd.ID != want.ID || upd.Event != jot.AuditUserUpdated || upd.UserID != u.ID || upd.ActorID != u.ID ||
		upd.IP != "192.0.2.1" || upd.UserAgent != "agent/1.0" || upd.RequestID != "req-1" || upd.SessionID != "" ||
		!upd.Time.Equal(base()) || upd.Time.Location() != time.UTC {
		t.Errorf("event stored as %+v, want %+v", upd, want)
	}
	if fs, _ := upd.Detail["fields"].([]any); len(fs) != 1 || fs[0] != "name" {
		t.Errorf("detail stored as %v", upd.Detail)
	}

	// Refused writes store nothing: the last admin, a duplicate email.
	role := jot.RoleUser
	if _, err := s.UpdateUser(ctx, admin.ID, jot.UserUpdate{Role: &role}, base(), auditOf(jot.AuditUserUpdated, admin)); jot.ErrorCode(err) != jot.ECONFLICT {
		t.Fatalf("demoting the last admin: %v", err)
	}
	if err := s.DeleteUser(ctx, admin.ID, base(), auditOf(jot.AuditUserDeleted, admin)); jot.ErrorCode(err) != jot.ECONFLICT {
		t.Fatalf("deleting the last admin: %v", err)
	}
	dup := newUser("ADA@example.com", jot.RoleUser)
	if err := s.CreateUser(ctx, dup, auditOf(jot.AuditSignup, dup)); jot.ErrorCode(err) != jot.ECONFLICT {
		t.Fatalf("duplicate email: %v", err)
	}
	if err := s.EndSession(ctx, s1.ID, base(), auditOf(jot.AuditLogout, u)); jot.ErrorCode(err) != jot.ENOTFOUND {
		t.Fatalf("ending an ended session: %v", err)
	}
	if n := len(listAudit(t, s, jot.AuditFilter{}, jot.Page{})); n != 2 {
		t.Fatalf("%d events after refused writes, want 2", n)
	}

	// EndUserSessions and DeleteUser: one copy per session ended.
	s3, _ := mustSession(t, s, u, base().Add(2*time.Second))
	logout := &jot.Audit{Ended: jot.NewAuditEvent(jot.AuditLogout, base())}
	logout.Ended.UserID = u.ID
	if err := s.EndUserSessions(ctx, u.ID, "", base(), logout); err != nil {
		t.Fatal(err)
	}
	if evs := listAudit(t, s, jot.AuditFilter{Event: jot.AuditLogout}, jot.Page{}); len(evs) != 2 ||
		!(evs[0].SessionID == s3.ID && evs[1].SessionID == s2.ID || evs[0].SessionID == s2.ID && evs[1].SessionID == s3.ID) {
		t.Fatalf("logout events %+v, want one each for s2 and s3", evs)
	}
	if err := s.DeleteUser(ctx, u.ID, base(), auditOf(jot.AuditUserDeleted, u)); err != nil {
		t.Fatal(err)
	}
	// The events outlive their user.
	if evs := listAudit(t, s, jot.AuditFilter{UserID: u.ID, Event: jot.AuditUserDeleted}, jot.Page{}); len(evs) != 1 {
		t.Fatalf("user_deleted events: %d", len(evs))
	}

	// A new user with an audit, and a session start.
	v := newUser("bo@example.com", jot.RoleUser)
	if err := s.CreateUser(ctx, v, auditOf(jot.AuditSignup, v)); err != nil {
		t.Fatal(err)
	}
	sess := newSession(v)
	if _, err := s.CreateSessionWithin(ctx, sess, newHash(t), nil, 1, auditOf(jot.AuditLogin, v)); err != nil {
		t.Fatal(err)
	}
	if evs := listAudit(t, s, jot.AuditFilter{UserID: v.ID}, jot.Page{}); len(evs) != 2 || evs[0].Event != jot.AuditLogin || evs[1].Event != jot.AuditSignup {
		t.Fatalf("events of a signup and login: %+v", evs)
	}
}

// testAuditRotate: a rotation stores its event per outcome.
func testAuditRotate(t *testing.T, s jot.Store) {
	u := mustUser(t, s, "ada@example.com", jot.RoleUser)
	ss, h := mustSession(t, s, u, base())
	req := rotateReq(h, newHash(t), base().Add(time.Minute), 0)
	req.Audit = jot.NewAuditEvent("", base())
	mustRotate(t, s, req, jot.RotateOK)
	req2 := rotateReq(h, newHash(t), base().Add(time.Hour), 0)
	req2.Audit = jot.NewAuditEvent("", base())
	mustRotate(t, s, req2, jot.RotateReused)
	req3 := rotateReq(newHash(t), newHash(t), base().Add(time.Hour), 0)
	req3.Audit = jot.NewAuditEvent("", base())
	mustRotate(t, s, req3, jot.RotateInvalid)
	evs := listAudit(t, s, jot.AuditFilter{UserID: u.ID}, jot.Page{})
	if len(evs) != 2 || evs[0].Event != jot.AuditRefreshReuse || evs[1].Event != jot.AuditRefresh ||
		evs[0].SessionID != ss.ID || evs[1].SessionID != ss.ID || evs[1].ActorID != u.ID || evs[0].ActorID != "" {
		t.Fatalf("rotation events %+v", evs)
	}
}

// testAuditListAndPrune: filters, newest-first pages, RecordAudit, prune.
func testAuditListAndPrune(t *testing.T, s jot.Store) {
	ctx := t.Context()
	uid := jot.NewID()
	var all []*jot.AuditEvent
	for i := range 5 {
		name := jot.AuditLoginFailed
		if i%2 == 1 {
			name = jot.AuditRateLimited
		}
		e := jot.NewAuditEvent(name, base().Add(time.Duration(i)*time.Hour))
		if i < 3 {
			e.UserID = uid
		}
		all = append(all, e)
	}
	if err := s.RecordAudit(ctx, all...); err != nil {
		t.Fatal(err)
	}
	page1 := listAudit(t, s, jot.AuditFilter{}, jot.Page{Limit: 2})
	page2 := listAudit(t, s, jot.AuditFilter{}, jot.Page{After: page1[1].ID, Limit: 2})
	page3 := listAudit(t, s, jot.AuditFilter{}, jot.Page{After: page2[1].ID, Limit: 2})
	got := append(append(page1, page2...), page3...)
	if len(got) != 5 {
		t.Fatalf("%d events paged", len(got))
	}
	for i, e := range got {
		if e.ID != all[4-i].ID {
			t.Fatalf("page order: %d is %s, want %s", i, e.ID, all[4-i].ID)
		}
		if e.Detail != nil {
			t.Errorf("detail of an event without one: %v", e.Detail)
		}
	}
	if evs := listAudit(t, s, jot.AuditFilter{UserID: uid, Event: jot.AuditLoginFailed}, jot.Page{}); len(evs) != 2 || evs[0].ID != all[2].ID || evs[1].ID != all[0].ID {
		t.Fatalf("filtered: %+v", evs)
	}
	n, err := s.PruneAudit(ctx, base().Add(2*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("PruneAudit = %d, %v; want 2", n, err)
	}
	if evs := listAudit(t, s, jot.AuditFilter{}, jot.Page{}); len(evs) != 3 || evs[2].ID != all[2].ID {
		t.Fatalf("after prune: %+v", evs)
	}
}

// testAuditSigningKey: a key and its key_rotated event commit together.
func testAuditSigningKey(t *testing.T, s jot.Store) {
	ctx := t.Context()
	k := &jot.SigningKey{KID: "k1", Alg: "ES256", Private: []byte("x"), CreatedAt: base()}
	e := jot.NewAuditEvent(jot.AuditKeyRotated, base())
	e.ActorID = jot.AuditActorCLI
	if err := s.CreateSigningKeyAudited(ctx, k, &jot.Audit{Events: []*jot.AuditEvent{e}}); err != nil {
		t.Fatal(err)
	}
	again := jot.NewAuditEvent(jot.AuditKeyRotated, base())
	if err := s.CreateSigningKeyAudited(ctx, k, &jot.Audit{Events: []*jot.AuditEvent{again}}); jot.ErrorCode(err) != jot.ECONFLICT {
		t.Fatalf("duplicate kid: %v", err)
	}
	evs := listAudit(t, s, jot.AuditFilter{Event: jot.AuditKeyRotated}, jot.Page{})
	if len(evs) != 1 || evs[0].ID != e.ID || evs[0].ActorID != jot.AuditActorCLI {
		t.Fatalf("key_rotated events %+v", evs)
	}
}

// testAuditMailToken: IssueMailTokenAudited and ConsumeMailToken store
// their audit with the change, the events decide completed included, one
// session_ended per session the update ends, and nothing when refused.
func testAuditMailToken(t *testing.T, s jot.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "mailaudit@example.com", jot.RoleUser)
	mustSession(t, s, u, base())
	mustSession(t, s, u, base().Add(time.Second))

	tok := newMailToken(t, u, jot.PurposeReset, base())
	asked := jot.NewAuditEvent(jot.AuditPasswordResetRequest, base())
	asked.UserID = u.ID
	if err := s.IssueMailTokenAudited(ctx, tok, &jot.Audit{Events: []*jot.AuditEvent{asked}}, newMail(u.Email, "reset", tok, base())); err != nil {
		t.Fatal(err)
	}
	if evs := listAudit(t, s, jot.AuditFilter{Event: jot.AuditPasswordResetRequest}, jot.Page{}); len(evs) != 1 || evs[0].ID != asked.ID || evs[0].UserID != u.ID {
		t.Fatalf("password_reset_requested events %+v", evs)
	}
	// A token for a user who does not exist: refused, no event.
	lost := jot.NewAuditEvent(jot.AuditPasswordResetRequest, base())
	err := s.IssueMailTokenAudited(ctx, newMailToken(t, &jot.User{ID: jot.NewID()}, jot.PurposeReset, base()), &jot.Audit{Events: []*jot.AuditEvent{lost}})
	if jot.ErrorCode(err) != jot.ENOTFOUND {
		t.Fatalf("token of no user: %v", err)
	}
	if evs := listAudit(t, s, jot.AuditFilter{Event: jot.AuditPasswordResetRequest}, jot.Page{}); len(evs) != 1 {
		t.Fatalf("a refused issue stored its event: %+v", evs)
	}

	// decide refuses: the token stays and nothing is stored.
	reset := jot.NewAuditEvent(jot.AuditPasswordReset, base())
	ended := jot.NewAuditEvent(jot.AuditSessionEnded, base())
	ended.Detail = map[string]any{"why": jot.WhyPasswordReset}
	a := &jot.Audit{Events: []*jot.AuditEvent{reset}, Ended: ended}
	_, err = s.ConsumeMailToken(ctx, tok.Hash, jot.PurposeReset, base(), func(*jot.User, *jot.MailToken) (jot.UserUpdate, error) {
		return jot.UserUpdate{}, jot.Errorf(jot.EINVALIDGRANT, "no")
	}, a)
	if jot.ErrorCode(err) != jot.EINVALIDGRANT {
		t.Fatalf("refused consume: %v", err)
	}
	if evs := listAudit(t, s, jot.AuditFilter{UserID: u.ID, Event: jot.AuditPasswordReset}, jot.Page{}); len(evs) != 0 {
		t.Fatalf("a refused consume stored %+v", evs)
	}
	hash := "new-hash"
	_, err = s.ConsumeMailToken(ctx, tok.Hash, jot.PurposeReset, base(), func(u *jot.User, _ *jot.MailToken) (jot.UserUpdate, error) {
		reset.UserID, ended.UserID = u.ID, u.ID
		return jot.UserUpdate{PasswordHash: &hash, EndSessions: true}, nil
	}, a)
	if err != nil {
		t.Fatal(err)
	}
	if evs := listAudit(t, s, jot.AuditFilter{UserID: u.ID, Event: jot.AuditPasswordReset}, jot.Page{}); len(evs) != 1 || evs[0].ID != reset.ID {
		t.Fatalf("password_reset events %+v", evs)
	}
	evs := listAudit(t, s, jot.AuditFilter{UserID: u.ID, Event: jot.AuditSessionEnded}, jot.Page{})
	if len(evs) != 2 || evs[0].SessionID == "" || evs[0].SessionID == evs[1].SessionID || evs[0].Detail["why"] != jot.WhyPasswordReset {
		t.Fatalf("session_ended events %+v, want one per session", evs)
	}
}

// testAuditRevokeSigningKey: RevokeSigningKey stores its audit when it
// revokes the key, and neither for a key revoked already nor an unknown one.
func testAuditRevokeSigningKey(t *testing.T, s jot.Store) {
	ctx := t.Context()
	if err := s.CreateSigningKey(ctx, &jot.SigningKey{KID: "gone", Alg: "ES256", Private: []byte("x"), CreatedAt: base()}); err != nil {
		t.Fatal(err)
	}
	revoke := func(kid string) (*jot.AuditEvent, bool, error) {
		e := jot.NewAuditEvent(jot.AuditKeyRevoked, base())
		e.ActorID, e.Detail = jot.AuditActorCLI, map[string]any{"kid": kid}
		_, already, err := s.RevokeSigningKey(ctx, kid, base(), &jot.Audit{Events: []*jot.AuditEvent{e}})
		return e, already, err
	}
	first, already, err := revoke("gone")
	if err != nil || already {
		t.Fatalf("revoke: already %v, %v", already, err)
	}
	if _, already, err := revoke("gone"); err != nil || !already {
		t.Fatalf("revoke again: already %v, %v", already, err)
	}
	if _, _, err := revoke("nope"); jot.ErrorCode(err) != jot.ENOTFOUND {
		t.Fatalf("unknown kid: %v", err)
	}
	evs := listAudit(t, s, jot.AuditFilter{Event: jot.AuditKeyRevoked}, jot.Page{})
	if len(evs) != 1 || evs[0].ID != first.ID || evs[0].ActorID != jot.AuditActorCLI || evs[0].Detail["kid"] != "gone" {
		t.Fatalf("key_revoked events %+v, want the first revocation's only", evs)
	}
}
