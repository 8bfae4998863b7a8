package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/redis/go-redis/v9"
)

// The session scripts keep two keys: the binding (session -> principal, with
// the session's TTL) and the principal's live sessions (a sorted set scored
// by expiry in ms of the Redis clock, for the per-principal cap).
var (
	bindScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 1 end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local max = tonumber(ARGV[3])
if (not cur) and max > 0 and redis.call('ZCARD', KEYS[2]) >= max then return 2 end
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[4])
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
return 0
`)
	touchScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[3])
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
return 1
`)
	countScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
`)
	unbindScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
`)
)

// maxPrincipalID bounds the principal id stored as a binding's value.
const maxPrincipalID = 4096

// SessionBindings is a [core.SessionBindings] on Redis, shared by every
// Guard replica: a session created through one replica is bound to its
// principal on all of them, and the per-principal cap
// (core.Config.MaxSessionsPerPrincipal) counts the principal's sessions on
// every replica: Bind checks it atomically, and Count (core.SessionCounter)
// lets the Guard refuse an initialize over the cap before the MCP server
// creates a session. Each call is one command or one Lua script.
type SessionBindings struct{ base }

var (
	_ core.SessionBindings = (*SessionBindings)(nil)
	_ core.SessionCounter  = (*SessionBindings)(nil)
)

// NewSessionBindings returns a SessionBindings.
func NewSessionBindings(cfg Config) (*SessionBindings, error) {
	b, err := newBase(cfg)
	if err != nil {
		return nil, err
	}
	return &SessionBindings{b}, nil
}

func (s *SessionBindings) keys(sessionID, principalID string) []string {
	return []string{s.key("sess", sessionID), s.key("psess", principalID)}
}

func checkIDs(sessionID, principalID string) error {
	if sessionID == "" || principalID == "" || len(principalID) > maxPrincipalID {
		return fmt.Errorf("redisstore: invalid session or principal id")
	}
	return nil
}

// Lookup implements [core.SessionBindings].
func (s *SessionBindings) Lookup(ctx context.Context, sessionID string) (string, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	p, err := s.c.Get(ctx, s.key("sess", sessionID)).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", nil
	case err != nil:
		return "", unavailable("GET", err)
	}
	return p, nil
}

// Bind implements [core.SessionBindings]. The TTL has millisecond
// resolution (at least 1 ms).
func (s *SessionBindings) Bind(ctx context.Context, sessionID, principalID string, ttl time.Duration, maxPerPrincipal int) error {
	if err := checkIDs(sessionID, principalID); err != nil {
		return err
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	keys := s.keys(sessionID, principalID)
	r, err := bindScript.Run(ctx, s.c, keys, principalID, ms(ttl), maxPerPrincipal, keys[0]).Int()
	if err != nil {
		return unavailable("bind script", err)
	}
	switch r {
	case 0:
		return nil
	case 1:
		return core.ErrSessionBound
	case 2:
		return core.ErrSessionLimit
	}
	return unavailable("bind script", fmt.Errorf("reply %d", r))
}

// Count implements [core.SessionCounter]: the principal's live sessions on
// every replica (expired ones are dropped first).
func (s *SessionBindings) Count(ctx context.Context, principalID string) (int, error) {
	if principalID == "" || len(principalID) > maxPrincipalID {
		return 0, fmt.Errorf("redisstore: invalid principal id")
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	n, err := countScript.Run(ctx, s.c, []string{s.key("psess", principalID)}).Int()
	if err != nil {
		return 0, unavailable("count script", err)
	}
	return n, nil
}

// Touch implements [core.SessionBindings].
func (s *SessionBindings) Touch(ctx context.Context, sessionID, principalID string, ttl time.Duration) error {
	if err := checkIDs(sessionID, principalID); err != nil {
		return err
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	keys := s.keys(sessionID, principalID)
	if err := touchScript.Run(ctx, s.c, keys, principalID, ms(ttl), keys[0]).Err(); err != nil {
		return unavailable("touch script", err)
	}
	return nil
}

// Unbind implements [core.SessionBindings].
func (s *SessionBindings) Unbind(ctx context.Context, sessionID, principalID string) error {
	if err := checkIDs(sessionID, principalID); err != nil {
		return err
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	keys := s.keys(sessionID, principalID)
	if err := unbindScript.Run(ctx, s.c, keys, principalID, keys[0]).Err(); err != nil {
		return unavailable("unbind script", err)
	}
	return nil
}

func ms(d time.Duration) int64 { return max(int64(d/time.Millisecond), 1) }

// Ready implements core.ReadinessChecker: Redis answers a PING within
// Config.Timeout.
func (s *SessionBindings) Ready(ctx context.Context) error { return s.ping(ctx) }
