package api

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"sync"

	"github.com/jotauth/jot"
)

// Page sizes of the list endpoints (docs/api.md §3).
const (
	defaultLimit = 20
	maxLimit     = 100
)

// cursorMACSize is how many bytes of the HMAC a cursor carries: 128 bits
// make forging one hopeless while keeping cursors short.
const cursorMACSize = 16

// cursorCodec issues and checks the opaque `next_cursor` values. A cursor
// is the last id of a page with an HMAC over it and the name of its list,
// so a client cannot start a listing at an id of its choosing, nor carry a
// cursor from one list to another; anything the server did not issue is
// 400 invalid_request.
type cursorCodec struct {
	store jot.KeyStore

	mu  sync.Mutex
	key []byte
}

func newCursorCodec(store jot.KeyStore) *cursorCodec {
	return &cursorCodec{store: store}
}

// secret loads the cursor key on first use (New has no context to load it
// with) and keeps it; a failed load is retried by the next request. The
// key is stored so that cursors survive restarts and work across instances.
func (c *cursorCodec) secret(ctx context.Context) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.key != nil {
		return c.key, nil
	}
	key, err := c.store.Secret(ctx, "cursor", func() ([]byte, error) {
		b := make([]byte, 32)
		_, err := rand.Read(b)
		return b, err
	})
	if err != nil {
		return nil, err
	}
	c.key = key
	return key, nil
}

func cursorMAC(key []byte, list, id string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(list))
	m.Write([]byte{0})
	m.Write([]byte(id))
	return m.Sum(nil)[:cursorMACSize]
}

// encode returns the cursor that continues the list after id.
func (c *cursorCodec) encode(ctx context.Context, list, id string) (string, error) {
	key, err := c.secret(ctx)
	if err != nil {
		return "", err
	}
	b := append([]byte(id), cursorMAC(key, list, id)...)
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// errBadCursor is the answer to any cursor this server did not issue.
var errBadCursor = jot.Errorf(jot.EINVALID, "cursor is not one this server issued")

// decode returns the id a cursor of the list continues after.
func (c *cursorCodec) decode(ctx context.Context, list, cursor string) (string, error) {
	// Real cursors are about 70 characters; a bound spares decoding junk.
	if len(cursor) > 256 {
		return "", errBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) <= cursorMACSize {
		return "", errBadCursor
	}
	id, mac := string(b[:len(b)-cursorMACSize]), b[len(b)-cursorMACSize:]
	key, err := c.secret(ctx)
	if err != nil {
		return "", err
	}
	if !hmac.Equal(mac, cursorMAC(key, list, id)) {
		return "", errBadCursor
	}
	return id, nil
}

// pageRequest reads `limit` and `cursor` of a list request. The page asks
// for one item more than the limit, which tells whether another page
// follows without an extra query.
func (c *cursorCodec) pageRequest(r *http.Request, list string) (jot.Page, int, error) {
	return c.pageRequestOf(r, list, defaultLimit)
}

// pageRequestOf is pageRequest for a list whose default page size is def.
func (c *cursorCodec) pageRequestOf(r *http.Request, list string, def int) (jot.Page, int, error) {
	q := r.URL.Query()
	limit := def
	if vs, ok := q["limit"]; ok {
		n, err := strconv.Atoi(vs[0])
		if len(vs) > 1 || err != nil || n < 1 || n > maxLimit {
			return jot.Page{}, 0, jot.Errorf(jot.EINVALID, "limit must be an integer from 1 to %d", maxLimit)
		}
		limit = n
	}
	var after string
	if vs, ok := q["cursor"]; ok {
		if len(vs) > 1 {
			return jot.Page{}, 0, jot.Errorf(jot.EINVALID, "cursor must be given once")
		}
		// An empty cursor is the first page: clients that keep the last
		// next_cursor in a variable may send it back empty.
		if vs[0] != "" {
			id, err := c.decode(r.Context(), list, vs[0])
			if err != nil {
				return jot.Page{}, 0, err
			}
			after = id
		}
	}
	return jot.Page{After: after, Limit: limit + 1}, limit, nil
}

// nextCursor trims a page fetched by pageRequest to limit items and returns
// the cursor of the next page, nil when this page is the last one (it is
// written as JSON null).
func nextCursor[T any](ctx context.Context, c *cursorCodec, list string, items []T, limit int, id func(T) string) ([]T, *string, error) {
	if len(items) <= limit {
		return items, nil, nil
	}
	items = items[:limit]
	cur, err := c.encode(ctx, list, id(items[limit-1]))
	if err != nil {
		return nil, nil, err
	}
	return items, &cur, nil
}
