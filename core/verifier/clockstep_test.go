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
// (toNs) lies an hour ahead. The reading's upper is an offset on the
// monotonic clock, compared with until's (put: coarseClock.deadline); its
// lo/hi are the stepped wall clock. An until without a monotonic reading
// (a clock built from a Unix time) cannot be compared with those offsets:
// never a coarse hit (the exact path decides).
func TestCoarseHitTTLIsMonotonic(t *testing.T) {
	t.Parallel()
	const ttl = time.Minute
	g := clockGranularity
	c := newCoarseClock()
	if !c.baseMono {
		t.Fatal("time.Now carries no monotonic reading")
	}
	tests := []struct {
		name     string
		wallOnly bool          // put's now without a monotonic reading
		elapsed  time.Duration // monotonic time from insertion to the reading
		step     time.Duration // the wall clock's step meanwhile
		want     bool
	}{
		{"inside", false, ttl / 2, 0, true},
		{"last reading before the TTL's end", false, ttl - g - time.Nanosecond, 0, true},
		{"interval reaches the TTL's end", false, ttl - g, 0, false},
		{"past the TTL, wall clock stepped back an hour", false, ttl + time.Second, -time.Hour, false},
		{"inside, wall clock stepped back an hour", false, ttl / 2, -time.Hour, true},
		{"inside, wall clock stepped past the TTL", false, ttl / 2, time.Hour, false},
		{"deadline without a monotonic reading", true, ttl / 2, 0, false},
		{"deadline without a monotonic reading, just inserted", true, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inserted := time.Now() // as put's now
			if tt.wallOnly {
				inserted = inserted.Round(0)
			}
			tc := newTokenCache(CacheConfig{TTL: ttl}, c)
			e := &cacheEntry{claims: &core.Claims{Expiry: inserted.Add(24 * time.Hour).Truncate(time.Second)}}
			tc.put("token", e, inserted)
			if want := inserted.Add(ttl).Sub(c.base); !tt.wallOnly && e.untilOff != want {
				t.Fatalf("until is base + %v, want + %v", e.untilOff, want)
			}
			lo := inserted.Add(tt.elapsed + tt.step).UnixNano()
			r := &clockReading{mono: inserted.Sub(c.base) + tt.elapsed, lo: lo, hi: lo + int64(g)}
			if got := e.coarseOK(r); got != tt.want {
				t.Errorf("coarseOK %v after insertion (TTL %v, wall clock stepped %v) = %v, want %v", tt.elapsed, ttl, tt.step, got, tt.want)
			}
		})
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
