package verifier

import (
	"context"
	"fmt"
	"slices"
	"strings"
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
	for key, e := range v.cache.m {
		if key != cacheKey(e.token) {
			t.Errorf("entry under %q holds a token whose key is %q", key, cacheKey(e.token))
		}
		if e.size != entrySize(e.token, e.claims) {
			t.Errorf("entry size %d, now %d: an entry grew", e.size, entrySize(e.token, e.claims))
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

// TestCacheKeyCollision: the cache is keyed by a token's last bytes. A
// token that shares a stored token's key but differs elsewhere is a miss,
// and neither its lookup nor its removal touches the stored entry; storing
// it replaces the entry, with the bytes accounted exactly.
func TestCacheKeyCollision(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	tc := newTokenCache(CacheConfig{}, nil)
	tail := strings.Repeat("s", keyLen)
	a, b := "aaaa.bbbb."+tail, "cccc.dddd."+tail
	if cacheKey(a) != cacheKey(b) || a == b {
		t.Fatal("the two tokens must share a key")
	}
	ca := &core.Claims{Issuer: "https://a.example", Expiry: now.Add(time.Hour)}
	tc.put(a, &cacheEntry{claims: ca}, now)
	if _, ok := tc.get(b, now); ok {
		t.Fatal("a token sharing the key of a cached one was a hit")
	}
	tc.remove(b)
	if e, ok := tc.get(a, now); !ok || e.claims != ca {
		t.Fatal("the cached token was lost by another token's lookup or removal")
	}
	cb := &core.Claims{Issuer: "https://b.example", Expiry: now.Add(time.Hour)}
	tc.put(b, &cacheEntry{claims: cb}, now)
	if _, ok := tc.get(a, now); ok {
		t.Error("the replaced token still hits")
	}
	if e, ok := tc.get(b, now); !ok || e.claims != cb {
		t.Error("the new token does not hit")
	}
	if n, want := tc.bytes, entrySize(b, cb); tc.len() != 1 || n != want {
		t.Errorf("%d entries, %d bytes accounted; want 1 entry, %d bytes", tc.len(), n, want)
	}
	short := "x.y.z"
	tc.put(short, &cacheEntry{claims: ca}, now)
	if e, ok := tc.get(short, now); !ok || e.claims != ca {
		t.Error("a token shorter than the key length is not cached")
	}
}
