package redisstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/core"
)

// TestReconnectAfterRestart measures how long a store keeps answering
// ErrStoreUnavailable after Redis is back, when calls failed while it was
// down (docs/operations.md quotes the figure). go-redis stops dialing
// after PoolSize failed dials and redials once a second in the background,
// so the expected figure is up to ~1 s; the test fails only when the
// client has not recovered within 10 s.
func TestReconnectAfterRestart(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	c := srv.client(t)
	lim, err := NewLimiter(Config{Client: c})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	limit := authserver.Limit{PerSecond: 1000, Burst: 1000}
	dialed := make(chan struct{}, 1)
	c.AddHook(dialSignal{dialed})
	var worst time.Duration
	for round := range 5 {
		if _, err := lim.Allow(ctx, "k", limit); err != nil {
			t.Fatalf("round %d before the outage: %v", round, err)
		}
		srv.Stop()
		for range 2 * c.Options().PoolSize { // enough failed dials to trip the pool's dial backoff
			if _, err := lim.Allow(ctx, "k", limit); !errors.Is(err, core.ErrStoreUnavailable) {
				t.Fatalf("round %d while down: %v", round, err)
			}
		}
		// Outages of different lengths meet the background redial at
		// different points of its one-second period.
		<-time.After(time.Duration(round) * 200 * time.Millisecond)
		begin := time.Now()
		srv.Start() // returns once the server answers
		back := time.Now()
		for range len(dialed) {
			<-dialed
		}
		var failed int
		deadline := time.After(10 * time.Second)
		for {
			_, err := lim.Allow(ctx, "k", limit)
			if err == nil {
				break
			}
			if !errors.Is(err, core.ErrStoreUnavailable) {
				t.Fatal(err)
			}
			failed++
			select { // the pool redials in the background
			case <-dialed:
			case <-time.After(50 * time.Millisecond): // or a dropped connection is replaced at the next call
			case <-deadline:
				t.Fatalf("round %d: still unavailable 10 s after Redis was back: %v", round, err)
			}
		}
		d := time.Since(back)
		worst = max(worst, d)
		t.Logf("round %d (outage +%d ms): Redis answered %v after its start; the store failed %d calls for %v more", round, round*200, back.Sub(begin).Round(time.Millisecond), failed, d.Round(time.Millisecond))
	}
	t.Logf("worst: %v", worst.Round(time.Millisecond))
}
