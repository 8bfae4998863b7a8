package introspect

import (
	"container/list"
	"sync"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
)

// tokenKey is the SHA-256 of a token; the raw token is never stored.
type tokenKey [32]byte

// entry is one cached answer: claims for an active token, or the rejection.
type entry struct {
	key    tokenKey
	claims *core.Claims // nil for a negative entry
	err    error        // non-nil for a negative entry
	until  time.Time    // the entry is used while now < until
}

// lru is a bounded, mutex-protected least-recently-used cache.
type lru struct {
	mu    sync.Mutex
	max   int
	ll    *list.List // front = most recently used; values are *entry
	items map[tokenKey]*list.Element
}

func newLRU(max int) *lru {
	return &lru{max: max, ll: list.New(), items: make(map[tokenKey]*list.Element)}
}

// get returns the live entry for k, dropping it if it has expired.
func (c *lru) get(k tokenKey, now time.Time) (*entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return nil, false
	}
	e := el.Value.(*entry)
	if !now.Before(e.until) {
		c.ll.Remove(el)
		delete(c.items, k)
		return nil, false
	}
	c.ll.MoveToFront(el)
	return e, true
}

// put stores e, replacing any entry for the same key and evicting the least
// recently used entries beyond the bound.
func (c *lru) put(e *entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[e.key]; ok {
		el.Value = e
		c.ll.MoveToFront(el)
		return
	}
	c.items[e.key] = c.ll.PushFront(e)
	for c.ll.Len() > c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.items, last.Value.(*entry).key)
	}
}

func (c *lru) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
