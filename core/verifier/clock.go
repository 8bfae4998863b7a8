package verifier

import (
	"math"
	"sync/atomic"
	"time"
)

// clockGranularity is how long one wall-clock reading of coarseClock
// serves cache hits: a hit decided on a reading knows only that the wall
// clock is in [reading, reading+clockGranularity).
const clockGranularity = time.Millisecond

// coarseClock serves the verified-token cache's hits with a wall-clock
// reading taken at most clockGranularity earlier, so that a hit reads only
// the monotonic clock (time.Since of a time.Now reading does) instead of
// both clocks, and compares integers instead of time.Time values. The first
// caller past a reading's validity takes a new one with time.Now. Only the
// default clock (Config.Now nil) is made coarse.
//
// A hit decided on a coarse reading is fail-closed in both directions (see
// cacheEntry.coarseOK): it needs the whole interval [lo, hi] inside the
// entry's window, so a token is never accepted at or after exp + leeway
// (or the cache TTL) and never before nbf - leeway (or iat - leeway). When
// the interval straddles an edge the hit is decided again with time.Now,
// as without the coarse clock, so in the last clockGranularity before an
// edge the answer is exactly the one time.Now gives. A step of the wall
// clock is seen by hits up to clockGranularity late, as by a request that
// read time.Now just before it.
type coarseClock struct {
	base time.Time // a time.Now reading: time.Since(base) reads the monotonic clock only
	cur  atomic.Pointer[clockReading]
}

// clockReading is one time.Now reading and the interval it stands for.
// Immutable once published.
type clockReading struct {
	mono   time.Duration // time.Since(base) when wall was read
	lo, hi int64         // wall.UnixNano() and + clockGranularity
	upper  time.Time     // wall + clockGranularity, monotonic reading kept
}

func newCoarseClock() *coarseClock {
	c := &coarseClock{base: time.Now()}
	c.refresh()
	return c
}

// read returns a reading whose interval contains the wall clock now
// (barring a step of the wall clock in the last clockGranularity).
func (c *coarseClock) read() *clockReading {
	el := time.Since(c.base)
	if r := c.cur.Load(); el >= r.mono && el-r.mono < clockGranularity {
		return r
	}
	return c.refresh()
}

// refresh reads time.Now and publishes it. Racing refreshes each publish a
// valid reading; read checks the age of whichever it loads.
func (c *coarseClock) refresh() *clockReading {
	now := time.Now()
	lo := now.UnixNano()
	r := &clockReading{mono: now.Sub(c.base), lo: lo, hi: lo + int64(clockGranularity), upper: now.Add(clockGranularity)}
	c.cur.Store(r)
	return r
}

// unixNanoBounded is t.UnixNano() for an instant before limit (which is in
// range), and math.MinInt64 for one before what UnixNano can represent.
func unixNanoBounded(t time.Time) int64 {
	if t.Before(minUnixNano) {
		return math.MinInt64
	}
	return t.UnixNano()
}

var minUnixNano = time.Unix(0, math.MinInt64)
