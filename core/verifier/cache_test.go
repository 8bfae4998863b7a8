package verifier

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// countingKeySet counts key lookups, to observe cache hits.
type countingKeySet struct {
	jose.KeySet
	n int
}

func (c *countingKeySet) Keys(ctx context.Context, kid, alg string) ([]*jose.PublicKey, error) {
	c.n++
	return c.KeySet.Keys(ctx, kid, alg)
}

// VerifySignature makes countingKeySet a caller-managed verifier.KeySet.
func (c *countingKeySet) VerifySignature(ctx context.Context, jws string) ([]byte, error) {
	tok, err := jose.ParseCompact(jws, jose.ParseOptions{Algorithms: jose.DefaultAlgorithms()})
	if err != nil {
		return nil, err
	}
	if _, err := jose.VerifyToken(ctx, tok, c); err != nil {
		return nil, err
	}
	return tok.Payload, nil
}

func cachedVerifier(t *testing.T, clk *clock, cache CacheConfig) (*Verifier, *countingKeySet) {
	t.Helper()
	k := key(t, jose.ES256, "a")
	pk, err := jose.NewPublicKey(k.Public(), "es", jose.ES256)
	if err != nil {
		t.Fatal(err)
	}
	ks := &countingKeySet{KeySet: jose.NewStaticKeySet(pk)}
	v, err := New(context.Background(), Config{
		Issuers: []IssuerConfig{{Issuer: iss, KeySet: ks}}, Audience: []string{testAud}, Now: clk.Now, Cache: cache,
	})
	if err != nil {
		t.Fatal(err)
	}
	return v, ks
}

func TestCacheHitRechecksTime(t *testing.T) {
	t.Parallel()
	clk := newClock()
	v, ks := cachedVerifier(t, clk, CacheConfig{})
	c := claims(iss)
	c["exp"] = t0.Add(2 * time.Minute).Unix()
	raw := sign(t, key(t, jose.ES256, "a"), jose.ES256, "es", c)
	first, err := v.Verify(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	second, err := v.Verify(context.Background(), raw)
	if err != nil || ks.n != 1 {
		t.Fatalf("cache miss: lookups=%d err=%v", ks.n, err)
	}
	if first != second || second.Subject != "alice" {
		t.Fatal("a cache hit must return the cached claims, shared and read-only, without a copy")
	}
	clk.Add(2*time.Minute + DefaultLeeway)
	verr(t, v, raw, core.ErrExpired)
	if v.cache.len() != 0 {
		t.Fatal("expired entry kept")
	}
}

func TestCacheTTLAndBounds(t *testing.T) {
	t.Parallel()
	clk := newClock()
	v, ks := cachedVerifier(t, clk, CacheConfig{MaxEntries: 10, TTL: time.Minute})
	k := key(t, jose.ES256, "a")
	raw := sign(t, k, jose.ES256, "es", claims(iss))
	verr(t, v, raw, nil)
	clk.Add(time.Minute)
	verr(t, v, raw, nil)
	if ks.n != 2 {
		t.Fatalf("TTL not applied: lookups=%d", ks.n)
	}
	for i := 0; i < 100; i++ {
		c := claims(iss)
		c["jti"] = fmt.Sprint(i)
		verr(t, v, sign(t, k, jose.ES256, "es", c), nil)
		if n := v.cache.len(); n > 10 {
			t.Fatalf("cache grew to %d", n)
		}
	}
	// Failures are never cached.
	bad := claims(iss)
	bad["aud"] = "other"
	badRaw := sign(t, k, jose.ES256, "es", bad)
	before := ks.n
	verr(t, v, badRaw, core.ErrAudience)
	verr(t, v, badRaw, core.ErrAudience)
	if ks.n != before+2 {
		t.Fatal("failed verification was cached")
	}
}

func TestCacheDisabled(t *testing.T) {
	t.Parallel()
	clk := newClock()
	v, ks := cachedVerifier(t, clk, CacheConfig{MaxEntries: -1})
	raw := sign(t, key(t, jose.ES256, "a"), jose.ES256, "es", claims(iss))
	verr(t, v, raw, nil)
	verr(t, v, raw, nil)
	if ks.n != 2 || v.cache != nil {
		t.Fatalf("cache not disabled: lookups=%d", ks.n)
	}
}
