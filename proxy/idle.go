package proxy

import (
	"errors"
	"io"
	"sync/atomic"
	"time"
)

// errIdle ends an upstream body that stayed silent for StreamIdleTimeout.
var errIdle = errors.New("proxy: upstream response body idle for too long")

// idleBody closes an upstream response body when no byte has arrived for
// d: closing it unblocks the pending Read, which then returns errIdle.
type idleBody struct {
	rc       io.ReadCloser
	d        time.Duration
	t        *time.Timer
	timedOut atomic.Bool
}

func newIdleBody(rc io.ReadCloser, d time.Duration) *idleBody {
	b := &idleBody{rc: rc, d: d}
	b.t = time.AfterFunc(d, func() {
		b.timedOut.Store(true)
		_ = rc.Close()
	})
	return b
}

// Read reads from the body and restarts the idle clock.
func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if b.timedOut.Load() {
		return n, errIdle
	}
	if n > 0 {
		b.t.Reset(b.d)
	}
	return n, err
}

// Close stops the clock and closes the body.
func (b *idleBody) Close() error {
	b.t.Stop()
	return b.rc.Close()
}
