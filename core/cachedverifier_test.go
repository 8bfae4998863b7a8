package core

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// cachingFake is a CachedVerifier over fakeVerifier: tokens it verified
// successfully are cached by their exact text. It counts the calls of each
// method and records every token Verify saw.
type cachingFake struct {
	mu       sync.Mutex
	cache    map[string]*Claims
	expired  map[string]bool // cached tokens whose entry now answers ErrExpired
	verified []string
	lookups  int
	hits     int
}

func newCachingFake() *cachingFake {
	return &cachingFake{cache: map[string]*Claims{}, expired: map[string]bool{}}
}

func (f *cachingFake) Verify(ctx context.Context, tok string) (*Claims, error) {
	f.mu.Lock()
	f.verified = append(f.verified, tok)
	f.mu.Unlock()
	c, err := fakeVerifier{}.Verify(ctx, tok)
	if err == nil && c != nil {
		f.mu.Lock()
		f.cache[tok] = c
		f.mu.Unlock()
	}
	return c, err
}

func (f *cachingFake) CacheOwner() TokenVerifier { return f }

func (f *cachingFake) VerifyCached(_ context.Context, tok string) (*Claims, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups++
	c, ok := f.cache[tok]
	if !ok {
		return nil, false, nil
	}
	f.hits++
	if f.expired[tok] {
		return nil, true, fmt.Errorf("fake cache: %w", ErrExpired)
	}
	return c, true, nil
}

// TestCachedVerifier: the Guard asks a CachedVerifier first; a hit skips
// the token68 test and Verify, a miss runs both, and every presentation
// rule of RFC 6750 §2 still applies to a cached token (only the exact
// credential text hits the cache).
func TestCachedVerifier(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		auth     []string // Authorization header values
		query    string
		wantKind ErrorKind // "" = allowed
		wantHit  bool      // answered from the cache (Verify not called)
	}{
		{"exact token", []string{"Bearer " + tokAlice}, "", "", true},
		{"scheme case", []string{"bEaReR " + tokAlice}, "", "", true},
		{"several spaces and OWS", []string{" Bearer   " + tokAlice + "\t"}, "", "", true},
		{"padding appended", []string{"Bearer " + tokAlice + "=="}, "", KindInvalidToken, false},
		{"trailing comma", []string{"Bearer " + tokAlice + ","}, "", KindInvalidRequest, false},
		{"second credential", []string{"Bearer " + tokAlice + " x"}, "", KindInvalidRequest, false},
		{"quoted", []string{`Bearer "` + tokAlice + `"`}, "", KindInvalidRequest, false},
		{"tab separator", []string{"Bearer\t" + tokAlice}, "", KindInvalidRequest, false},
		{"two headers", []string{"Bearer " + tokAlice, "Bearer " + tokAlice}, "", KindInvalidRequest, false},
		{"query token too", []string{"Bearer " + tokAlice}, "access_token=" + tokAlice, KindInvalidRequest, false},
		{"other scheme", []string{"Basic " + tokAlice}, "", KindNoToken, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := newCachingFake()
			g := newGuard(t, func(c *Config) { c.Verifier = v })
			// The first request verifies and caches the token.
			if _, err := g.Check(context.Background(), post(tokAlice, toolCall("ls"))); err != nil {
				t.Fatalf("first request: %v", err)
			}
			before, hits := len(v.verified), v.hits
			r := post("", toolCall("ls"))
			for _, a := range tt.auth {
				r.Header.Add("Authorization", a)
			}
			r.RawQuery = tt.query
			_, err := g.Check(context.Background(), r)
			if tt.wantKind == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
			} else {
				var e *Error
				if !errors.As(err, &e) || e.Kind != tt.wantKind {
					t.Fatalf("err = %v, want kind %s", err, tt.wantKind)
				}
			}
			if hit := v.hits > hits; hit != tt.wantHit {
				t.Errorf("answered from the cache = %v, want %v", hit, tt.wantHit)
			}
			if tt.wantHit && len(v.verified) != before {
				t.Errorf("Verify called on a cache hit: %q", v.verified[before:])
			}
		})
	}
}

// TestCachedVerifierMissChecksSyntaxFirst: a token the cache does not hold
// is tested for token68 before the verifier sees it, so malformed
// credentials never reach Verify; a cached entry's refusal (an expired
// token) is the request's refusal.
func TestCachedVerifierMissChecksSyntaxFirst(t *testing.T) {
	t.Parallel()
	v := newCachingFake()
	g := newGuard(t, func(c *Config) { c.Verifier = v })
	for _, tok := range []string{"a,b", "abcé", "a=b", `"x"`} {
		r := post("", toolCall("ls"))
		r.Header.Set("Authorization", "Bearer "+tok)
		_, err := g.Check(context.Background(), r)
		var e *Error
		if !errors.As(err, &e) || e.Kind != KindInvalidRequest || !errors.Is(err, ErrMalformedRequest) {
			t.Errorf("%q: err = %v, want invalid_request", tok, err)
		}
	}
	if len(v.verified) != 0 || v.lookups != 4 {
		t.Fatalf("Verify saw %q after %d lookups; want no call after 4", v.verified, v.lookups)
	}

	if _, err := g.Check(context.Background(), post(tokAlice, toolCall("ls"))); err != nil {
		t.Fatal(err)
	}
	v.expired[tokAlice] = true
	_, err := g.Check(context.Background(), post(tokAlice, toolCall("ls")))
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindInvalidToken || !errors.Is(err, ErrExpired) {
		t.Fatalf("expired cached token: err = %v, want invalid_token wrapping ErrExpired", err)
	}
	if len(v.verified) != 1 {
		t.Fatalf("Verify called %d times, want 1 (the first request)", len(v.verified))
	}
}

// FuzzCachedVerifier is a differential: for any Authorization header and
// query, a Guard whose verifier answers from a cache (holding tokAlice,
// tokBob and tokClient) decides exactly like a Guard whose verifier has no
// cache: the same allow or the same refusal kind and status.
func FuzzCachedVerifier(f *testing.F) {
	for _, a := range []string{"Bearer " + tokAlice, "bearer  " + tokBob, " Bearer " + tokClient + "\t", "Bearer " + tokAlice + "=",
		"Bearer " + tokAlice + ",", "Bearer\t" + tokAlice, "Bearer " + tokAlice + " x", `Bearer "` + tokAlice + `"`, "Basic " + tokAlice,
		"Bearer expired.x", "Bearer a,b", ""} {
		f.Add(a, "")
	}
	f.Add("Bearer "+tokAlice, "access_token="+tokAlice)
	cached := newCachingFake()
	gc := newGuard(f, func(c *Config) { c.Verifier = cached })
	gp := newGuard(f)
	for _, tok := range []string{tokAlice, tokBob, tokClient} {
		if _, err := gc.Check(context.Background(), post(tok, toolCall("ls"))); err != nil && !errors.Is(err, ErrMalformedRequest) {
			var e *Error
			if !errors.As(err, &e) || e.Kind == KindInvalidToken {
				f.Fatalf("warming %s: %v", tok, err)
			}
		}
	}
	if len(cached.cache) != 3 {
		f.Fatalf("cache holds %d tokens, want 3", len(cached.cache))
	}
	f.Fuzz(func(t *testing.T, auth, query string) {
		outcome := func(g *Guard) (ErrorKind, int) {
			r := post("", toolCall("ls"))
			if auth != "" {
				r.Header["Authorization"] = []string{auth}
			}
			r.RawQuery = query
			_, err := g.Check(context.Background(), r)
			if err == nil {
				return "", 200
			}
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("error of type %T", err)
			}
			return e.Kind, g.Render(err).Status
		}
		kc, sc := outcome(gc)
		kp, sp := outcome(gp)
		if kc != kp || sc != sp {
			t.Fatalf("Authorization %q, query %q: cached verifier %q/%d, plain verifier %q/%d", auth, query, kc, sc, kp, sp)
		}
	})
}

// denyingWrapper adds a check to an embedded caching verifier's Verify:
// it refuses bob. It inherits VerifyCached and CacheOwner.
type denyingWrapper struct{ *cachingFake }

func (w denyingWrapper) Verify(ctx context.Context, tok string) (*Claims, error) {
	c, err := w.cachingFake.Verify(ctx, tok)
	if err == nil && c != nil && c.Subject == "bob" {
		return nil, fmt.Errorf("wrapper: bob is suspended: %w", ErrInvalidClaims)
	}
	return c, err
}

// ownCacheWrapper embeds the caching verifier and asks for its cache
// explicitly: it defines CacheOwner (and so owns the lookup).
type ownCacheWrapper struct{ *cachingFake }

func (w *ownCacheWrapper) CacheOwner() TokenVerifier { return w }

// TestCachedVerifierEmbeddingWrapper: a verifier that embeds a
// CachedVerifier and overrides Verify is called for every request: the
// Guard does not answer from the embedded cache and skip the wrapper's
// check (before, bob's second request was allowed from the cache), and
// core.New says so at Warn. A wrapper that defines CacheOwner itself, and
// the caching verifier alone, are asked first as before.
func TestCachedVerifierEmbeddingWrapper(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer // written by New only
	inner := newCachingFake()
	g := newGuard(t, func(c *Config) {
		c.Verifier = denyingWrapper{inner}
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	for i := range 3 {
		_, err := g.Check(context.Background(), post(tokBob, toolCall("ls")))
		var e *Error
		if !errors.As(err, &e) || e.Kind != KindInvalidToken {
			t.Fatalf("request %d of a token the wrapper refuses: %v", i, err)
		}
	}
	if inner.lookups != 0 || len(inner.verified) != 3 {
		t.Fatalf("cache lookups %d, Verify calls %d; want 0 and 3", inner.lookups, len(inner.verified))
	}
	if s := logs.String(); !strings.Contains(s, "level=WARN") || !strings.Contains(s, "inherits VerifyCached") || !strings.Contains(s, "core.denyingWrapper") {
		t.Fatalf("no warning at construction: %q", s)
	}
	for _, v := range []TokenVerifier{newCachingFake(), &ownCacheWrapper{newCachingFake()}} {
		var logs bytes.Buffer // written by New only
		g := newGuard(t, func(c *Config) { c.Verifier = v; c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
		for range 2 {
			if _, err := g.Check(context.Background(), post(tokAlice, toolCall("ls"))); err != nil {
				t.Fatal(err)
			}
		}
		var f *cachingFake
		switch v := v.(type) {
		case *cachingFake:
			f = v
		case *ownCacheWrapper:
			f = v.cachingFake
		}
		if f.hits != 1 || len(f.verified) != 1 {
			t.Errorf("%T: hits %d, Verify calls %d; want 1 and 1", v, f.hits, len(f.verified))
		}
		if strings.Contains(logs.String(), "VerifyCached") {
			t.Errorf("%T: warned: %s", v, logs.String())
		}
	}
}
