package jose

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// cachedCount is the number of headers c holds.
func cachedCount(c *HeaderCache) int {
	set := c.set.Load()
	if set == nil {
		return 0
	}
	n := 0
	for _, e := range set {
		if e.seg != "" {
			n++
		}
	}
	return n
}

// sameParse fails t unless two parses of one token agree on everything a
// caller sees.
func sameParse(t *testing.T, raw string, a, b *Token) {
	t.Helper()
	if !reflect.DeepEqual(a.Header, b.Header) || a.alg != b.alg || string(a.Payload) != string(b.Payload) ||
		string(a.sig) != string(b.sig) || string(a.SigningInput()) != string(b.SigningInput()) {
		t.Fatalf("%q: cached parse %+v differs from a full parse %+v", raw, b.Header, a.Header)
	}
}

func TestHeaderCache(t *testing.T) {
	t.Parallel()
	rs, es := testKey(t, RS256), testKey(t, ES256)
	rsPub, esPub := pubKey(t, rs, "k1", RS256), pubKey(t, es, "k2", ES256)
	good := mint(t, rs, RS256, `{"alg":"RS256","kid":"k1","typ":"at+jwt"}`, `{"sub":"a"}`)
	seg := good[:strings.IndexByte(good, '.')]

	t.Run("remembered only after a signature verifies", func(t *testing.T) {
		t.Parallel()
		var c HeaderCache
		tok, err := ParseCompact(good, ParseOptions{Algorithms: allAlgs, Headers: &c})
		if err != nil {
			t.Fatal(err)
		}
		if err := tok.Verify(esPub); err == nil || cachedCount(&c) != 0 {
			t.Fatalf("wrong key: err %v, %d cached", err, cachedCount(&c))
		}
		forged := good[:strings.LastIndexByte(good, '.')+1] + strings.Repeat("A", 342)
		ftok, err := ParseCompact(forged, ParseOptions{Algorithms: allAlgs, Headers: &c})
		if err != nil {
			t.Fatal(err)
		}
		if err := ftok.Verify(rsPub); !errors.Is(err, ErrSignature) || cachedCount(&c) != 0 {
			t.Fatalf("bad signature: err %v, %d cached", err, cachedCount(&c))
		}
		if err := tok.Verify(rsPub); err != nil || cachedCount(&c) != 1 {
			t.Fatalf("good signature: err %v, %d cached", err, cachedCount(&c))
		}
		if e, ok := c.lookup(seg); !ok || e.header.Kid != "k1" || e.header.Typ != "at+jwt" {
			t.Fatalf("lookup = %+v, %v", e, ok)
		}
		// A hit gives exactly the full parse, and is not re-added.
		hit, err := ParseCompact(good, ParseOptions{Algorithms: allAlgs, Headers: &c})
		if err != nil {
			t.Fatal(err)
		}
		full, _ := ParseCompact(good, ParseOptions{Algorithms: allAlgs})
		sameParse(t, good, full, hit)
		if hit.headers != nil {
			t.Fatal("a cached header is remembered again")
		}
		if err := hit.Verify(rsPub); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("allow-list checked on a hit", func(t *testing.T) {
		t.Parallel()
		var c HeaderCache
		tok, err := ParseCompact(good, ParseOptions{Algorithms: allAlgs, Headers: &c})
		if err != nil || tok.Verify(rsPub) != nil {
			t.Fatal(err)
		}
		if _, err := ParseCompact(good, ParseOptions{Algorithms: []string{ES256}, Headers: &c}); !errors.Is(err, ErrAlgorithm) {
			t.Fatalf("RS256 header from the cache with an ES256-only allow-list: %v", err)
		}
	})

	t.Run("headers with other members are not kept", func(t *testing.T) {
		t.Parallel()
		var c HeaderCache
		raw := mint(t, rs, RS256, `{"alg":"RS256","kid":"k1","x5t":"abc"}`, `{}`)
		tok, err := ParseCompact(raw, ParseOptions{Algorithms: allAlgs, Headers: &c})
		if err != nil || tok.Verify(rsPub) != nil || cachedCount(&c) != 0 {
			t.Fatalf("err %v, %d cached", err, cachedCount(&c))
		}
		long := mint(t, rs, RS256, `{"alg":"RS256","kid":"`+strings.Repeat("k", 256)+`","typ":"`+strings.Repeat("t", 200)+`"}`, `{}`)
		lpub := pubKey(t, rs, strings.Repeat("k", 256), RS256)
		tok, err = ParseCompact(long, ParseOptions{Algorithms: allAlgs, Headers: &c})
		if err != nil || tok.Verify(lpub) != nil || cachedCount(&c) != 0 {
			t.Fatalf("header over %d bytes: err %v, %d cached", MaxCachedHeader, err, cachedCount(&c))
		}
	})

	t.Run("bounded", func(t *testing.T) {
		t.Parallel()
		var c HeaderCache
		for i := range 3 * HeaderCacheEntries {
			kid := fmt.Sprintf("kid-%d", i)
			raw := mint(t, es, ES256, `{"alg":"ES256","kid":"`+kid+`"}`, `{}`)
			tok, err := ParseCompact(raw, ParseOptions{Algorithms: allAlgs, Headers: &c})
			if err != nil || tok.Verify(pubKey(t, es, kid, ES256)) != nil {
				t.Fatal(err)
			}
			if n := cachedCount(&c); n != min(i+1, HeaderCacheEntries) {
				t.Fatalf("after %d headers: %d cached", i+1, n)
			}
			// The newest is always there, and parses the same.
			hit, err := ParseCompact(raw, ParseOptions{Algorithms: allAlgs, Headers: &c})
			if err != nil || hit.headers != nil || hit.Header.Kid != kid {
				t.Fatalf("newest header not cached: %v", err)
			}
		}
	})

	t.Run("concurrent", func(t *testing.T) {
		t.Parallel()
		var c HeaderCache
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 20 {
					kid := fmt.Sprintf("kid-%d", (g*20+i)%12)
					raw := mint(t, es, ES256, `{"alg":"ES256","kid":"`+kid+`"}`, `{}`)
					tok, err := ParseCompact(raw, ParseOptions{Algorithms: allAlgs, Headers: &c})
					if err != nil || tok.Header.Kid != kid {
						t.Errorf("kid %q: %v", tok.Header.Kid, err)
						return
					}
					if err := tok.Verify(pubKey(t, es, kid, ES256)); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if n := cachedCount(&c); n == 0 || n > HeaderCacheEntries {
			t.Fatalf("%d cached", n)
		}
	})
}
