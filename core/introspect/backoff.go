package introspect

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
)

// backoff bounds the calls made to a failing introspection endpoint:
// exponential, capped, jittered steps, one probe per step. Safe for
// concurrent use.
type backoff struct {
	initial, max time.Duration  // initial < 0: disabled
	jitter       func() float64 // uniform in [0, 1)

	mu       sync.Mutex
	failures int       // consecutive failed calls
	until    time.Time // no call before this
}

func newBackoff(initial, max time.Duration) *backoff {
	return &backoff{initial: initial, max: max, jitter: rand.Float64}
}

// allow reports whether a call may be made now. While the endpoint is
// failing it lets exactly one call (the probe) through per step: the probe
// claims the step by pushing until forward, so concurrent callers are
// refused until the probe's outcome sets the next step.
func (b *backoff) allow(now time.Time) error {
	if b.initial < 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failures == 0 {
		return nil
	}
	if now.Before(b.until) {
		return fmt.Errorf("%w: introspection endpoint failing (%d consecutive failures); next attempt in %v",
			core.ErrUnavailable, b.failures, b.until.Sub(now).Round(time.Millisecond))
	}
	b.until = now.Add(b.step()) // the probe's slot
	return nil
}

// done records the outcome of a call: failed is true when the endpoint did
// not give a usable answer.
func (b *backoff) done(now time.Time, failed bool) {
	if b.initial < 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !failed {
		b.failures, b.until = 0, time.Time{}
		return
	}
	b.failures++
	b.until = now.Add(b.step())
}

// step is the jittered backoff after b.failures failures; b.mu held.
func (b *backoff) step() time.Duration {
	d := b.initial
	for i := 1; i < b.failures && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	return d/2 + time.Duration(b.jitter()*float64(d/2))
}
