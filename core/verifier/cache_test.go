package verifier

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/jose"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
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

func cachedVerifier(t *testing.T, clk *testkit.Clock, cache CacheConfig) (*Verifier, *countingKeySet) {
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

// TestCacheBytesBounded fills a byte-bounded cache with distinct 2 KiB
// tokens: the accounted bytes stay under MaxBytes (entries are evicted), the
// accounting matches the entries exactly, and lookups of claims served from
// the cache (decoded on demand) do not grow an entry.
func TestCacheBytesBounded(t *testing.T) {
	t.Parallel()
	const maxBytes = 64 << 10
	clk := newClock()
	v, _ := cachedVerifier(t, clk, CacheConfig{MaxBytes: maxBytes})
	k := key(t, jose.ES256, "a")
	ctx := context.Background()
	var last string
	for i := range 100 {
		c := claims(iss)
		c["jti"] = fmt.Sprintf("token-%d", i)
		c["groups"] = slices.Repeat([]string{fmt.Sprintf("group-%d", i)}, 150)
		raw := sign(t, k, jose.ES256, "es", c)
		if len(raw) < 2048 {
			t.Fatalf("token is %d bytes", len(raw))
		}
		cl, err := v.Verify(ctx, raw)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 { // on-demand decoding keeps nothing
			if g := cl.Strings("groups", false); len(g) != 150 {
				t.Fatalf("groups = %d", len(g))
			}
			cl.Lookup("groups")
		}
		last = raw
	}
	v.cache.mu.RLock()
	sum := 0
	for tok, e := range v.cache.m {
		if e.size != entrySize(tok, e.claims) {
			t.Errorf("entry size %d, now %d: an entry grew", e.size, entrySize(tok, e.claims))
		}
		sum += e.size
	}
	n, accounted := len(v.cache.m), v.cache.bytes
	v.cache.mu.RUnlock()
	if accounted != sum || accounted > maxBytes || n == 0 || n >= 100 {
		t.Fatalf("cache holds %d entries, %d bytes accounted (sum %d), bound %d", n, accounted, sum, maxBytes)
	}
	if _, ok := v.cache.get(last, clk.Now()); !ok {
		t.Fatal("the newest token is not cached")
	}
	// A token bigger than an eighth of the cache is verified, not cached.
	small, _ := cachedVerifier(t, clk, CacheConfig{MaxBytes: 8 << 10})
	if _, err := small.Verify(ctx, last); err != nil {
		t.Fatal(err)
	}
	if small.cache.len() != 0 {
		t.Fatal("an oversized entry was cached")
	}
}
