package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mcpauthz/mcpauthz/authserver"
)

// A user's consents to one client are a set at key("cons",
// authserver.ConsentKey(subject, client)) of hashed grants (32 hex
// characters each, whatever the resource and scope names), with the
// consent lifetime as its TTL. A sorted set (cons:idx) of those keys by
// expiry bounds their number; it shares the deployment's hash tag.
var (
	// KEYS: set, idx. ARGV: lifetime ms, max entries, max grants, grants.
	consentRemember = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 256)
if #gone > 0 then redis.call('ZREM', KEYS[2], unpack(gone)) end
if not redis.call('ZSCORE', KEYS[2], KEYS[1]) then
  local over = math.min(redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[2]) + 1, 64)
  if over > 0 then
    for _, k in ipairs(redis.call('ZRANGE', KEYS[2], 0, over - 1)) do redis.call('DEL', k) end
    redis.call('ZREMRANGEBYRANK', KEYS[2], 0, over - 1)
  end
end
if redis.call('SCARD', KEYS[1]) + #ARGV - 3 > tonumber(ARGV[3]) then redis.call('DEL', KEYS[1]) end
redis.call('SADD', KEYS[1], unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], now + ttl, KEYS[1])
return 0
`)
	// KEYS: set, idx. Returns 1 if a consent was remembered.
	consentRevoke = redis.NewScript(`
local n = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], KEYS[1])
return n
`)
)

// Defaults of [ConsentConfig].
const (
	// DefaultConsentLifetime: a consent not renewed for this long is
	// forgotten (its user sees the consent page again).
	DefaultConsentLifetime = 90 * 24 * time.Hour
	// DefaultConsentMaxEntries bounds the (user, client) pairs remembered.
	DefaultConsentMaxEntries = 100_000
)

// ConsentConfig configures [NewConsentStore].
type ConsentConfig struct {
	Config
	// Lifetime forgets a consent this long after it was last given.
	// OPTIONAL; zero means DefaultConsentLifetime (90 days).
	Lifetime time.Duration
	// MaxEntries bounds the (user, client) pairs remembered; each holds at
	// most authserver.MaxConsentGrants grants of 32 bytes, so an entry is at
	// most about 20 KiB and typically 300 bytes. OPTIONAL; zero means
	// DefaultConsentMaxEntries (100,000). When full, the entry closest to
	// its expiry is forgotten.
	MaxEntries int
}

// ConsentStore is an [authserver.ConsentStore] on Redis, shared by every
// authorization server replica: a consent given at one replica is
// remembered at all of them, and a revocation (Server.RevokeConsent) holds
// at all of them at once. Errors wrap core.ErrStoreUnavailable: the
// server then shows a 503 page and neither skips the consent page nor
// records a consent.
type ConsentStore struct {
	base
	lifetime time.Duration
	max      int
}

var _ authserver.ConsentStore = (*ConsentStore)(nil)

// NewConsentStore returns a ConsentStore.
func NewConsentStore(cfg ConsentConfig) (*ConsentStore, error) {
	b, err := newBase(cfg.Config)
	if err != nil {
		return nil, err
	}
	if cfg.Lifetime < 0 || cfg.MaxEntries < 0 {
		return nil, fmt.Errorf("%w: Lifetime and MaxEntries must not be negative", ErrInvalidConfig)
	}
	s := &ConsentStore{base: b, lifetime: cfg.Lifetime, max: cfg.MaxEntries}
	if s.lifetime == 0 {
		s.lifetime = DefaultConsentLifetime
	}
	if s.max == 0 {
		s.max = DefaultConsentMaxEntries
	}
	return s, nil
}

func (s *ConsentStore) keys(subject, clientID string) []string {
	return []string{s.key("cons", authserver.ConsentKey(subject, clientID)), s.prefix + "cons:idx"}
}

// grants returns c's grants hashed, as set members.
func grants(c authserver.Consent) ([]any, error) {
	g := c.Grants()
	if len(g) > authserver.MaxConsentGrants {
		return nil, fmt.Errorf("redisstore: a consent of %d grants", len(g))
	}
	out := make([]any, len(g))
	for i, x := range g {
		sum := sha256.Sum256([]byte(x))
		out[i] = hex.EncodeToString(sum[:16])
	}
	return out, nil
}

// Covers implements [authserver.ConsentStore]: one SMISMEMBER.
func (s *ConsentStore) Covers(ctx context.Context, c authserver.Consent) (bool, error) {
	members, err := grants(c)
	if err != nil {
		return false, err
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	got, err := s.c.SMIsMember(ctx, s.keys(c.Subject, c.ClientID)[0], members...).Result()
	if err != nil {
		return false, unavailable("SMISMEMBER", err)
	}
	if len(got) != len(members) {
		return false, unavailable("SMISMEMBER", fmt.Errorf("%d answers for %d members", len(got), len(members)))
	}
	for _, ok := range got {
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// Remember implements [authserver.ConsentStore]: one Lua script.
func (s *ConsentStore) Remember(ctx context.Context, c authserver.Consent) error {
	members, err := grants(c)
	if err != nil {
		return err
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	args := append([]any{ms(s.lifetime), s.max, authserver.MaxConsentGrants}, members...)
	if err := consentRemember.Run(ctx, s.c, s.keys(c.Subject, c.ClientID), args...).Err(); err != nil {
		return unavailable("consent remember script", err)
	}
	return nil
}

// Revoke implements [authserver.ConsentStore].
func (s *ConsentStore) Revoke(ctx context.Context, subject, clientID string) (bool, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	n, err := consentRevoke.Run(ctx, s.c, s.keys(subject, clientID)).Int()
	if err != nil {
		return false, unavailable("consent revoke script", err)
	}
	return n == 1, nil
}

// Ready implements core.ReadinessChecker: Redis answers a PING within
// the timeout.
func (s *ConsentStore) Ready(ctx context.Context) error { return s.ping(ctx) }
