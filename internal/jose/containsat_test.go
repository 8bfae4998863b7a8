package jose

import (
	"context"
	"math"
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

// TestRemoteContainsSince: ContainsSince(k, base, elapsed) answers as
// ContainsAt(k, base.Add(elapsed)) does, which it does not build: for a
// set fetched on a clock with a monotonic reading (time.Now) and without
// (a fake clock), bases with and without one, before the fetch, at it and
// after it, and instants around MaxStale and RefreshInterval; bases
// centuries away (where the offsets saturate) are refused or accepted as
// ContainsAt does.
func TestRemoteContainsSince(t *testing.T) {
	t.Parallel()
	p := newIDP(t)
	k1 := newSigner(t, ES256, "k1")
	p.set("", k1.jwk)
	const maxStale, interval = time.Hour, 10 * time.Minute
	for _, clock := range []struct {
		name string
		now  func() time.Time
	}{{"fake clock", newClock().Now}, {"time.Now", time.Now}} {
		for _, iv := range []time.Duration{0, interval} {
			r := newRemote(t, p, nil, func(c *RemoteKeySetConfig) { c.Now, c.RefreshInterval, c.MaxStale = clock.now, iv, maxStale })
			pk1, err := VerifyToken(context.Background(), k1.token(t, "k1"), r)
			if err != nil {
				t.Fatal(err)
			}
			at := r.snap.Load().at
			before := p.hits.Load()
			for _, base := range []time.Time{at, at.Round(0), at.Add(-time.Hour), at.Add(-time.Hour).Round(0), at.Add(time.Minute), at.AddDate(-300, 0, 0), at.AddDate(300, 0, 0)} {
				for _, age := range []time.Duration{-time.Minute, 0, time.Minute, interval - 1, maxStale, maxStale + 1, maxStale + time.Hour} {
					if iv > 0 && age >= iv {
						continue // would start a refresh
					}
					elapsed := at.Add(age).Sub(base)
					if elapsed < 0 || elapsed == math.MaxInt64 {
						elapsed = 0 // base after the instant, or too far before it
					}
					want := r.ContainsAt(pk1, base.Add(elapsed))
					if got := r.ContainsSince(pk1, base, elapsed); got != want {
						t.Errorf("%s, interval %v, base %v, elapsed %v: ContainsSince = %v, ContainsAt = %v", clock.name, iv, base, elapsed, got, want)
					}
					if ref := at.Add(age); base.Add(elapsed).Equal(ref) && want != (age <= maxStale) {
						t.Errorf("%s, interval %v: age %v: ContainsAt = %v", clock.name, iv, age, want)
					}
				}
			}
			if p.hits.Load() != before {
				t.Fatalf("%s, interval %v: ContainsSince fetched", clock.name, iv)
			}
		}
	}
}
