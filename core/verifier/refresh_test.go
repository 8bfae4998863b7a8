package verifier

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// TestK09RemovedKeyRetired: a key the IdP drops from its JWKS stops
// verifying once RefreshInterval has elapsed, with no unknown-kid token to
// trigger the refresh, whether the token is cached or not.
func TestK09RemovedKeyRetired(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		discovery bool
		cache     CacheConfig
		refresh   time.Duration
		retired   bool
	}{
		{"jwks-url/cached", false, CacheConfig{TTL: time.Hour}, 10 * time.Minute, true},
		{"jwks-url/uncached", false, CacheConfig{MaxEntries: -1}, 10 * time.Minute, true},
		{"discovery/cached", true, CacheConfig{TTL: time.Hour}, 10 * time.Minute, true},
		{"default-interval", false, CacheConfig{TTL: time.Hour}, 0, true},
		{"disabled", false, CacheConfig{TTL: time.Hour}, -1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newIDP(t, "/r")
			k1, k2 := key(t, jose.ES256, "rot1"), key(t, jose.ES256, "rot2")
			p.setJWKS(jwksOf(t, k1, "k1", jose.ES256, k2, "k2", jose.ES256))
			clk := newClock()
			ic := IssuerConfig{Issuer: p.issuer, RefreshInterval: tc.refresh}
			if !tc.discovery {
				ic.JWKSURL = p.srv.URL + "/r/jwks"
			}
			v, err := New(context.Background(), Config{Issuers: []IssuerConfig{ic}, Audience: []string{testAud},
				Now: clk.Now, Cache: tc.cache})
			if err != nil {
				t.Fatal(err)
			}
			interval := tc.refresh
			if interval <= 0 {
				interval = DefaultRefreshInterval
			}
			c := claims(p.issuer)
			c["exp"] = t0.Add(interval + time.Hour).Unix()
			tok1, tok2 := sign(t, k1, jose.ES256, "k1", c), sign(t, k2, jose.ES256, "k2", c)
			verr(t, v, tok1, nil)
			verr(t, v, tok1, nil)
			p.setJWKS(jwksOf(t, k2, "k2", jose.ES256)) // k1 removed (compromised)
			base := p.jwksHits.Load()
			clk.Add(interval / 2)
			verr(t, v, tok1, nil) // not yet due: no fetch
			if got := p.jwksHits.Load() - base; got != 0 {
				t.Fatalf("fetches before RefreshInterval = %d", got)
			}
			clk.Add(interval/2 + time.Second)
			ctx := context.Background()
			deadline := time.Now().Add(5 * time.Second)
			for {
				_, err = v.Verify(ctx, tok1) // the first call starts the background refresh
				if err != nil || !tc.retired || time.Now().After(deadline) {
					break
				}
				time.Sleep(time.Millisecond)
			}
			if !tc.retired {
				if err != nil || p.jwksHits.Load() != base {
					t.Fatalf("refresh disabled: err=%v fetches=%d", err, p.jwksHits.Load()-base)
				}
				return
			}
			if !errors.Is(err, core.ErrUnknownKey) {
				t.Fatalf("removed key after RefreshInterval: %v", err)
			}
			verr(t, v, tok1, core.ErrUnknownKey) // stays rejected (not re-cached)
			verr(t, v, tok2, nil)
			verr(t, v, tok2, nil)
			if got := p.jwksHits.Load() - base; got != 1 {
				t.Fatalf("fetches = %d, want exactly 1 (the periodic refresh)", got)
			}
		})
	}
}

// TestCacheKeepsEntryWhileKeyPresent: a refresh that re-serves the same key
// keeps cached entries valid (keys compare by content).
func TestCacheKeepsEntryWhileKeyPresent(t *testing.T) {
	t.Parallel()
	k := key(t, jose.ES256, "a")
	pk, err := jose.NewPublicKey(k.Public(), "es", jose.ES256)
	if err != nil {
		t.Fatal(err)
	}
	clone := *pk
	keys := jose.NewStaticKeySet(pk)
	e := &cacheEntry{kc: keys.(keyContainer), key: &clone}
	if !e.keyStillTrusted(t0, 0) {
		t.Fatal("equal key not trusted")
	}
	other, _ := jose.NewPublicKey(key(t, jose.ES256, "b").Public(), "es", jose.ES256)
	if e.key = other; e.keyStillTrusted(t0, 0) {
		t.Fatal("different key material with the same kid trusted")
	}
	// A key set that cannot tell is trusted (bounded by TTL).
	e.kc, _ = jose.KeySet(&countingKeySet{KeySet: keys}).(keyContainer)
	if !e.keyStillTrusted(t0, 0) {
		t.Fatal("opaque key set")
	}
}
