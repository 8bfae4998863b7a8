// Package lru is the bounded, expiring, least-recently-used map of the
// module's caches: bounded in entries and in accounted bytes, each entry
// used until its own deadline. It is safe for concurrent use.
package lru

import (
	"container/list"
	"sync"
	"time"
)

// Cache maps K to V. The zero value is not usable; call New.
type Cache[K comparable, V any] struct {
	mu       sync.Mutex
	maxN     int // 0: no bound on entries
	maxBytes int64
	bytes    int64
	ll       list.List // front = most recently used; values are *item[K, V]
	items    map[K]*list.Element
}

type item[K comparable, V any] struct {
	key   K
	val   V
	until time.Time
	size  int64
}

// New returns an empty cache that holds at most maxEntries entries (0: no
// bound on the count) and at most maxBytes accounted bytes.
func New[K comparable, V any](maxEntries int, maxBytes int64) *Cache[K, V] {
	return &Cache[K, V]{maxN: maxEntries, maxBytes: maxBytes, items: make(map[K]*list.Element)}
}

// Get returns the value stored for k while now is before its deadline and
// marks it used. An expired entry is dropped.
func (c *Cache[K, V]) Get(k K, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	it := el.Value.(*item[K, V])
	if !now.Before(it.until) {
		c.removeLocked(el)
		var zero V
		return zero, false
	}
	c.ll.MoveToFront(el)
	return it.val, true
}

// Put stores v for k until the deadline until, charged size bytes. It
// replaces any entry for k and then drops the least recently used entries
// beyond the bounds. A value larger than the whole byte bound is not stored
// (an older entry for k is still dropped).
func (c *Cache[K, V]) Put(k K, v V, size int64, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.removeLocked(el)
	}
	if size > c.maxBytes {
		return
	}
	c.items[k] = c.ll.PushFront(&item[K, V]{key: k, val: v, until: until, size: size})
	c.bytes += size
	for (c.maxN > 0 && c.ll.Len() > c.maxN) || c.bytes > c.maxBytes {
		c.removeLocked(c.ll.Back())
	}
}

// Delete drops the entry for k, if any.
func (c *Cache[K, V]) Delete(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.removeLocked(el)
	}
}

// Len returns the number of entries, expired ones included until they are
// looked up or evicted.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

// Bytes returns the accounted bytes of the entries.
func (c *Cache[K, V]) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

func (c *Cache[K, V]) removeLocked(el *list.Element) {
	it := c.ll.Remove(el).(*item[K, V])
	delete(c.items, it.key)
	c.bytes -= it.size
}
