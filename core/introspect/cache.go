package introspect

import (
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/lru"
)

// tokenKey is the SHA-256 of a token; the raw token is never stored.
type tokenKey [32]byte

// entry is one cached answer: claims for an active token, or the rejection.
type entry struct {
	claims *core.Claims // nil for a negative entry
	err    error        // non-nil for a negative entry
}

// cache holds the answers by token hash, bounded in entries and bytes,
// each used until its deadline.
type cache = lru.Cache[tokenKey, *entry]

// put stores e for key until until, charged entryBytes(e).
func put(c *cache, key tokenKey, e *entry, until time.Time) {
	c.Put(key, e, entryBytes(e), until)
}

// entryOverhead is what an entry costs besides its claims: the list
// element, the map slot, the entry and the Claims struct with its slices.
const entryOverhead = 512

// entryBytes is the accounted size of e: the overhead plus, for an active
// answer, the claims' JSON and index and the strings decoded from them,
// and for a rejection the text of its error (the wrapping errors hold it;
// the sentinels they wrap are shared).
func entryBytes(e *entry) int64 {
	n := entryOverhead
	if e.err != nil {
		n += len(e.err.Error())
	}
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
