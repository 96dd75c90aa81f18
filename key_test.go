package jot

import (
	"testing"

	"github.com/jotauth/jot/token"
)

func TestAuditsOf(t *testing.T) {
	a := &Audit{Events: []*AuditEvent{{Event: AuditKeyRevoked}}}
	got, err := AuditsOf([]token.RevokeNote{a, nil})
	if err != nil || len(got) != 1 || got[0] != a {
		t.Errorf("AuditsOf(audit, nil) = %v, %v; want the audit", got, err)
	}
	if got, err := AuditsOf(nil); err != nil || len(got) != 0 {
		t.Errorf("AuditsOf(nil) = %v, %v; want none", got, err)
	}
	if _, err := AuditsOf([]token.RevokeNote{"key_revoked"}); err == nil {
		t.Error("AuditsOf(a string) = nil error, want one")
	}
}
