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
	size   int64        // bytes charged to the cache (entryBytes)
}

// entryOverhead is what an entry costs besides its claims: the list
// element, the map slot, the entry and the Claims struct with its slices.
const entryOverhead = 512

// entryBytes is the accounted size of e: the overhead plus, for an active
// answer, the claims' JSON and index and the strings decoded from them.
func entryBytes(e *entry) int64 {
	n := entryOverhead
	if c := e.claims; c != nil {
		n += c.Raw.Size() + len(c.Issuer) + len(c.Subject) + len(c.ClientID) + len(c.ID)
		for _, s := range c.Audience {
			n += 16 + len(s)
		}
		for _, s := range c.Scopes {
			n += 16 + len(s)
		}
	}
	return int64(n)
}

// lru is a mutex-protected least-recently-used cache bounded in entries
// and in bytes.
type lru struct {
	mu       sync.Mutex
	max      int
	maxBytes int64
	bytes    int64
	ll       *list.List // front = most recently used; values are *entry
	items    map[tokenKey]*list.Element
}

func newLRU(max int, maxBytes int64) *lru {
	return &lru{max: max, maxBytes: maxBytes, ll: list.New(), items: make(map[tokenKey]*list.Element)}
}

// removeLocked drops el; c.mu held.
func (c *lru) removeLocked(el *list.Element) {
	e := c.ll.Remove(el).(*entry)
	delete(c.items, e.key)
	c.bytes -= e.size
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
		c.removeLocked(el)
		return nil, false
	}
	c.ll.MoveToFront(el)
	return e, true
}

// put stores e, replacing any entry for the same key and evicting the least
// recently used entries beyond the bounds. An entry larger than the whole
// byte bound is not stored.
func (c *lru) put(e *entry) {
	e.size = entryBytes(e)
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[e.key]; ok {
		c.removeLocked(el)
	}
	if e.size > c.maxBytes {
		return
	}
	c.items[e.key] = c.ll.PushFront(e)
	c.bytes += e.size
	for c.ll.Len() > c.max || c.bytes > c.maxBytes {
		c.removeLocked(c.ll.Back())
	}
}

// size reports the accounted bytes (for tests).
func (c *lru) size() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

func (c *lru) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
