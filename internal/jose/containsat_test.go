package jose

import (
	"context"
	"testing"
	"time"
)

// TestRemoteContainsAt: ContainsAt answers like Contains at the given
// time, lock-free while the set is fresh: true within MaxStale without a
// refresh interval (and no fetch), false past MaxStale, and past
// RefreshInterval it still starts the background refresh.
func TestRemoteContainsAt(t *testing.T) {
	t.Parallel()
	p, clk := newIDP(t), newClock()
	k1 := newSigner(t, ES256, "k1")
	p.set("", k1.jwk)
	const maxStale = time.Hour
	for _, interval := range []time.Duration{0, 10 * time.Minute} {
		r := newRemote(t, p, clk, func(c *RemoteKeySetConfig) { c.RefreshInterval, c.MaxStale = interval, maxStale })
		pk1, err := VerifyToken(context.Background(), k1.token(t, "k1"), r)
		if err != nil {
			t.Fatal(err)
		}
		at := clk.Now()
		before := p.hits.Load()
		other := *pk1
		other.KeyID = "k2"
		for _, c := range []struct {
			age  time.Duration
			want bool
		}{{0, true}, {-time.Minute, true}, {time.Minute, true}, {maxStale, true}, {maxStale + time.Nanosecond, false}} {
			if interval > 0 && c.age >= interval {
				continue // would start a refresh: checked below
			}
			if got := r.ContainsAt(pk1, at.Add(c.age)); got != c.want {
				t.Errorf("interval %v, age %v: ContainsAt = %v, want %v", interval, c.age, got, c.want)
			}
			if r.ContainsAt(&other, at.Add(c.age)) {
				t.Errorf("interval %v, age %v: a key outside the set contained", interval, c.age)
			}
		}
		if p.hits.Load() != before {
			t.Fatalf("interval %v: ContainsAt fetched", interval)
		}
		if interval > 0 {
			clk.Add(interval)
			if !r.ContainsAt(pk1, clk.Now()) {
				t.Fatal("key not contained when the refresh is due")
			}
			if err := waitFor(func() bool { return p.hits.Load() > before && r.inflightDone() }); err != nil {
				t.Fatalf("no refresh started once RefreshInterval passed: %v", err)
			}
		}
	}
}
