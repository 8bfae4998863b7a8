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
	// baseMono is whether base carries a monotonic reading (it does but in
	// a testing/synctest bubble): then readings are offsets on the
	// monotonic clock, else on the wall clock (see deadline).
	baseMono bool
	// The current reading, published without allocating under a sequence
	// count: seq is odd while a refresh stores mono and lo, and a reader
	// keeps the two only when seq was even and unchanged around its loads.
	// Every field is atomic (the race detector sees no race, and a torn
	// pair is seen by its seq, never used).
	seq  atomic.Uint64
	mono atomic.Int64 // time.Since(base) when lo was read
	lo   atomic.Int64 // the wall clock then, as UnixNano
}

// clockReading is one time.Now reading and the interval it stands for.
type clockReading struct {
	mono   time.Duration // time.Since(base) when wall was read
	lo, hi int64         // wall.UnixNano() and + clockGranularity
}

// upper is the offset from base clockGranularity after the reading: the
// latest instant a hit decided on it can happen at. It is compared with
// offsets of the same clock (deadline), never turned into a time.Time on a
// hit.
func (r *clockReading) upper() time.Duration { return r.mono + clockGranularity }

func newCoarseClock() *coarseClock {
	c := &coarseClock{base: time.Now()}
	c.baseMono = c.base != c.base.Round(0)
	c.refresh()
	return c
}

// read returns a reading whose interval contains the wall clock now
// (barring a step of the wall clock in the last clockGranularity).
func (c *coarseClock) read() clockReading {
	el := time.Since(c.base)
	// 0 <= el-mono < clockGranularity, in one unsigned comparison.
	if mono, lo, ok := c.load(); ok && uint64(el-mono) < uint64(clockGranularity) {
		return c.reading(mono, lo)
	}
	return c.refresh()
}

// refresh reads time.Now and publishes it. Racing refreshes each publish
// a valid reading (or leave it to the one publishing); read checks the age
// of whichever it loads. Nothing is allocated.
func (c *coarseClock) refresh() clockReading {
	now := time.Now()
	mono, lo := now.Sub(c.base), now.UnixNano()
	c.publish(mono, lo)
	return c.reading(mono, lo)
}

// load returns the published reading; ok is false when a refresh was
// storing one meanwhile (the pair may then be torn).
func (c *coarseClock) load() (mono time.Duration, lo int64, ok bool) {
	s := c.seq.Load()
	mono, lo = time.Duration(c.mono.Load()), c.lo.Load()
	return mono, lo, s&1 == 0 && c.seq.Load() == s
}

// publish stores a reading, unless another refresh is storing one: then
// its caller uses its reading alone.
func (c *coarseClock) publish(mono time.Duration, lo int64) {
	if s := c.seq.Load(); s&1 == 0 && c.seq.CompareAndSwap(s, s+1) {
		c.mono.Store(int64(mono))
		c.lo.Store(lo)
		c.seq.Store(s + 2)
	}
}

// reading is the clockReading of a time.Now reading taken mono after base,
// with wall clock lo.
func (c *coarseClock) reading(mono time.Duration, lo int64) clockReading {
	return clockReading{mono: mono, lo: lo, hi: lo + int64(clockGranularity)}
}

// deadline is t as an offset from base on the clock the readings' offsets
// are on, so that a hit compares it with upper as integers: t.Sub(base),
// monotonic when both carry a monotonic reading. A t without one (built
// from a Unix time, or by a Config.Now clock) cannot be placed on the
// monotonic clock: its deadline is math.MinInt64, before every reading, so
// no coarse hit is decided on it (the exact path decides). Without a
// monotonic base (in a testing/synctest bubble) every offset, t.Sub(base)
// too, is on the wall clock.
func (c *coarseClock) deadline(t time.Time) time.Duration {
	if c.baseMono && t == t.Round(0) {
		return math.MinInt64
	}
	return t.Sub(c.base)
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
