package verifier

import (
	"math"
	"sync"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// tokenCache maps exact token strings to verified claims. Bounded by
// MaxEntries and MaxBytes; each entry lives at most TTL; time claims are
// re-checked by the caller on every hit.
//
// The map is keyed by the token's last keyLen bytes (cacheKey), so a lookup
// hashes those rather than the whole token, and an entry is found only when
// its whole token equals the one presented. Only verified tokens are
// stored, and their last bytes are signature bytes: two of them sharing a
// key is as likely as two signatures sharing 192 bits, and would only make
// the second replace the first. A token made to share a stored token's key
// finds that entry, is not equal to its token, and is a miss that touches
// nothing.
type tokenCache struct {
	mu       sync.RWMutex
	m        map[string]*cacheEntry // by cacheKey
	max      int
	maxBytes int
	bytes    int // sum of the entries' size
	ttl      time.Duration
	clock    *coarseClock // the verifier's coarse clock, or nil (Config.Now)
}

// entryOverhead approximates what an entry holds besides the token and its
// raw claims: the map slot, the entry, the Claims struct and its slice
// headers, and the TokenMemo the Guard fills.
const entryOverhead = 512

// entrySize is the bytes an entry accounts for. It is fixed when the entry
// is stored: core.RawClaims keeps no decoded values, and Audience and
// Scopes are slices of its text (only their headers are counted).
func entrySize(token string, c *core.Claims) int {
	return len(token) + c.Raw.Size() + entryOverhead + 16*(len(c.Audience)+len(c.Scopes))
}

// evictScan is how many entries one insertion into a full cache inspects.
const evictScan = 16

// keyLen is how many trailing bytes of a token key the cache: 32
// base64url characters, 192 bits of its signature.
const keyLen = 32

// cacheKey is the map key of token: its last keyLen bytes (all of a
// shorter token), sharing token's memory.
func cacheKey(token string) string { return token[max(len(token)-keyLen, 0):] }

type cacheEntry struct {
	token  string // the whole token, compared on every hit
	size   int    // entrySize
	claims *core.Claims
	leeway time.Duration
	until  time.Time       // insertion + TTL
	key    *jose.PublicKey // the key that verified the token
	// The window in which checkTimes passes, computed once by put so that
	// a hit compares now with two instants instead of redoing the claim
	// arithmetic: now < expEnd (exp + leeway, when exp is set) and
	// now >= notBefore (the later of nbf - leeway and iat - leeway, when
	// either is set). Outside it checkTimes runs and names the failure.
	expEnd, notBefore       time.Time
	hasExpEnd, hasNotBefore bool
	// The same window narrowed by the TTL, as Unix nanoseconds for the
	// coarse clock's hits (coarseOK): fromNs <= now < toNs.
	fromNs, toNs int64
	// untilOff is until as an offset from the coarse clock's base
	// (coarseClock.deadline), set by put when the verifier has one: a
	// coarse hit needs the reading's upper before it, an integer compare
	// on the clock get uses (math.MinInt64, never a coarse hit, without).
	untilOff time.Duration
	// kc is the issuer's key set when it can tell whether key is still
	// in it (keyContainer), else nil.
	kc keyContainer
}

// setWindow computes the entry's time window from its claims and leeway:
// exactly the instants at which checkTimes(now, leeway, claims) changes
// its answer (claims.Times.Check: now >= exp+leeway fails, nbf > now+leeway
// and iat > now+leeway fail).
func (e *cacheEntry) setWindow() {
	c := e.claims
	if !c.Expiry.IsZero() {
		e.expEnd, e.hasExpEnd = c.Expiry.Add(e.leeway), true
	}
	for _, t := range [...]time.Time{c.NotBefore, c.IssuedAt} {
		if t.IsZero() {
			continue
		}
		if from := t.Add(-e.leeway); !e.hasNotBefore || from.After(e.notBefore) {
			e.notBefore, e.hasNotBefore = from, true
		}
	}
}

// setCoarseWindow computes fromNs and toNs from the window and until.
// Instants UnixNano cannot represent are clamped so that the window only
// narrows: a notBefore after until can never be met (fromNs = MaxInt64).
func (e *cacheEntry) setCoarseWindow() {
	to := e.until
	if e.hasExpEnd && e.expEnd.Before(to) {
		to = e.expEnd
	}
	e.toNs = unixNanoBounded(to)
	e.fromNs = math.MinInt64
	switch {
	case !e.hasNotBefore:
	case e.notBefore.After(e.until):
		e.fromNs = math.MaxInt64
	default:
		e.fromNs = unixNanoBounded(e.notBefore)
	}
}

// coarseOK reports whether the entry passes its time checks (claims and
// TTL) at every instant of r's interval [lo, hi]: then it passes at the
// instant the wall clock is in. False does not mean the token fails: the
// caller decides it again with an exact clock reading. The TTL is also
// checked on the monotonic clock (r's upper offset against untilOff, as get
// compares time.Now readings with until), so that a step of the wall clock
// back does not lengthen it.
func (e *cacheEntry) coarseOK(r *clockReading) bool {
	return r.lo >= e.fromNs && r.hi < e.toNs && r.upper() < e.untilOff
}

// timesOK reports whether checkTimes passes at now (see setWindow).
func (e *cacheEntry) timesOK(now time.Time) bool {
	return (!e.hasExpEnd || now.Before(e.expEnd)) && (!e.hasNotBefore || !now.Before(e.notBefore))
}

// keyContainer is implemented by key sets that can tell whether a key is
// still current at a time read from the verifier's clock, which is the key
// set's too (jose.StaticKeySet, jose.RemoteKeySet, discoveryKeySet), at the
// instant elapsed after base: on the exact path a time.Now reading and 0,
// on a coarse hit the coarse clock's base and the reading's upper, so that
// the hit builds no time.Time.
type keyContainer interface {
	ContainsSince(k *jose.PublicKey, base time.Time, elapsed time.Duration) bool
}

// keyStillTrusted reports whether the verifying key is still in its key
// set at the instant elapsed after base. Key sets that cannot tell are
// trusted until the entry's TTL.
func (e *cacheEntry) keyStillTrusted(base time.Time, elapsed time.Duration) bool {
	return e.kc == nil || e.kc.ContainsSince(e.key, base, elapsed)
}

func newTokenCache(c CacheConfig, clock *coarseClock) *tokenCache {
	t := &tokenCache{max: c.MaxEntries, maxBytes: c.MaxBytes, ttl: c.TTL, clock: clock}
	if t.max == 0 {
		t.max = DefaultCacheEntries
	}
	if t.maxBytes <= 0 {
		t.maxBytes = DefaultCacheBytes
	}
	if t.ttl <= 0 {
		t.ttl = DefaultCacheTTL
	}
	t.m = make(map[string]*cacheEntry, min(t.max, 1024))
	return t
}

// lookup returns token's entry, or nil. The map key is only token's last
// keyLen bytes, so the entry's whole token is compared with token: the one
// check that every byte presented is the byte verified. Any cheaper check
// would leave bytes unread, which a token could change freely (a second
// hash kept with the entry would read them all too, and more slowly than
// this comparison does); and the key's bytes are not secret.
func (t *tokenCache) lookup(token string) *cacheEntry {
	t.mu.RLock()
	e := t.m[cacheKey(token)]
	t.mu.RUnlock()
	if e == nil || e.token != token {
		return nil
	}
	return e
}

func (t *tokenCache) get(token string, now time.Time) (*cacheEntry, bool) {
	e := t.lookup(token)
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
	e.token = token
	e.until = now.Add(t.ttl)
	e.untilOff = math.MinInt64
	if t.clock != nil {
		e.untilOff = t.clock.deadline(e.until)
	}
	e.setWindow()
	e.setCoarseWindow()
	e.size = entrySize(token, e.claims)
	if e.size > t.maxBytes/8 {
		return // one token never takes more than an eighth of the cache
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	key := cacheKey(token)
	t.deleteLocked(key)
	for len(t.m) > 0 && (len(t.m) >= t.max || t.bytes+e.size > t.maxBytes) {
		t.evictLocked(now)
	}
	t.m[key] = e
	t.bytes += e.size
}

// charge adds n bytes derived from e's claims (the Guard's principal, an
// Authorizer's per-token state) to e's size and evicts other entries to stay
// under MaxBytes. It refuses (false) when e is not cached (nothing should
// be kept with it then) or would outgrow an eighth of the cache. A
// negative n returns bytes charged for a value that was not kept.
func (t *tokenCache) charge(token string, e *cacheEntry, n int, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m[cacheKey(token)] != e {
		return n <= 0
	}
	if n > 0 && e.size+n > t.maxBytes/8 {
		return false
	}
	e.size += n
	t.bytes += n
	for len(t.m) > 1 && t.bytes > t.maxBytes {
		t.evictLocked(now)
	}
	return true
}

// evictLocked looks at a few entries (map order is random): it drops the
// expired ones, or the first one seen when none is expired. Bounded work,
// and at least one entry goes.
func (t *tokenCache) evictLocked(now time.Time) {
	var victim string
	seen, dropped := 0, 0
	for k, old := range t.m {
		if seen == 0 {
			victim = k
		}
		if !now.Before(old.until) || !now.Before(old.claims.Expiry.Add(old.leeway)) {
			t.deleteLocked(k)
			dropped++
		}
		if seen++; seen == evictScan {
			break
		}
	}
	if dropped == 0 {
		t.deleteLocked(victim)
	}
}

// deleteLocked drops the entry under key.
func (t *tokenCache) deleteLocked(key string) {
	if e, ok := t.m[key]; ok {
		t.bytes -= e.size
		delete(t.m, key)
	}
}

// remove drops token's entry, when the entry under its key is token's.
func (t *tokenCache) remove(token string) {
	key := cacheKey(token)
	t.mu.Lock()
	if e := t.m[key]; e != nil && e.token == token {
		t.deleteLocked(key)
	}
	t.mu.Unlock()
}

func (t *tokenCache) len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.m)
}
