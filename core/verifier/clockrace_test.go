package verifier

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// TestCoarseClockRaceAcrossEdges runs many goroutines through VerifyCached
// on the real default clock (coarse readings refreshed and published by
// whichever caller finds the last one too old) across two edges: one
// token's exp + leeway, and another token's cache TTL. A call that began
// at or after an edge (time.Now read before the call, so no later than
// the verifier's own reading) must not be accepted, respectively not be a
// cache hit. Run with -race: the readings are shared without a lock.
func TestCoarseClockRaceAcrossEdges(t *testing.T) {
	t.Parallel()
	const (
		leeway  = 200 * time.Millisecond
		ttl     = 600 * time.Millisecond
		workers = 16
	)
	k := key(t, jose.ES256, "a")
	v := staticVerifier(t, nil, func(c *Config) { c.Now = nil; c.Leeway = leeway; c.Cache.TTL = ttl })
	if v.clock == nil {
		t.Fatal("the default clock is not coarse")
	}
	ctx := context.Background()

	// exp is whole seconds: the edge is the next second boundary at least
	// 300 ms away, plus leeway; the TTL is shorter than that, so the
	// expiring token's entry is inserted again (a miss, then Verify) before
	// it. The other token is never verified again: its entry's TTL end is
	// the second edge.
	now := time.Now()
	exp := now.Add(300 * time.Millisecond).Truncate(time.Second).Add(time.Second)
	expiring := claims("https://as.example")
	expiring["iat"], expiring["nbf"], expiring["exp"] = now.Unix()-1, now.Unix()-1, exp.Unix()
	expiring["jti"] = "expiring"
	expTok := sign(t, k, jose.ES256, "es", expiring)
	edge := exp.Add(leeway)

	long := claims("https://as.example")
	long["iat"], long["nbf"], long["exp"] = now.Unix()-1, now.Unix()-1, now.Add(time.Hour).Unix()
	long["jti"] = "long"
	ttlTok := sign(t, k, jose.ES256, "es", long)
	if _, err := v.Verify(ctx, expTok); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, ttlTok); err != nil {
		t.Fatal(err)
	}
	ttlEnd := time.Now().Add(ttl) // at or after the entry's TTL end

	var lateAccepts, lateHits, earlyRefusals atomic.Int64
	var wg sync.WaitGroup
	stop := edge.Add(100 * time.Millisecond)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ttlDone := false
			for n := 0; n < 1<<22; n++ { // bounded: ~1.3 s of calls
				began := time.Now()
				if !began.Before(stop) {
					return
				}
				c, hit, err := v.VerifyCached(ctx, expTok)
				if !hit { // as the Guard does: a miss is verified (and cached again)
					c, err = v.Verify(ctx, expTok)
				}
				switch {
				case (err == nil && c != nil) && !began.Before(edge):
					lateAccepts.Add(1)
				case err != nil && time.Now().Before(edge):
					earlyRefusals.Add(1) // a refusal that ended before the edge
				}
				if ttlDone {
					continue
				}
				began = time.Now()
				if _, hit, _ := v.VerifyCached(ctx, ttlTok); hit && !began.Before(ttlEnd) {
					lateHits.Add(1)
				}
				ttlDone = began.After(ttlEnd.Add(50 * time.Millisecond))
			}
		}()
	}
	wg.Wait()
	if n := lateAccepts.Load(); n > 0 {
		t.Errorf("%d calls begun at or after exp+leeway accepted the token", n)
	}
	if n := lateHits.Load(); n > 0 {
		t.Errorf("%d calls begun at or after the TTL's end were cache hits", n)
	}
	if n := earlyRefusals.Load(); n > 0 {
		t.Errorf("%d calls refused the token before exp+leeway", n)
	}
}
