package casbinauthz

import "sync"

// DefaultMatchCacheBytes bounds the per-object glob match sets cached for
// one policy version (see Config.MatchCacheBytes).
const DefaultMatchCacheBytes = 4 << 20

// matchSet is what an index caches per object: the positions of the glob
// rules whose pattern matches it, ascending.
type matchSet []int32

// matchEntryOverhead approximates the bytes a cached entry costs beyond its
// key and positions (map slot, string and slice headers).
const matchEntryOverhead = 96

func (m matchSet) cost(key string) int {
	return len(key) + 4*cap(m) + matchEntryOverhead
}

// matchCache holds match sets for ONE policy version, bounded in bytes. It
// keeps two generations: when the current one reaches half the budget it
// becomes the old one and the previous old one is dropped, so at most the
// budget is held and recently used entries survive. An object whose entry
// alone exceeds half the budget is not cached.
type matchCache struct {
	mu       sync.RWMutex
	half     int
	curBytes int
	cur, old map[string]matchSet
}

func newMatchCache(budget int) *matchCache {
	if budget <= 0 {
		return nil
	}
	return &matchCache{half: max(budget/2, 1), cur: map[string]matchSet{}}
}

func (c *matchCache) get(obj string) (matchSet, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.RLock()
	m, ok := c.cur[obj]
	if !ok {
		m, ok = c.old[obj]
	}
	c.mu.RUnlock()
	return m, ok
}

func (c *matchCache) put(obj string, m matchSet) {
	if c == nil {
		return
	}
	n := m.cost(obj)
	if n > c.half {
		return
	}
	c.mu.Lock()
	if _, ok := c.cur[obj]; !ok {
		if c.curBytes+n > c.half {
			c.old, c.cur, c.curBytes = c.cur, make(map[string]matchSet, len(c.cur)), 0
		}
		c.cur[obj] = m
		c.curBytes += n
	}
	c.mu.Unlock()
}

// bytes reports the approximate bytes held (both generations).
func (c *matchCache) bytes() int {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := c.curBytes
	for k, m := range c.old {
		n += m.cost(k)
	}
	return n
}
