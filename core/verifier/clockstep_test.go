package verifier

import (
	"sync"
	"sync/atomic"
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

// TestCoarseClockRefreshAllocates: taking and publishing a new reading
// allocates nothing (a reading boxed for an atomic pointer cost 48 B per
// clockGranularity, which made the allocation-count tests noisy), and a
// reading read back is the one published.
func TestCoarseClockRefreshAllocates(t *testing.T) {
	c := newCoarseClock()
	if n := testing.AllocsPerRun(100, func() { c.refresh() }); n != 0 {
		t.Errorf("refresh: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		c.publish(-clockGranularity, 0) // stale: read takes a new reading
		c.read()
	}); n != 0 {
		t.Errorf("read of a stale reading: %v allocations, want 0", n)
	}
	r := c.refresh()
	mono, lo, ok := c.load()
	if !ok || mono != r.mono || lo != r.lo {
		t.Errorf("load = %v, %v, %v; want the published %v, %v", mono, lo, ok, r.mono, r.lo)
	}
	if d := r.upper.Sub(c.base); d != r.mono+clockGranularity {
		t.Errorf("upper is base + %v, want + %v", d, r.mono+clockGranularity)
	}
}

// TestCoarseClockNoTornReading: readers racing publishers never take a
// mono from one reading and the lo of another. Each publisher stores
// pairs with lo = 3*mono+1; a load that reports ok must hold such a pair.
// Run with -race: the fields are shared without a lock.
func TestCoarseClockNoTornReading(t *testing.T) {
	t.Parallel()
	c := &coarseClock{base: time.Now()}
	c.publish(0, 1)
	const writers, readers, rounds = 2, 4, 20000
	var torn, loaded atomic.Int64
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for k := range rounds {
				m := int64(k*writers + w)
				c.publish(time.Duration(m), 3*m+1)
			}
		})
	}
	for range readers {
		wg.Go(func() {
			for range rounds {
				if mono, lo, ok := c.load(); ok {
					loaded.Add(1)
					if lo != 3*int64(mono)+1 {
						torn.Add(1)
					}
				}
			}
		})
	}
	wg.Wait()
	if n := torn.Load(); n > 0 {
		t.Errorf("%d of %d loads returned a torn reading", n, loaded.Load())
	}
	if loaded.Load() == 0 {
		t.Error("no load succeeded")
	}
}
