package verifier

import (
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
)

// TestCoarseHitTTLIsMonotonic: the cache TTL is measured on the monotonic
// clock (tokenCache.get compares time.Now readings), so a coarse hit must
// end with it too: after the wall clock is stepped back (NTP step, VM
// resume, an operator's date -s), an entry inserted ttl+1s ago by the
// monotonic clock is not a coarse hit although its wall-clock bound
// (toNs) lies an hour ahead. The reading's upper carries the monotonic
// instant; its lo/hi are the stepped wall clock.
func TestCoarseHitTTLIsMonotonic(t *testing.T) {
	t.Parallel()
	const ttl = time.Minute
	inserted := time.Now() // with a monotonic reading, as put's now
	e := &cacheEntry{claims: &core.Claims{Expiry: inserted.Add(24 * time.Hour).Truncate(time.Second)}, until: inserted.Add(ttl)}
	e.setWindow()
	e.setCoarseWindow()
	elapsed := ttl + time.Second              // monotonic time since insertion
	wall := inserted.Add(elapsed - time.Hour) // the wall clock, stepped back an hour
	lo := wall.UnixNano()
	r := &clockReading{lo: lo, hi: lo + int64(clockGranularity), upper: inserted.Add(elapsed + clockGranularity)}
	if e.coarseOK(r) {
		t.Fatalf("coarse hit %v after insertion with a TTL of %v (wall clock stepped back an hour)", elapsed, ttl)
	}
}
