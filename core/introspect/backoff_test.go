package introspect

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
)

// TestOutageBackoff is issue 10 §6's figure: during a 40 s outage at
// 60 req/s of uncached tokens, the endpoint sees at most one call per
// backoff step, every uncached request fails closed, and a token cached
// before the outage keeps being served within its TTL. Time is a fake
// clock; requests run in memory.
func TestOutageBackoff(t *testing.T) {
	t.Parallel()
	clk := newClock()
	as := newFakeAS()
	as.set("cached", answer{body: activeBody})
	var down atomic.Bool
	var mu sync.Mutex
	var calls []time.Time
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls = append(calls, clk.Now())
		mu.Unlock()
		if down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		as.ServeHTTP(w, r)
	})
	cfg := baseConfig("http://127.0.0.1/introspect", clk)
	cfg.HTTPClient = inMemoryClient(h)
	cfg.PositiveTTL = 30 * time.Second
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	v.back.jitter = func() float64 { return 0 } // shortest steps: the worst case for the bound
	ctx := context.Background()
	if _, err := v.Verify(ctx, "cached"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	calls = nil
	mu.Unlock()
	down.Store(true)
	start := clk.Now()
	for i := 0; i < 40*60; i++ {
		if _, err := v.Verify(ctx, fmt.Sprint("tok", i)); !errors.Is(err, core.ErrUnavailable) {
			t.Fatalf("request %d during the outage: %v", i, err)
		}
		if i%60 == 0 && clk.Now().Sub(start) < 29*time.Second {
			if _, err := v.Verify(ctx, "cached"); err != nil {
				t.Fatalf("cached token at %v: %v", clk.Now().Sub(start), err)
			}
		}
		clk.Add(time.Second / 60)
	}
	// Steps (jitter 0, so half of 1, 2, 4, 8, 16, 30, 30 s): 0.5, 1, 2, 4,
	// 8, 15, 15 s; 40 s hold the first call and at most 7 probes.
	mu.Lock()
	got := append([]time.Time(nil), calls...)
	mu.Unlock()
	if len(got) > 8 {
		t.Fatalf("%d calls to the failing endpoint in 40 s, want <= 8", len(got))
	}
	step := DefaultBackoffInitial / 2
	for i := 1; i < len(got); i++ {
		if gap := got[i].Sub(got[i-1]); gap < step {
			t.Fatalf("call %d came %v after the previous one, inside a %v step", i, gap, step)
		}
		step = min(2*step, DefaultBackoffMax/2)
	}
	// Recovery: the next probe succeeds and resets the backoff.
	down.Store(false)
	as.set("fresh", answer{body: activeBody})
	clk.Add(DefaultBackoffMax)
	if _, err := v.Verify(ctx, "fresh"); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	if _, err := v.Verify(ctx, "tok-after"); !errors.Is(err, core.ErrInactiveToken) {
		t.Fatalf("second request after recovery must reach the endpoint: %v", err)
	}
	t.Logf("%d calls during the outage", len(got))
}

func TestBackoffSteps(t *testing.T) {
	t.Parallel()
	b := newBackoff(time.Second, 8*time.Second)
	b.jitter = func() float64 { return 0.999999 }
	now := time.Unix(0, 0)
	if err := b.allow(now); err != nil {
		t.Fatal("healthy endpoint refused")
	}
	var steps []time.Duration
	for i := 0; i < 6; i++ {
		b.done(now, true)
		steps = append(steps, b.until.Sub(now).Round(time.Millisecond))
		if err := b.allow(now.Add(steps[i] - time.Millisecond)); !errors.Is(err, core.ErrUnavailable) {
			t.Fatalf("call allowed inside step %d", i)
		}
		now = now.Add(steps[i])
		if err := b.allow(now); err != nil {
			t.Fatalf("probe refused after step %d: %v", i, err)
		}
		if err := b.allow(now); err == nil {
			t.Fatalf("second probe allowed in step %d", i)
		}
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second, 8 * time.Second}
	for i := range want {
		if steps[i] != want[i] {
			t.Fatalf("steps %v, want %v", steps, want)
		}
	}
	b.done(now, false)
	if err := b.allow(now); err != nil {
		t.Fatal("success did not reset the backoff")
	}
	if off := newBackoff(-1, time.Second); off.allow(now) != nil {
		t.Fatal("disabled backoff refused")
	}
}
