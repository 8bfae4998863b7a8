package authserver

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limit is a token bucket: PerSecond events per second sustained, Burst at
// once.
type Limit struct {
	PerSecond float64
	Burst     int
}

// LimitDecision is a [Limiter]'s answer.
type LimitDecision struct {
	// Allowed reports whether the event fits in the limit.
	Allowed bool
	// RetryAfter is how long until one event fits; zero when Allowed.
	RetryAfter time.Duration
	// Idle reports that no event is currently counted against key: the
	// bucket is full. Only Peek sets it.
	Idle bool
}

// Limiter keeps the rate-limit buckets of the token endpoint. The default is
// in memory and per process; a shared implementation (stores/redis) makes the
// limits hold across replicas. Keys are namespaced by the server
// ("grant|<client>", "grant|<public client>|<source>", "authfail|<client>|<source>", "authfail-global") and
// are at most a few hundred bytes. Implementations must be safe for
// concurrent use and return an error, never a guess, when their backend
// fails: the server then answers 503 (fail closed).
type Limiter interface {
	// Allow charges one event to key under l when it fits and reports
	// the decision. One call charges at most one event, also when the
	// implementation's client sends it again (stores/redis keeps each
	// call's answer under a token of its own for that).
	Allow(ctx context.Context, key string, l Limit) (LimitDecision, error)
	// Peek reports whether one event would fit now, and whether the bucket
	// is full (Idle), without charging anything.
	Peek(ctx context.Context, key string, l Limit) (LimitDecision, error)
}

// Defaults for [RateLimit] and [MemoryLimiterConfig].
const (
	DefaultFailedAuthPerSecond       = 1
	DefaultFailedAuthBurst           = 10
	DefaultFailedAuthGlobalPerSecond = 100
	DefaultFailedAuthGlobalBurst     = 200
	DefaultLimiterMaxKeys            = 10_000
	maxLimiterKey                    = 1024
)

// MemoryLimiterConfig configures [NewMemoryLimiter].
type MemoryLimiterConfig struct {
	// MaxKeys caps the number of buckets held. OPTIONAL; zero means
	// DefaultLimiterMaxKeys (10,000). Keys longer than 1 KiB are refused, so
	// the table stays below about MaxKeys × 1.3 KiB (13 MiB by default).
	// When it is full, the least recently used bucket is dropped: that
	// forgets a throttled key early (it may try again sooner) but never
	// refuses a legitimate one.
	MaxKeys int
	// Now returns the current time. OPTIONAL; nil means time.Now.
	Now func() time.Time
}

// MemoryLimiter is the in-process [Limiter], a bounded LRU table of
// golang.org/x/time/rate buckets.
type MemoryLimiter struct {
	mu   sync.Mutex
	max  int
	now  func() time.Time
	lru  *list.List // of *memBucket, most recent first
	keys map[string]*list.Element
}

type memBucket struct {
	key string
	lim *rate.Limiter
}

// NewMemoryLimiter returns an empty MemoryLimiter.
func NewMemoryLimiter(cfg MemoryLimiterConfig) (*MemoryLimiter, error) {
	if cfg.MaxKeys < 0 {
		return nil, fmt.Errorf("%w: limiter max keys must not be negative", ErrInvalidConfig)
	}
	m := &MemoryLimiter{max: cfg.MaxKeys, now: cfg.Now, lru: list.New(), keys: make(map[string]*list.Element)}
	if m.max == 0 {
		m.max = DefaultLimiterMaxKeys
	}
	if m.now == nil {
		m.now = time.Now
	}
	return m, nil
}

var errLimiterKey = errors.New("authserver: rate-limit key too long")

// bucket returns key's limiter, creating it (full) when absent; create=false
// returns nil for an absent key.
func (m *MemoryLimiter) bucket(key string, l Limit, create bool) *rate.Limiter {
	if e, ok := m.keys[key]; ok {
		m.lru.MoveToFront(e)
		b := e.Value.(*memBucket)
		if b.lim.Limit() != rate.Limit(l.PerSecond) || b.lim.Burst() != l.Burst {
			b.lim.SetLimit(rate.Limit(l.PerSecond))
			b.lim.SetBurst(l.Burst)
		}
		return b.lim
	}
	if !create {
		return nil
	}
	for m.lru.Len() >= m.max {
		old := m.lru.Back()
		m.lru.Remove(old)
		delete(m.keys, old.Value.(*memBucket).key)
	}
	b := &memBucket{key: key, lim: rate.NewLimiter(rate.Limit(l.PerSecond), l.Burst)}
	m.keys[key] = m.lru.PushFront(b)
	return b.lim
}

// Allow implements [Limiter].
func (m *MemoryLimiter) Allow(_ context.Context, key string, l Limit) (LimitDecision, error) {
	if len(key) > maxLimiterKey {
		return LimitDecision{}, errLimiterKey
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	lim := m.bucket(key, l, true)
	if lim.AllowN(now, 1) {
		return LimitDecision{Allowed: true}, nil
	}
	return LimitDecision{RetryAfter: waitFor(lim.TokensAt(now), l)}, nil
}

// Peek implements [Limiter].
func (m *MemoryLimiter) Peek(_ context.Context, key string, l Limit) (LimitDecision, error) {
	if len(key) > maxLimiterKey {
		return LimitDecision{}, errLimiterKey
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	lim := m.bucket(key, l, false)
	if lim == nil {
		return LimitDecision{Allowed: true, Idle: true}, nil
	}
	tok := lim.TokensAt(now)
	if tok >= 1 {
		return LimitDecision{Allowed: true, Idle: tok >= float64(l.Burst)}, nil
	}
	return LimitDecision{RetryAfter: waitFor(tok, l)}, nil
}

// Len returns the number of buckets held.
func (m *MemoryLimiter) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Len()
}

func waitFor(tokens float64, l Limit) time.Duration {
	if l.PerSecond <= 0 {
		return time.Hour
	}
	return time.Duration((1 - tokens) / l.PerSecond * float64(time.Second))
}

// limits is the server's rate-limit policy over a Limiter.
type limits struct {
	grant, fail, global Limit
	store               Limiter
	// failStore keeps the failure buckets; for the memory default it is a
	// separate table so that a flood of failure keys cannot evict the
	// registered clients' grant buckets.
	failStore Limiter
	// recent, with a GrantSteps store only, remembers in this process the
	// client+source pairs that failed authentication lately (charged with
	// the failure limit, so a pair stays in it while its own failure
	// bucket would not be full). Their failure check runs on its own
	// before the credential is verified, instead of in the request's
	// batch after it, so a locked-out pair costs no verification.
	recent *MemoryLimiter
}

// noteFailure remembers that key failed authentication in this process.
func (l *limits) noteFailure(ctx context.Context, key string) {
	if l.recent != nil {
		_, _ = l.recent.Allow(ctx, key, l.fail)
	}
}

// failedLately reports whether key failed authentication in this process
// recently enough that its failure bucket may still be non-full.
func (l *limits) failedLately(ctx context.Context, key string) bool {
	if l.recent == nil {
		return false
	}
	d, err := l.recent.Peek(ctx, key, l.fail)
	return err != nil || !d.Idle
}

func newLimits(rl RateLimit, store Limiter, now func() time.Time) (*limits, error) {
	for _, v := range []float64{rl.PerSecond, float64(rl.Burst), rl.FailedAuthPerSecond, float64(rl.FailedAuthBurst),
		rl.FailedAuthGlobalPerSecond, float64(rl.FailedAuthGlobalBurst), float64(rl.MaxKeys)} {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, cfgErr("rate_limit", "must not be negative")
		}
	}
	if rl.Disabled {
		return nil, nil
	}
	l := &limits{
		grant:  Limit{PerSecond: orF(rl.PerSecond, DefaultRatePerSecond), Burst: orI(rl.Burst, DefaultRateBurst)},
		fail:   Limit{PerSecond: orF(rl.FailedAuthPerSecond, DefaultFailedAuthPerSecond), Burst: orI(rl.FailedAuthBurst, DefaultFailedAuthBurst)},
		global: Limit{PerSecond: orF(rl.FailedAuthGlobalPerSecond, DefaultFailedAuthGlobalPerSecond), Burst: orI(rl.FailedAuthGlobalBurst, DefaultFailedAuthGlobalBurst)},
		store:  store,
	}
	l.failStore = store
	if store == nil {
		g, err := NewMemoryLimiter(MemoryLimiterConfig{MaxKeys: rl.MaxKeys, Now: now})
		if err != nil {
			return nil, err
		}
		f, err := NewMemoryLimiter(MemoryLimiterConfig{MaxKeys: rl.MaxKeys, Now: now})
		if err != nil {
			return nil, err
		}
		l.store, l.failStore = g, f
	}
	return l, nil
}

func orF(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}

func orI(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

const globalFailKey = "authfail-global"

func failKey(clientID, source string) string {
	if len(clientID) > 256 {
		clientID = clientID[:256]
	}
	if len(source) > 256 {
		source = source[:256]
	}
	return "authfail|" + clientID + "|" + source
}

// preAuth runs before a credential is checked. The client+source pair is
// refused while its failure bucket is empty; while the global failure bucket
// is empty, every pair with a recent failure is refused too, and pairs with
// no recent failure (the legitimate client) still go through. The answer
// never depends on whether clientID is registered.
//
// With a GrantSteps store the check is normally sent in the request's
// batch, after the credential has been verified (the answer is the same,
// the batch being answered first). A pair that failed lately in this
// process is checked at once instead, so that a locked-out pair is refused
// without its credential being verified: registered or not, a locked-out
// pair then costs one store round trip, and at most one verification per
// replica when other replicas locked it out.
func (s *Server) preAuth(ctx context.Context, clientID, source string) *oauthError {
	if s.limits == nil {
		return nil
	}
	key := failKey(clientID, source)
	st := GrantStep{Kind: StepCheckFailures, Key: key, Limit: s.limits.fail, GlobalKey: globalFailKey, GlobalLimit: s.limits.global}
	if s.limits.recent == nil {
		return s.step(ctx, st, refuseFailures)
	}
	refuse := func(r GrantStepsResult) *oauthError {
		s.limits.noteFailure(ctx, key)
		return refuseFailures(r)
	}
	if s.limits.failedLately(ctx, key) {
		if a := admissionFrom(ctx); a != nil {
			if oe := a.flush(ctx); oe != nil {
				return oe
			}
		}
		return s.runStep(ctx, st, refuse)
	}
	return s.step(ctx, st, refuse)
}

func refuseFailures(r GrantStepsResult) *oauthError {
	return tooMany(r.RetryAfter, "too many failed authentications")
}

// authFailed charges one failure to the client+source pair and to the
// global failure bucket.
func (s *Server) authFailed(ctx context.Context, clientID, source string) {
	if s.limits == nil {
		return
	}
	s.limits.noteFailure(ctx, failKey(clientID, source))
	for _, c := range []struct {
		key string
		l   Limit
	}{{failKey(clientID, source), s.limits.fail}, {globalFailKey, s.limits.global}} {
		if _, err := s.limits.failStore.Allow(ctx, c.key, c.l); err != nil {
			s.log.Warn("authserver: cannot record a failed authentication", "error", err)
			return
		}
	}
}

// grantLimit charges the authenticated client's grant bucket.
func (s *Server) grantLimit(ctx context.Context, clientID string) *oauthError {
	if s.limits == nil {
		return nil
	}
	return s.step(ctx, GrantStep{Kind: StepCharge, Key: "grant|" + clientID, Limit: s.limits.grant}, refuseGrant)
}

func refuseGrant(r GrantStepsResult) *oauthError {
	return tooMany(r.RetryAfter, "too many requests for this client")
}

func tooMany(wait time.Duration, desc string) *oauthError {
	oe := errUnavailable(429, desc, nil)
	oe.retryAfter = max(int(math.Ceil(wait.Seconds())), 1)
	return oe
}

func limiterDown(err error) *oauthError {
	oe := errUnavailable(503, "rate limiting unavailable", err)
	oe.retryAfter = 5
	return oe
}
