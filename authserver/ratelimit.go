package authserver

import (
	"math"
	"sync"
	"time"
)

// limiter is a set of token buckets keyed by client id. Callers only use
// registered client ids, so the map is bounded by the configuration.
type limiter struct {
	mu      sync.Mutex
	rate    float64 // tokens per second
	burst   float64
	buckets map[string]*bucket
	now     func() time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(rl RateLimit, now func() time.Time) *limiter {
	if rl.Disabled {
		return nil
	}
	l := &limiter{rate: rl.PerSecond, burst: float64(rl.Burst), buckets: make(map[string]*bucket), now: now}
	if l.rate <= 0 {
		l.rate = DefaultRatePerSecond
	}
	if l.burst <= 0 {
		l.burst = DefaultRateBurst
	}
	return l
}

// allow takes one token from id's bucket. When the bucket is empty it
// returns false and the whole seconds until a token is available (≥ 1).
func (l *limiter) allow(id string) (bool, int) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[id]
	if !ok {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[id] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(l.burst, b.tokens+el*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := int(math.Ceil((1 - b.tokens) / l.rate))
	return false, max(wait, 1)
}
