package jose

import (
	"strings"
	"sync"
	"sync/atomic"
)

// HeaderCacheEntries is how many protected headers a HeaderCache keeps.
const HeaderCacheEntries = 8

// MaxCachedHeader is the longest encoded header segment a HeaderCache
// keeps, in bytes.
const MaxCachedHeader = 512

// HeaderCache remembers protected headers that [ParseCompact] parsed
// strictly and whose token then passed [Token.Verify], so that the next
// token with the same header segment (every token an issuer signs with one
// key has the same one) skips decoding and parsing it. Lookup is by the
// exact encoded segment, so a hit yields exactly what the strict parse
// gave; the algorithm allow-list is still checked on every token. Only a
// header with nothing but alg, kid and typ is kept. It is bounded:
// HeaderCacheEntries entries of at most MaxCachedHeader bytes, replaced in
// turn. Nothing unauthenticated enters it: an entry is added only after a
// signature verified. The zero value is ready to use; it is safe for
// concurrent use (lookups take no lock).
type HeaderCache struct {
	mu   sync.Mutex // serializes writers
	next int        // slot replaced next, under mu
	set  atomic.Pointer[[HeaderCacheEntries]cachedHeader]
}

// cachedHeader is one remembered header; a set is never modified once
// published.
type cachedHeader struct {
	seg    string // the encoded header segment
	header ParsedHeader
	alg    algInfo
}

// lookup returns the parsed header of segment seg, if remembered.
func (c *HeaderCache) lookup(seg string) (*cachedHeader, bool) {
	set := c.set.Load()
	if set == nil {
		return nil, false
	}
	for i := range set {
		if e := &set[i]; e.seg == seg && seg != "" {
			return e, true
		}
	}
	return nil, false
}

// remember keeps the header of t, which came from segment seg.
func (c *HeaderCache) remember(seg string, t *Token) {
	if len(seg) > MaxCachedHeader || t.Header.Extra != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.lookup(seg); ok {
		return
	}
	var set [HeaderCacheEntries]cachedHeader
	if old := c.set.Load(); old != nil {
		set = *old
	}
	set[c.next] = cachedHeader{seg: strings.Clone(seg), header: t.Header, alg: t.alg}
	c.next = (c.next + 1) % HeaderCacheEntries
	c.set.Store(&set)
}
