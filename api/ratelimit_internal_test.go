package api

import (
	"strings"
	"testing"
	"time"
)

func TestNetworkKey(t *testing.T) {
	for ip, want := range map[string]string{
		"192.0.2.7":            "192.0.2.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2::ffff":   "2001:db8:1:2::/64",
	} {
		if got := networkKey(ip); got != want {
			t.Errorf("networkKey(%s) = %s, want %s", ip, got, want)
		}
	}
}

func TestAccountKeyIsFixedSize(t *testing.T) {
	a := accountKey("login:", strings.Repeat("x", 1<<20)+"@example.com")
	b := accountKey("login:", " Ada@Example.com ")
	if len(a) != len(b) || b != accountKey("login:", "ada@example.com") {
		t.Fatalf("keys %d and %d bytes, or not normalized", len(a), len(b))
	}
}

func TestLimiterTakesBeforeAndRefundsSuccess(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := newLimiter(2, time.Minute, func() time.Time { return now })
	for i := 0; i < 5; i++ {
		ok, _ := l.take("k")
		if !ok {
			t.Fatalf("success %d was limited", i)
		}
		l.refund("k")
	}
	l.take("k")
	l.take("k")
	ok, after := l.take("k")
	if ok || after != 30 {
		t.Fatalf("third failure: ok=%v after=%d, want limited for 30 s", ok, after)
	}
	now = now.Add(30 * time.Second)
	if ok, _ := l.take("k"); !ok {
		t.Fatal("not refilled after 30 s")
	}
}
