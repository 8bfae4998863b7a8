package jose

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRemoteContainsAtRotation (reviewp3): readers on ContainsAt's
// lock-free path race with a refresh that rotates the set (run under
// -race), and a key rotated out stops being contained as soon as the new
// set is fetched, although the set is young again (no interval has passed).
func TestRemoteContainsAtRotation(t *testing.T) {
	t.Parallel()
	p, clk := newIDP(t), newClock()
	k1, k2 := newSigner(t, ES256, "k1"), newSigner(t, ES256, "k2")
	p.set("", k1.jwk)
	r := newRemote(t, p, clk, func(c *RemoteKeySetConfig) { c.RefreshInterval, c.MaxStale = 10*time.Minute, time.Hour })
	pk1, err := VerifyToken(context.Background(), k1.token(t, "k1"), r)
	if err != nil {
		t.Fatal(err)
	}
	now := clk.Now()
	var stop atomic.Bool
	var seen atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1_000_000 && !stop.Load(); i++ {
				if r.ContainsAt(pk1, now) {
					seen.Add(1)
				}
			}
		}()
	}
	// Rotate: k1 leaves, k2 arrives; a k2 token makes the set refetch.
	p.set("", k2.jwk)
	clk.Add(DefaultMinRefreshInterval + time.Second) // the next unknown kid may refetch
	pk2, err := VerifyToken(context.Background(), k2.token(t, "k2"), r)
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatalf("k2 after the rotation: %v", err)
	}
	if r.ContainsAt(pk1, now) || r.ContainsAt(pk1, clk.Now()) || r.Contains(pk1) {
		t.Error("k1 still contained after the set that dropped it was fetched")
	}
	if !r.ContainsAt(pk2, clk.Now()) {
		t.Error("k2 not contained after the rotation")
	}
	if seen.Load() == 0 {
		t.Log("readers finished before the rotation: the race was not exercised this run")
	}
}
