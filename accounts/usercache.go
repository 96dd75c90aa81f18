package accounts

import (
	"context"
	"sync"
	"time"

	"github.com/jotauth/jot"
)

// DefaultUserCacheTTL is how long Service.User trusts a user it read,
// unless Options.UserCacheTTL says otherwise. It bounds how stale a by-id
// read can be after a change this process did not make (another instance,
// the CLI): changes made through this Service are seen by the very next
// read, and changes that end sessions anywhere (disabling, deleting, a
// role or password change) empty the cache as soon as the revocation
// sync sees them (at once with PostgreSQL's notifications).
const DefaultUserCacheTTL = time.Second

// DefaultUserCacheSize is how many users Service.User remembers unless
// Options.UserCacheSize says otherwise: a few hundred bytes each, so a few
// megabytes at most.
const DefaultUserCacheSize = 16384

// userCache remembers users read by id for a short time, so that the
// commonest read of all, GET /v1/users/me, mostly skips the database.
//
// A read that raced with a change must not put back what the change
// replaced: every invalidation moves gen on, and a read stores its answer
// only if gen has not moved since before it read the database.
type userCache struct {
	ttl time.Duration
	max int

	mu  sync.Mutex
	gen uint64
	m   map[string]userEntry
}

type userEntry struct {
	u       jot.User
	expires time.Time // monotonic
}

func newUserCache(ttl time.Duration, size int) *userCache {
	if ttl == 0 {
		ttl = DefaultUserCacheTTL
	}
	if size == 0 {
		size = DefaultUserCacheSize
	}
	return &userCache{ttl: ttl, max: size, m: make(map[string]userEntry)}
}

// off reports whether caching is disabled (a negative TTL or size).
func (c *userCache) off() bool { return c.ttl < 0 || c.max < 0 }

// get returns a copy of the user remembered under id, or nil, and the
// generation to pass to put after reading the database.
func (c *userCache) get(id string) (*jot.User, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[id]; ok {
		if time.Now().Before(e.expires) {
			u := e.u
			return &u, c.gen
		}
		delete(c.m, id)
	}
	return nil, c.gen
}

// put remembers a copy of u, unless something was invalidated since gen.
func (c *userCache) put(u *jot.User, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if _, ok := c.m[u.ID]; !ok && len(c.m) >= c.max {
		// Full: drop an entry, an expired one if the first few offered
		// (map iteration starts at a random place) include one.
		now := time.Now()
		var victim string
		n := 0
		for id, e := range c.m {
			if n == 0 || now.After(e.expires) {
				victim = id
			}
			if n++; n == 8 || now.After(e.expires) {
				break
			}
		}
		delete(c.m, victim)
	}
	c.m[u.ID] = userEntry{u: *u, expires: time.Now().Add(c.ttl)}
}

// drop forgets the user id.
func (c *userCache) drop(id string) {
	c.mu.Lock()
	c.gen++
	delete(c.m, id)
	c.mu.Unlock()
}

// clear forgets every user.
func (c *userCache) clear() {
	c.mu.Lock()
	c.gen++
	clear(c.m)
	c.mu.Unlock()
}

// userWrites is the store as the Service uses it: every write that can
// change a user forgets that user in the cache once the write has
// returned, whether it succeeded or not (a failed commit may still have
// committed).
type userWrites struct {
	jot.Store
	users *userCache
}

func (w userWrites) UpdateUser(ctx context.Context, id string, upd jot.UserUpdate, now time.Time, audit ...*jot.Audit) (*jot.User, error) {
	defer w.users.drop(id)
	return w.Store.UpdateUser(ctx, id, upd, now, audit...)
}

func (w userWrites) DeleteUser(ctx context.Context, id string, now time.Time, audit ...*jot.Audit) error {
	defer w.users.drop(id)
	return w.Store.DeleteUser(ctx, id, now, audit...)
}

func (w userWrites) ConsumeMailToken(ctx context.Context, hash []byte, purpose string, now time.Time,
	decide func(u *jot.User, t *jot.MailToken) (jot.UserUpdate, error), audit ...*jot.Audit) (*jot.User, error) {
	var id string
	defer func() {
		if id != "" {
			w.users.drop(id)
		}
	}()
	return w.Store.ConsumeMailToken(ctx, hash, purpose, now, func(u *jot.User, t *jot.MailToken) (jot.UserUpdate, error) {
		id = u.ID
		return decide(u, t)
	}, audit...)
}
