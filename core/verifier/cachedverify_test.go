package verifier

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/jose"
)

var _ core.CachedVerifier = (*Verifier)(nil)

// TestVerifyCached: VerifyCached answers only from the cache: a miss until
// Verify cached the token, then the very claims Verify returned; a refusal
// (expired) once the time claims fail, with the entry gone; a miss once
// the verifying key left the issuer's key set, after which Verify fails
// closed; and always a miss with the cache disabled.
func TestVerifyCached(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := newIDP(t, "/vc")
	k1, k2 := key(t, jose.RS256, "vc1"), key(t, jose.RS256, "vc2")
	p.setJWKS(jwksOf(t, k1, "k1", jose.RS256))
	clk := newClock()
	v, err := New(ctx, Config{
		Issuers:  []IssuerConfig{{Issuer: p.issuer, JWKSURL: p.srv.URL + "/vc/jwks", RefreshInterval: time.Minute}},
		Audience: []string{testAud}, Now: clk.Now, Cache: CacheConfig{TTL: 24 * time.Hour},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := claims(p.issuer)
	c["exp"] = t0.Add(2 * time.Hour).Unix()
	tok := sign(t, k1, jose.RS256, "k1", c)

	if got, hit, err := v.VerifyCached(ctx, tok); hit || got != nil || err != nil {
		t.Fatalf("before Verify: %v, %v, %v; want a miss", got, hit, err)
	}
	if got, hit, err := v.VerifyCached(ctx, "not.a.jws"); hit || got != nil || err != nil {
		t.Fatalf("garbage: %v, %v, %v; want a miss", got, hit, err)
	}
	first, err := v.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	got, hit, err := v.VerifyCached(ctx, tok)
	if !hit || err != nil || got != first {
		t.Fatalf("after Verify: %p, %v, %v; want a hit with the claims Verify returned (%p)", got, hit, err, first)
	}
	if _, hit, _ := v.VerifyCached(ctx, tok+"x"); hit {
		t.Fatal("a different text hit the cache")
	}

	// The key leaves the set: once the key set is refreshed (or too old
	// to trust), the entry is a miss and Verify refuses.
	p.setJWKS(jwksOf(t, k2, "k2", jose.RS256))
	clk.Add(2 * time.Minute) // past RefreshInterval, within the cache TTL
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, hit, err := v.VerifyCached(ctx, tok) // the first call starts the refresh
		if err != nil {
			t.Fatalf("cached entry refused instead of missing: %v", err)
		}
		if !hit {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("still a hit 5 s after the key left the key set")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := v.Verify(ctx, tok); !errors.Is(err, core.ErrUnknownKey) && !errors.Is(err, core.ErrSignature) {
		t.Fatalf("Verify after the key left: %v, want a key or signature refusal", err)
	}

	// Expiry: a hit that refuses, then a miss.
	tok2 := sign(t, k2, jose.RS256, "k2", c)
	if _, err := v.Verify(ctx, tok2); err != nil {
		t.Fatal(err)
	}
	clk.Add(2*time.Hour + DefaultLeeway)
	if got, hit, err := v.VerifyCached(ctx, tok2); !hit || got != nil || !errors.Is(err, core.ErrExpired) {
		t.Fatalf("expired: %v, %v, %v; want a hit refusing with ErrExpired", got, hit, err)
	}
	if _, hit, _ := v.VerifyCached(ctx, tok2); hit {
		t.Fatal("expired entry kept")
	}

	// No cache: always a miss.
	nc := staticVerifier(t, newClock(), func(c *Config) { c.Cache.MaxEntries = -1 })
	tok3 := sign(t, key(t, jose.ES256, "a"), jose.ES256, "es", claims("https://as.example"))
	verr(t, nc, tok3, nil)
	if _, hit, _ := nc.VerifyCached(ctx, tok3); hit {
		t.Fatal("hit without a cache")
	}
}
