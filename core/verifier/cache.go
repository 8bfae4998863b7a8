package verifier

import (
	"sync"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// tokenCache maps exact token strings to verified claims. Bounded by
// MaxEntries; each entry lives at most TTL; time claims are re-checked by
// the caller on every hit.
type tokenCache struct {
	mu  sync.RWMutex
	m   map[string]*cacheEntry
	max int
	ttl time.Duration
}

// evictScan is how many entries one insertion into a full cache inspects.
const evictScan = 16

type cacheEntry struct {
	claims *core.Claims
	leeway time.Duration
	until  time.Time       // insertion + TTL
	keys   jose.KeySet     // the issuer's key set
	key    *jose.PublicKey // the key that verified the token
}

// keyContainer is implemented by key sets that can tell whether a key is
// still current (jose.StaticKeySet, jose.RemoteKeySet, discoveryKeySet).
type keyContainer interface {
	Contains(k *jose.PublicKey) bool
}

// keyStillTrusted reports whether the verifying key is still in its key
// set. Key sets that cannot tell are trusted until the entry's TTL.
func (e *cacheEntry) keyStillTrusted() bool {
	kc, ok := e.keys.(keyContainer)
	return !ok || kc.Contains(e.key)
}

func newTokenCache(c CacheConfig) *tokenCache {
	t := &tokenCache{max: c.MaxEntries, ttl: c.TTL}
	if t.max == 0 {
		t.max = DefaultCacheEntries
	}
	if t.ttl <= 0 {
		t.ttl = DefaultCacheTTL
	}
	t.m = make(map[string]*cacheEntry, min(t.max, 1024))
	return t
}

func (t *tokenCache) get(token string, now time.Time) (*cacheEntry, bool) {
	t.mu.RLock()
	e := t.m[token]
	t.mu.RUnlock()
	if e == nil {
		return nil, false
	}
	if !now.Before(e.until) {
		t.remove(token)
		return nil, false
	}
	return e, true
}

func (t *tokenCache) put(token string, e *cacheEntry, now time.Time) {
	e.until = now.Add(t.ttl)
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.m[token]; !ok && len(t.m) >= t.max {
		// Look at a few entries (map order is random): drop the expired
		// ones, or the first one seen when none is expired. Bounded work.
		var victim string
		seen, dropped := 0, 0
		for k, old := range t.m {
			if seen == 0 {
				victim = k
			}
			if !now.Before(old.until) || !now.Before(old.claims.Expiry.Add(old.leeway)) {
				delete(t.m, k)
				dropped++
			}
			if seen++; seen == evictScan {
				break
			}
		}
		if dropped == 0 {
			delete(t.m, victim)
		}
	}
	t.m[token] = e
}

func (t *tokenCache) remove(token string) {
	t.mu.Lock()
	delete(t.m, token)
	t.mu.Unlock()
}

func (t *tokenCache) len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.m)
}
