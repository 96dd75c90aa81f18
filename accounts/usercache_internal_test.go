package accounts

import (
	"fmt"
	"testing"
	"time"

	"github.com/jotauth/jot"
)

// The cache never holds more than its size, and a read that began before
// an invalidation does not store what it read.
func TestUserCacheBoundAndRace(t *testing.T) {
	c := newUserCache(time.Minute, 100)
	for i := range 1000 {
		_, gen := c.get("x")
		c.put(&jot.User{ID: fmt.Sprint(i)}, gen)
	}
	if n := len(c.m); n != 100 {
		t.Fatalf("cache holds %d users, bound 100", n)
	}

	_, gen := c.get("u")
	c.drop("u") // a change commits while the read is on its way
	c.put(&jot.User{ID: "u", Name: "old"}, gen)
	if u, _ := c.get("u"); u != nil {
		t.Fatalf("a read older than the change was stored: %+v", u)
	}

	c.put(&jot.User{ID: "u", Name: "new"}, c.gen)
	u, _ := c.get("u")
	u.Name = "changed by a caller"
	if again, _ := c.get("u"); again.Name != "new" {
		t.Fatalf("a caller's change reached the cache: %q", again.Name)
	}
}
