package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/jotauth/jot"
)

const lease = time.Minute

func newMailToken(t *testing.T, u *jot.User, purpose string, created time.Time) *jot.MailToken {
	return &jot.MailToken{Hash: newHash(t), Purpose: purpose, UserID: u.ID, Email: u.Email,
		CreatedAt: created, ExpiresAt: created.Add(time.Hour)}
}

func newMail(to, kind string, tok *jot.MailToken, created time.Time) *jot.Mail {
	m := &jot.Mail{ID: jot.NewID(), Kind: kind, To: to, Data: map[string]string{"link": "https://x.test/?t=1", "name": "Ann"},
		CreatedAt: created, NextAt: created, ExpiresAt: created.Add(time.Hour)}
	if tok != nil {
		m.TokenHash = tok.Hash
	}
	return m
}

// claimAll claims every mail due at now and returns them by id.
func claimAll(t *testing.T, s jot.Store, now time.Time) map[string]*jot.Mail {
	t.Helper()
	ms, err := s.ClaimMail(t.Context(), now, lease, 100)
	if err != nil {
		t.Fatalf("ClaimMail: %v", err)
	}
	out := map[string]*jot.Mail{}
	for _, m := range ms {
		out[m.ID] = m
	}
	return out
}

func verifyDecision(u *jot.User, _ *jot.MailToken) (jot.UserUpdate, error) {
	yes := true
	return jot.UserUpdate{EmailVerified: &yes}, nil
}

func testEmailVerifiedField(t *testing.T, s jot.Store) {
	u := newUser("verified@example.com", jot.RoleUser)
	u.EmailVerified = true
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if got := mustUserByID(t, s, u.ID); !got.EmailVerified {
		t.Fatal("EmailVerified not kept")
	}
	no := false
	got, err := s.UpdateUser(t.Context(), u.ID, jot.UserUpdate{EmailVerified: &no}, base())
	if err != nil || got.EmailVerified {
		t.Fatalf("UpdateUser EmailVerified=false: %+v, %v", got, err)
	}
}

func testMailTokenConsume(t *testing.T, s jot.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "consume@example.com", jot.RoleUser)
	tok := newMailToken(t, u, jot.PurposeVerify, base())
	m := newMail(u.Email, "verify", tok, base())
	if err := s.IssueMailToken(ctx, tok, m); err != nil {
		t.Fatalf("IssueMailToken: %v", err)
	}
	got := claimAll(t, s, base())
	if len(got) != 1 || got[m.ID] == nil {
		t.Fatalf("claimed %v, want the one mail", got)
	}
	c := got[m.ID]
	if c.To != u.Email || c.Kind != "verify" || c.Data["link"] != m.Data["link"] || c.Attempts != 1 || string(c.TokenHash) != string(tok.Hash) {
		t.Errorf("claimed mail %+v, want %+v with 1 attempt", *c, *m)
	}
	checkTime(t, "mail NextAt", c.NextAt, base().Add(lease))
	checkTime(t, "mail ExpiresAt", c.ExpiresAt, m.ExpiresAt)

	_, err := s.ConsumeMailToken(ctx, tok.Hash, jot.PurposeReset, base(), verifyDecision)
	wantCode(t, err, jot.ENOTFOUND, "token of another purpose")
	_, err = s.ConsumeMailToken(ctx, newHash(t), jot.PurposeVerify, base(), verifyDecision)
	wantCode(t, err, jot.ENOTFOUND, "unknown token")
	_, err = s.ConsumeMailToken(ctx, tok.Hash, jot.PurposeVerify, tok.ExpiresAt, verifyDecision)
	wantCode(t, err, jot.ENOTFOUND, "expired token")
	refused := jot.Errorf(jot.EINVALIDGRANT, "no")
	_, err = s.ConsumeMailToken(ctx, tok.Hash, jot.PurposeVerify, base(), func(*jot.User, *jot.MailToken) (jot.UserUpdate, error) {
		return jot.UserUpdate{}, refused
	})
	wantCode(t, err, jot.EINVALIDGRANT, "decision refused")

	var seen *jot.MailToken
	out, err := s.ConsumeMailToken(ctx, tok.Hash, jot.PurposeVerify, base().Add(time.Minute), func(u *jot.User, tk *jot.MailToken) (jot.UserUpdate, error) {
		seen = tk
		return verifyDecision(u, tk)
	})
	if err != nil {
		t.Fatalf("ConsumeMailToken: %v", err)
	}
	if !out.EmailVerified || !mustUserByID(t, s, u.ID).EmailVerified {
		t.Error("email not verified after the token was used")
	}
	if seen == nil || seen.UserID != u.ID || seen.Email != u.Email || seen.Purpose != jot.PurposeVerify {
		t.Errorf("decide saw token %+v", seen)
	}
	_, err = s.ConsumeMailToken(ctx, tok.Hash, jot.PurposeVerify, base(), verifyDecision)
	wantCode(t, err, jot.ENOTFOUND, "used token")
	// The mail went with its token.
	if got := claimAll(t, s, base().Add(2*lease)); len(got) != 0 {
		t.Errorf("outbox after the token was used: %v", got)
	}
	err = s.IssueMailToken(ctx, newMailToken(t, &jot.User{ID: jot.NewID()}, jot.PurposeVerify, base()))
	wantCode(t, err, jot.ENOTFOUND, "token of an unknown user")
}

func testMailTokenConsumeConcurrent(t *testing.T, s jot.Store) {
	u := mustUser(t, s, "race@example.com", jot.RoleUser)
	tok := newMailToken(t, u, jot.PurposeReset, base())
	if err := s.IssueMailToken(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range concurrency {
		wg.Go(func() {
			_, err := s.ConsumeMailToken(t.Context(), tok.Hash, jot.PurposeReset, base(), verifyDecision)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
			} else if jot.ErrorCode(err) != jot.ENOTFOUND {
				t.Errorf("ConsumeMailToken: %v", err)
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d concurrent uses of one token succeeded, want 1", ok)
	}
}

func testMailTokenNewestReset(t *testing.T, s jot.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "newest@example.com", jot.RoleUser)
	first := newMailToken(t, u, jot.PurposeReset, base())
	m1 := newMail(u.Email, "reset", first, base())
	verify := newMailToken(t, u, jot.PurposeVerify, base())
	if err := s.IssueMailToken(ctx, first, m1); err != nil {
		t.Fatal(err)
	}
	if err := s.IssueMailToken(ctx, verify); err != nil {
		t.Fatal(err)
	}
	second := newMailToken(t, u, jot.PurposeReset, base().Add(time.Second))
	m2 := newMail(u.Email, "reset", second, base().Add(time.Second))
	if err := s.IssueMailToken(ctx, second, m2); err != nil {
		t.Fatal(err)
	}
	got := claimAll(t, s, base().Add(time.Minute))
	if len(got) != 1 || got[m2.ID] == nil {
		t.Errorf("outbox %v, want only the newest reset mail", got)
	}
	_, err := s.ConsumeMailToken(ctx, first.Hash, jot.PurposeReset, base(), verifyDecision)
	wantCode(t, err, jot.ENOTFOUND, "older reset token")
	if _, err := s.ConsumeMailToken(ctx, second.Hash, jot.PurposeReset, base(), verifyDecision); err != nil {
		t.Fatalf("newest reset token: %v", err)
	}
	// A reset token does not end other purposes' tokens.
	if _, err := s.ConsumeMailToken(ctx, verify.Hash, jot.PurposeVerify, base(), verifyDecision); err != nil {
		t.Fatalf("verify token after a reset token: %v", err)
	}
}

func testMailTokenEndedByUpdate(t *testing.T, s jot.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "ended@example.com", jot.RoleUser)
	issue := func() *jot.MailToken {
		tok := newMailToken(t, u, jot.PurposeReset, base())
		if err := s.IssueMailToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		return tok
	}
	alive := func(tok *jot.MailToken) bool {
		_, err := s.ConsumeMailToken(ctx, tok.Hash, jot.PurposeReset, base(), func(*jot.User, *jot.MailToken) (jot.UserUpdate, error) {
			return jot.UserUpdate{}, jot.Errorf(jot.EINVALID, "probe")
		})
		return jot.ErrorCode(err) == jot.EINVALID
	}
	update := func(upd jot.UserUpdate) {
		if _, err := s.UpdateUser(ctx, u.ID, upd, base()); err != nil {
			t.Fatal(err)
		}
	}
	name := "New"
	tok := issue()
	update(jot.UserUpdate{Name: &name})
	if !alive(tok) {
		t.Error("a rename ended the reset token")
	}
	rehash := "$2a$10$rehash"
	update(jot.UserUpdate{PasswordHash: &rehash})
	if !alive(tok) {
		t.Error("a rehash (no sessions ended) ended the reset token")
	}
	changed := "$2a$10$changed"
	update(jot.UserUpdate{PasswordHash: &changed, EndSessions: true})
	if alive(tok) {
		t.Error("a password change left the reset token alive")
	}
	tok = issue()
	yes := true
	update(jot.UserUpdate{Disabled: &yes})
	if alive(tok) {
		t.Error("a disable left the reset token alive")
	}
	no := false
	update(jot.UserUpdate{Disabled: &no})
	tok = issue()
	email := "moved@example.com"
	update(jot.UserUpdate{Email: &email})
	if alive(tok) {
		t.Error("an email change left the reset token alive")
	}
}

func testMailTokenEmailChange(t *testing.T, s jot.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "old@example.com", jot.RoleUser)
	other := mustUser(t, s, "taken@example.com", jot.RoleUser)
	change := func(tok *jot.MailToken) (*jot.User, error) {
		return s.ConsumeMailToken(ctx, tok.Hash, jot.PurposeEmailChange, base(), func(u *jot.User, tk *jot.MailToken) (jot.UserUpdate, error) {
			yes := true
			return jot.UserUpdate{Email: &tk.Email, EmailVerified: &yes}, nil
		})
	}
	tok := newMailToken(t, u, jot.PurposeEmailChange, base())
	tok.Email = "TAKEN@example.com"
	if err := s.IssueMailToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	_, err := change(tok)
	wantCode(t, err, jot.ECONFLICT, "change to a registered email")
	if got := mustUserByID(t, s, u.ID); got.Email != u.Email {
		t.Errorf("email %q after a refused change", got.Email)
	}
	_ = other
	tok2 := newMailToken(t, u, jot.PurposeEmailChange, base())
	tok2.Email = "new@example.com"
	if err := s.IssueMailToken(ctx, tok2); err != nil {
		t.Fatal(err)
	}
	got, err := change(tok2)
	if err != nil {
		t.Fatalf("email change: %v", err)
	}
	if got.Email != "new@example.com" || !got.EmailVerified {
		t.Errorf("after the change: %+v", *got)
	}
	if by, err := s.UserByEmail(ctx, "new@example.com"); err != nil || by.ID != u.ID {
		t.Errorf("UserByEmail(new) = %v, %v", by, err)
	}
}

func testCreateUserWithMail(t *testing.T, s jot.Store) {
	ctx := t.Context()
	u := newUser("withmail@example.com", jot.RoleUser)
	tok := newMailToken(t, u, jot.PurposeVerify, base())
	if err := s.CreateUserWithMail(ctx, u, tok, newMail(u.Email, "verify", tok, base())); err != nil {
		t.Fatalf("CreateUserWithMail: %v", err)
	}
	checkUser(t, mustUserByID(t, s, u.ID), u)
	dup := newUser("WithMail@example.com", jot.RoleUser)
	tok2 := newMailToken(t, dup, jot.PurposeVerify, base())
	err := s.CreateUserWithMail(ctx, dup, tok2, newMail(dup.Email, "verify", tok2, base()))
	wantCode(t, err, jot.ECONFLICT, "duplicate email")
	if got := claimAll(t, s, base()); len(got) != 1 {
		t.Errorf("outbox holds %d mails, want 1: a refused signup queues nothing", len(got))
	}
}

func testClaimMail(t *testing.T, s jot.Store) {
	ctx := t.Context()
	var ms []*jot.Mail
	for i := range 3 {
		m := newMail(label("to", i)+"@example.com", "notice", nil, base().Add(time.Duration(i)*time.Second))
		ms = append(ms, m)
	}
	if err := s.QueueMail(ctx, ms...); err != nil {
		t.Fatalf("QueueMail: %v", err)
	}
	now := base().Add(time.Minute)
	first, err := s.ClaimMail(ctx, now, lease, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 || first[0].ID != ms[0].ID && first[1].ID != ms[0].ID {
		t.Fatalf("first claim %v, want the two oldest", first)
	}
	if rest := claimAll(t, s, now); len(rest) != 1 || rest[ms[2].ID] == nil {
		t.Fatalf("second claim %v, want the third mail only", rest)
	}
	if again := claimAll(t, s, now.Add(lease-time.Second)); len(again) != 0 {
		t.Fatalf("claimed mails are handed out again before their lease ends: %v", again)
	}
	if err := s.MailSent(ctx, ms[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RetryMail(ctx, ms[1].ID, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	got := claimAll(t, s, now.Add(time.Second))
	if len(got) != 1 || got[ms[1].ID] == nil || got[ms[1].ID].Attempts != 2 {
		t.Fatalf("after a retry: %v, want the retried mail on its second attempt", got)
	}
	// Past the lease the unfinished third comes back; the sent one never.
	got = claimAll(t, s, now.Add(lease))
	if got[ms[0].ID] != nil || got[ms[2].ID] == nil {
		t.Fatalf("after the lease: %v", got)
	}
	if err := s.PruneMail(ctx, base().Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := claimAll(t, s, base().Add(3*time.Hour)); len(got) != 0 {
		t.Fatalf("expired mails left after PruneMail: %v", got)
	}
}

func testClaimMailConcurrent(t *testing.T, s jot.Store) {
	ctx := t.Context()
	const n = 30
	var ms []*jot.Mail
	for i := range n {
		ms = append(ms, newMail(label("c", i)+"@example.com", "notice", nil, base()))
	}
	if err := s.QueueMail(ctx, ms...); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	claimed := map[string]int{}
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for {
				got, err := s.ClaimMail(ctx, base(), lease, 2)
				if err != nil {
					t.Errorf("ClaimMail: %v", err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					claimed[m.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(claimed) != n {
		t.Errorf("%d mails claimed, want %d", len(claimed), n)
	}
	for id, c := range claimed {
		if c != 1 {
			t.Errorf("mail %s claimed %d times", id, c)
		}
	}
}

func testPruneMail(t *testing.T, s jot.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "prune@example.com", jot.RoleUser)
	tok := newMailToken(t, u, jot.PurposeVerify, base())
	m := newMail(u.Email, "verify", tok, base())
	m.ExpiresAt = base().Add(2 * time.Hour) // outlives its token: goes with it all the same
	if err := s.IssueMailToken(ctx, tok, m); err != nil {
		t.Fatal(err)
	}
	if err := s.PruneMail(ctx, tok.ExpiresAt.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := claimAll(t, s, base()); len(got) != 1 {
		t.Fatalf("PruneMail before expiry removed the mail")
	}
	if err := s.PruneMail(ctx, tok.ExpiresAt); err != nil {
		t.Fatal(err)
	}
	if got := claimAll(t, s, base().Add(time.Hour+lease)); len(got) != 0 {
		t.Fatalf("the mail of an expired token is left: %v", got)
	}
	_, err := s.ConsumeMailToken(ctx, tok.Hash, jot.PurposeVerify, base(), verifyDecision)
	wantCode(t, err, jot.ENOTFOUND, "pruned token")
}
