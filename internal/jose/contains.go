package jose

import (
	"crypto"
	"time"
)

// Contains reports whether k is still one of the keys of s: the same
// *PublicKey, or a key with the same kid, alg, use and key material.
func (s *StaticKeySet) Contains(k *PublicKey) bool {
	if s == nil || k == nil {
		return false
	}
	// The key that verified a cached token is usually still the very
	// *PublicKey of the current set: find it by pointer first, without
	// hashing its kid, when the set is small enough to scan.
	if len(s.all) <= pointerScanKeys {
		for _, c := range s.all {
			if c == k {
				return true
			}
		}
	}
	src := s.all
	if k.KeyID != "" {
		src = s.byKid[k.KeyID]
	}
	for _, c := range src {
		if c == k {
			return true
		}
	}
	for _, c := range src {
		if sameKey(c, k) {
			return true
		}
	}
	return false
}

// pointerScanKeys is the largest set Contains scans for the key's pointer
// before looking its kid up.
const pointerScanKeys = 8

// ContainsAt is Contains: a static set does not age.
func (s *StaticKeySet) ContainsAt(k *PublicKey, _ time.Time) bool { return s.Contains(k) }

// ContainsSince is Contains: a static set does not age.
func (s *StaticKeySet) ContainsSince(k *PublicKey, _ time.Time, _ time.Duration) bool {
	return s.Contains(k)
}

func sameKey(a, b *PublicKey) bool {
	if a.KeyID != b.KeyID || a.Algorithm != b.Algorithm || a.Use != b.Use {
		return false
	}
	eq, ok := a.Key.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b.Key)
}

// Contains reports whether k is in the current usable key set (see
// [StaticKeySet.Contains]); false before the first successful fetch and
// once the set is older than MaxStale. It never fetches synchronously, but
// like Keys it starts the background refresh when RefreshInterval has
// passed, so callers that cache verification results (and so call Keys
// rarely) still see removed keys disappear.
func (r *RemoteKeySet) Contains(k *PublicKey) bool {
	return r.ContainsAt(k, r.now())
}

// ContainsAt is Contains at time now, for a caller that has just read the
// set's clock.
func (r *RemoteKeySet) ContainsAt(k *PublicKey, now time.Time) bool {
	return r.ContainsSince(k, now, 0)
}

// ContainsSince is ContainsAt(k, base.Add(elapsed)) for elapsed >= 0,
// for a caller that keeps its clock as an offset from base (the verifier's
// cache hit, on every request): the instant is not built. While the set is
// younger than RefreshInterval (and MaxStale) it takes no lock: nothing is
// due then, and the answer comes from the last fetched set. The set's age
// at base + elapsed is elapsed - at.Sub(base), on whichever clock
// base.Add(elapsed).Sub(at) would use (Add moves both of base's readings).
func (r *RemoteKeySet) ContainsSince(k *PublicKey, base time.Time, elapsed time.Duration) bool {
	if s := r.snap.Load(); s != nil {
		// age <= maxStale and age < interval, compared without forming
		// the age (which could overflow for a far-off fetch time).
		if a := s.at.Sub(base); elapsed-r.maxStale <= a && (r.interval <= 0 || elapsed-r.interval < a) {
			return s.keys.Contains(k)
		}
	}
	keys, usable := r.currentRefreshing(base.Add(elapsed))
	if !usable {
		return false
	}
	return keys.Contains(k)
}

// currentRefreshing is current followed, when the set is usable, by
// maybeBackgroundRefresh, under one lock and with the caller's clock read.
func (r *RemoteKeySet) currentRefreshing(now time.Time) (*StaticKeySet, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.keys == nil || now.Sub(r.fetchedAt) > r.maxStale {
		return r.keys, false
	}
	if r.interval > 0 && r.inflight == nil && now.Sub(r.fetchedAt) >= r.interval && now.Sub(r.lastAttempt) >= r.cooldown {
		r.start()
	}
	return r.keys, true
}
