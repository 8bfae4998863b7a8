package introspect

import (
	"context"
	"errors"
	"fmt"
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
			as.arrived = make(chan struct{}, 2*tc.callers+1) // never blocks the endpoint
			srv := as.server(t)
			clk := newClock()
			cfg := baseConfig(srv.URL, clk)
			cfg.MaxConcurrent = tc.max
			// The held requests must not time out while a loaded machine
			// gets every caller going (a timeout would start the backoff).
			cfg.Timeout = time.Minute
			v, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			// Each caller gives up when the test cancels its context, once
			// the endpoint holds every request it will see and every other
			// caller has been answered: no wall-clock deadline decides who
			// gets a slot, so a loaded machine changes nothing.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			type outcome struct {
				i   int
				err error
			}
			returned := make(chan outcome, tc.callers)
			for i := range tc.callers {
				go func() {
					_, err := v.Verify(ctx, fmt.Sprintf("random-token-%04d", i))
					returned <- outcome{i, err}
				}()
			}
			limit := time.After(time.Minute) // bounds the wait; the events decide
			waitFor := func(what string, ch <-chan struct{}, n int64) {
				t.Helper()
				for range n {
					select {
					case <-ch:
					case <-limit:
						t.Fatalf("no %s within a minute (endpoint saw %d)", what, as.calls.Load())
					}
				}
			}
			waitFor("request at the endpoint", as.arrived, tc.wantCalls)
			var (
				busy    int
				holding []int // callers whose request is at the endpoint
				outs    []outcome
			)
			for range tc.callers - int(tc.wantCalls) {
				select {
				case o := <-returned:
					outs = append(outs, o)
				case <-limit:
					t.Fatalf("only %d of %d callers without a slot answered within a minute", len(outs), tc.callers-int(tc.wantCalls))
				}
			}
			cancel() // the slot holders give up; their requests live on
			for len(outs) < tc.callers {
				outs = append(outs, <-returned)
			}
			for _, o := range outs {
				if !errors.Is(o.err, core.ErrUnavailable) {
					t.Errorf("caller %d: %v, want ErrUnavailable", o.i, o.err)
				}
				if errors.Is(o.err, errBusy) {
					busy++
				} else {
					holding = append(holding, o.i)
				}
			}
			// Every caller has given up; count what reached the endpoint.
			if got := as.calls.Load(); got != tc.wantCalls {
				t.Errorf("endpoint saw %d requests in flight, want %d", got, tc.wantCalls)
			}
			if tc.wantBusy && (busy == 0 || busy > tc.callers-int(tc.wantCalls)) {
				t.Errorf("%d callers refused as busy, want 1..%d", busy, tc.callers-int(tc.wantCalls))
			}
			if tc.wantInBulk && busy != 0 {
				t.Errorf("%d callers refused as busy without a bound", busy)
			}
			close(gate)
			// The held requests finish: asking again for their tokens joins
			// each one still in flight and returns once it has released
			// its slot (or finds its cached answer).
			for _, i := range holding {
				if _, err := v.Verify(context.Background(), fmt.Sprintf("random-token-%04d", i)); !errors.Is(err, core.ErrInactiveToken) {
					t.Fatalf("held token %d after the gate: %v, want ErrInactiveToken", i, err)
				}
			}
			// Room again, and no backoff was started by the refusals: a
			// known-inactive answer arrives at once.
			if _, err := v.Verify(context.Background(), "after-the-flood"); !errors.Is(err, core.ErrInactiveToken) {
				t.Fatalf("after the flood: %v, want ErrInactiveToken", err)
			}
		})
	}
}
