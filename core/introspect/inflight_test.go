package introspect

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
)

// TestInFlightBounded: distinct unauthenticated tokens against a slow
// endpoint. Each caller gives up after a few milliseconds, but the shared
// request outlives it (WithoutCancel), so without a bound every random
// token left one outbound request, connection and goroutine behind for up
// to Config.Timeout. With Config.MaxConcurrent the endpoint sees at most
// that many requests, the rest are refused at once with ErrUnavailable
// (503, not the token's fault), and a refusal for lack of room does not
// start the failure backoff.
func TestInFlightBounded(t *testing.T) {
	tests := []struct {
		name       string
		max        int
		callers    int
		wantCalls  int64
		wantBusy   bool
		wantInBulk bool // every caller reached the endpoint
	}{
		{name: "default bound", max: 0, callers: 3 * DefaultMaxConcurrent, wantCalls: DefaultMaxConcurrent, wantBusy: true},
		{name: "explicit bound", max: 4, callers: 40, wantCalls: 4, wantBusy: true},
		{name: "unbounded when negative", max: -1, callers: 40, wantCalls: 40, wantInBulk: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as := newFakeAS()
			gate := make(chan struct{})
			as.gate = gate
			srv := as.server(t)
			clk := newClock()
			cfg := baseConfig(srv.URL, clk)
			cfg.MaxConcurrent = tc.max
			v, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var (
				wg   sync.WaitGroup
				mu   sync.Mutex
				busy int
			)
			for i := range tc.callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
					defer cancel()
					_, err := v.Verify(ctx, fmt.Sprintf("random-token-%04d", i))
					if !errors.Is(err, core.ErrUnavailable) {
						t.Errorf("caller %d: %v, want ErrUnavailable", i, err)
					}
					if errors.Is(err, errBusy) {
						mu.Lock()
						busy++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			// Every caller has given up; count what reached the endpoint.
			deadline := time.Now().Add(2 * time.Second)
			for as.calls.Load() < tc.wantCalls && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if got := as.calls.Load(); got != tc.wantCalls {
				t.Errorf("endpoint saw %d requests in flight, want %d", got, tc.wantCalls)
			}
			// A caller whose own deadline passes before its request looks
			// for room sees its deadline instead, so busy is at most the
			// overflow (the endpoint count above is exact).
			if tc.wantBusy && (busy == 0 || busy > tc.callers-int(tc.wantCalls)) {
				t.Errorf("%d callers refused as busy, want 1..%d", busy, tc.callers-int(tc.wantCalls))
			}
			if tc.wantInBulk && busy != 0 {
				t.Errorf("%d callers refused as busy without a bound", busy)
			}
			close(gate)
			// Room again, and no backoff was started by the refusals: a
			// known-inactive answer arrives at once.
			deadline = time.Now().Add(5 * time.Second)
			for {
				_, err := v.Verify(context.Background(), "after-the-flood")
				if errors.Is(err, core.ErrInactiveToken) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("after the flood: %v, want ErrInactiveToken", err)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}
