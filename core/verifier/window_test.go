package verifier

import (
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
)

// TestEntryWindowMatchesCheckTimes: a cache hit skips checkTimes inside the
// entry's precomputed window, so the window must pass exactly where
// checkTimes passes, at every instant around each claim's edge.
func TestEntryWindowMatchesCheckTimes(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	var zero time.Time
	tests := []struct {
		name          string
		exp, nbf, iat time.Time
		leeway        time.Duration
	}{
		{"exp only", base.Add(time.Minute), zero, zero, 30 * time.Second},
		{"all three", base.Add(time.Minute), base.Add(-time.Minute), base.Add(-2 * time.Minute), 30 * time.Second},
		{"nbf after iat", base.Add(time.Hour), base.Add(10 * time.Second), base, 5 * time.Second},
		{"iat after nbf", base.Add(time.Hour), base, base.Add(10 * time.Second), 5 * time.Second},
		{"no leeway", base.Add(time.Second), base, base, 0},
		{"no times", zero, zero, zero, time.Minute},
		{"sub-second edges", base.Add(1500 * time.Millisecond), base.Add(700 * time.Millisecond), zero, 250 * time.Millisecond},
		{"empty window", base, base.Add(time.Minute), zero, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := &cacheEntry{claims: &core.Claims{Expiry: tt.exp, NotBefore: tt.nbf, IssuedAt: tt.iat}, leeway: tt.leeway}
			e.setWindow()
			var edges []time.Time
			for _, c := range []time.Time{tt.exp, tt.nbf, tt.iat} {
				if !c.IsZero() {
					edges = append(edges, c.Add(tt.leeway), c.Add(-tt.leeway), c)
				}
			}
			edges = append(edges, base)
			for _, edge := range edges {
				for _, d := range []time.Duration{-time.Second, -time.Nanosecond, 0, time.Nanosecond, time.Second} {
					// With and without a monotonic reading, as from time.Now.
					for _, now := range []time.Time{edge.Add(d), time.Now().Add(time.Until(edge.Add(d)))} {
						want := checkTimes(now, tt.leeway, e.claims) == nil
						if got := e.timesOK(now); got != want {
							t.Errorf("now %v: timesOK %v, checkTimes passes %v", now, got, want)
						}
					}
				}
			}
		})
	}
}
