package introspect

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/mcpauthz/mcpauthz/core"
)

// TestSingleFlight: 100 concurrent lookups of one token make one upstream
// request, and all get the answer.
func TestSingleFlight(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		as := newFakeAS()
		as.set("tok", answer{body: activeBody})
		as.gate = make(chan struct{})
		clk := newClock()
		cfg := baseConfig("https://as.example.com/introspect", clk)
		cfg.HTTPClient = inMemoryClient(as)
		v, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		const n = 100
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := v.Verify(context.Background(), "tok")
				if err == nil && c.Subject != "U019488227" {
					err = errors.New("wrong claims")
				}
				errs <- err
			}()
		}
		synctest.Wait() // every goroutine is blocked: one in the handler, the rest waiting
		if got := as.calls.Load(); got != 1 {
			t.Fatalf("upstream calls while blocked = %d, want 1", got)
		}
		close(as.gate)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got := as.calls.Load(); got != 1 {
			t.Fatalf("upstream calls = %d, want 1", got)
		}
	})
}

// TestWaiterCancelled: a caller whose context ends stops waiting with
// ErrUnavailable, while the shared request completes and is cached.
func TestWaiterCancelled(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		as := newFakeAS()
		as.set("tok", answer{body: activeBody})
		as.gate = make(chan struct{})
		cfg := baseConfig("https://as.example.com/introspect", newClock())
		cfg.HTTPClient = inMemoryClient(as)
		v, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := v.Verify(ctx, "tok")
			done <- err
		}()
		synctest.Wait()
		cancel()
		err = <-done
		if !errors.Is(err, core.ErrUnavailable) || !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
		close(as.gate)
		synctest.Wait() // the detached request finishes and fills the cache
		if _, err := v.Verify(context.Background(), "tok"); err != nil {
			t.Fatal(err)
		}
		if got := as.calls.Load(); got != 1 {
			t.Fatalf("upstream calls = %d, want 1", got)
		}
	})
}
