package verifier

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// readingAt is the coarse reading taken at wall instant t, mono after the
// clock's base.
func readingAt(t time.Time, mono time.Duration) *clockReading {
	lo := t.UnixNano()
	return &clockReading{mono: mono, lo: lo, hi: lo + int64(clockGranularity)}
}

// TestCoarseWindowFailsClosed: a hit decided on a coarse reading must pass
// at every instant the wall clock can be in, [lo, lo+clockGranularity]: a
// reading whose interval reaches exp + leeway, the TTL's end, or starts
// before nbf - leeway / iat - leeway is never a coarse hit.
func TestCoarseWindowFailsClosed(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	var zero time.Time
	g := clockGranularity
	tests := []struct {
		name          string
		exp, nbf, iat time.Time
		leeway, ttl   time.Duration
		at            time.Time // reading's lo
		want          bool
	}{
		{"inside", base.Add(time.Hour), base.Add(-time.Hour), zero, 30 * time.Second, time.Hour, base, true},
		{"last coarse instant before exp+leeway", base.Add(time.Minute), zero, zero, 30 * time.Second, time.Hour, base.Add(90*time.Second - g - time.Nanosecond), true},
		{"interval reaches exp+leeway", base.Add(time.Minute), zero, zero, 30 * time.Second, time.Hour, base.Add(90*time.Second - g), false},
		{"at exp+leeway", base.Add(time.Minute), zero, zero, 30 * time.Second, time.Hour, base.Add(90 * time.Second), false},
		{"at exp+leeway+granularity", base.Add(time.Minute), zero, zero, 30 * time.Second, time.Hour, base.Add(90*time.Second + g), false},
		{"no leeway, interval reaches exp", base.Add(time.Second), zero, zero, 0, time.Hour, base.Add(time.Second - g/2), false},
		{"at nbf-leeway", base.Add(time.Hour), base.Add(time.Minute), zero, 30 * time.Second, time.Hour, base.Add(30 * time.Second), true},
		{"before nbf-leeway", base.Add(time.Hour), base.Add(time.Minute), zero, 30 * time.Second, time.Hour, base.Add(30*time.Second - time.Nanosecond), false},
		{"before iat-leeway", base.Add(time.Hour), zero, base.Add(time.Minute), 30 * time.Second, time.Hour, base.Add(29 * time.Second), false},
		{"interval reaches the TTL's end", base.Add(time.Hour), zero, zero, 30 * time.Second, time.Minute, base.Add(time.Minute - g), false},
		{"no exp: TTL bounds", zero, zero, zero, 30 * time.Second, time.Minute, base.Add(time.Minute - g - 1), true},
		{"nbf after the TTL's end", base.Add(time.Hour), base.Add(2 * time.Minute), zero, 0, time.Minute, base.Add(3 * time.Minute), false},
		{"exp beyond UnixNano", base.AddDate(500, 0, 0), zero, zero, 0, time.Minute, base.Add(time.Second), true},
		{"nbf before UnixNano", base.Add(time.Hour), base.AddDate(-500, 0, 0), zero, 0, time.Minute, base.Add(time.Second), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Inserted at base, when the clock's base was read: until is
			// ttl after both.
			e := &cacheEntry{claims: &core.Claims{Expiry: tt.exp, NotBefore: tt.nbf, IssuedAt: tt.iat}, leeway: tt.leeway, until: base.Add(tt.ttl), untilOff: tt.ttl}
			e.setWindow()
			e.setCoarseWindow()
			r := readingAt(tt.at, tt.at.Sub(base))
			got := e.coarseOK(r)
			if got != tt.want {
				t.Errorf("coarseOK at %v = %v, want %v", tt.at, got, tt.want)
			}
			if !got {
				return
			}
			// The safety rule itself: every instant of the interval passes
			// the exact checks.
			for _, now := range []time.Time{tt.at, tt.at.Add(g / 2), tt.at.Add(g)} {
				if !e.timesOK(now) || !now.Before(e.until) {
					t.Errorf("coarse hit at %v, but the exact checks fail at %v", tt.at, now)
				}
			}
		})
	}
}

// TestCoarseClockHit drives a verifier on the default clock (in a synctest
// bubble, whose fake clock time.Now and time.Since both read) across its
// token's exp + leeway: accepted until just before it, refused at it and
// one granularity after, whatever the reading's age; a token that shares
// the cached token's key but differs elsewhere is never a hit.
func TestCoarseClockHit(t *testing.T) {
	t.Parallel()
	k := key(t, jose.ES256, "a")
	synctest.Test(t, func(t *testing.T) {
		const leeway = 5 * time.Second
		v := staticVerifier(t, nil, func(c *Config) { c.Now = nil; c.Leeway = leeway })
		if v.clock == nil {
			t.Fatal("the default clock is not coarse")
		}
		start := time.Now()
		c := claims("https://as.example")
		c["iat"], c["nbf"], c["exp"] = start.Unix(), start.Unix(), start.Add(10*time.Second).Unix()
		tok := sign(t, k, jose.ES256, "es", c)
		ctx := context.Background()
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
		edge := time.Unix(start.Add(10*time.Second).Unix(), 0).Add(leeway) // exp + leeway
		forged := tok[:strings.IndexByte(tok, '.')] + ".e30" + tok[strings.LastIndexByte(tok, '.'):]
		steps := []struct {
			name    string
			at      time.Time
			accept  bool
			refresh bool // take a new reading first
		}{
			{"well inside", start.Add(time.Second), true, true},
			{"inside, reading aged", start.Add(time.Second + clockGranularity/2), true, false},
			{"one granularity before the edge", edge.Add(-clockGranularity), true, true},
			{"half a granularity before the edge", edge.Add(-clockGranularity / 2), true, true},
			{"1ns before the edge, reading half a granularity old", edge.Add(-time.Nanosecond), true, false},
			{"at exp+leeway, reading half a granularity old", edge, false, false},
			{"at exp+leeway+granularity", edge.Add(clockGranularity), false, false},
		}
		for _, s := range steps {
			time.Sleep(time.Until(s.at))
			if s.refresh {
				v.clock.refresh()
			}
			if _, hit, _ := v.VerifyCached(ctx, forged); hit {
				t.Errorf("%s: a token sharing the cached token's key was a hit", s.name)
			}
			got, hit, err := v.VerifyCached(ctx, tok)
			switch {
			case s.accept && (!hit || err != nil || got == nil):
				t.Errorf("%s: hit %v, err %v; want the cached claims", s.name, hit, err)
			case !s.accept && err == nil && got != nil:
				t.Errorf("%s: accepted at %v (exp+leeway %v)", s.name, time.Now(), edge)
			case !s.accept && hit && !errors.Is(err, core.ErrExpired):
				t.Errorf("%s: refused with %v, want ErrExpired", s.name, err)
			}
		}
	})
}
