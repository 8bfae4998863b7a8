package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mcpauthz/mcpauthz/authserver"
)

// A registered client is a string at key("dcr", id) holding its JSON, with
// the idle lifetime as its TTL. Three deployment-wide keys index them: a
// sorted set of record keys by expiry (dcr:idx), a sorted set of the
// records that never completed a login by registration time (dcr:unused),
// a hash of each record's size (dcr:size) summed in dcr:bytes, and a hash
// of the token of the call that stored each record (dcr:calls). All of
// them share the deployment's hash tag (Config.Prefix), so the scripts run
// on Cluster. Time is Redis's TIME, so replicas' clocks do not matter.
const clientsLua = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function drop(k)
  local sz = redis.call('HGET', KEYS[4], k)
  if sz then
    redis.call('DECRBY', KEYS[5], sz)
    redis.call('HDEL', KEYS[4], k)
  end
  redis.call('HDEL', KEYS[6], k)
  redis.call('DEL', k)
  redis.call('ZREM', KEYS[2], k)
  redis.call('ZREM', KEYS[3], k)
end
`

var (
	// KEYS: record, idx, unused, sizes, bytes, calls. ARGV: JSON, idle
	// ms, max bytes, size, the call's token (markTokens). Returns 0
	// stored, 1 full, 2 the id exists. The calls hash holds, per record,
	// the token of the call that stored it (dropped with it): the same
	// call sent again by go-redis after a read timeout (Redis stalled; the
	// first send ran) finds its own token and answers stored; any other
	// call, the same client registered again included, finds another.
	clientRegister = redis.NewScript(clientsLua + `
if redis.call('EXISTS', KEYS[1]) == 1 then
  if ARGV[5] ~= '' and redis.call('HGET', KEYS[6], KEYS[1]) == ARGV[5] then return 0 end
  return 2
end
local size, max = tonumber(ARGV[4]), tonumber(ARGV[3])
local used = tonumber(redis.call('GET', KEYS[5]) or '0')
if used + size > max then
  for _, k in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 512)) do drop(k) end
  used = tonumber(redis.call('GET', KEYS[5]) or '0')
end
local n = 0
while used + size > max do
  local v = redis.call('ZRANGE', KEYS[3], 0, 0)
  if #v == 0 or n >= 64 then return 1 end
  drop(v[1])
  n = n + 1
  used = tonumber(redis.call('GET', KEYS[5]) or '0')
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), KEYS[1])
redis.call('ZADD', KEYS[3], now, KEYS[1])
redis.call('HSET', KEYS[4], KEYS[1], size)
redis.call('INCRBY', KEYS[5], size)
redis.call('HSET', KEYS[6], KEYS[1], ARGV[5])
return 0
`)
	// KEYS: record, idx, unused, the subject's set. ARGV: idle ms, the
	// per-subject cap. Protects a live client from eviction and restarts
	// its idle lifetime; an unknown id is a no-op. The subject's set holds
	// the clients its uses protect, by last use; past the cap the least
	// recent goes back to the unused set (evictable, scored by its last
	// use, so before newer registrations). Members dropped since are
	// skipped; the set expires with the idle lifetime.
	clientMarkUsed = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], 'XX', now + tonumber(ARGV[1]), KEYS[1])
redis.call('ZREM', KEYS[3], KEYS[1])
redis.call('ZADD', KEYS[4], now, KEYS[1])
redis.call('PEXPIRE', KEYS[4], ARGV[1])
local cap = tonumber(ARGV[2])
while redis.call('ZCARD', KEYS[4]) > cap do
  local v = redis.call('ZPOPMIN', KEYS[4])
  if redis.call('EXISTS', v[1]) == 1 then redis.call('ZADD', KEYS[3], tonumber(v[2]), v[1]) end
end
return 1
`)
)

// Defaults of [ClientConfig].
const (
	// DefaultClientMaxBytes bounds the registered clients of a deployment
	// (about 60,000 typical registrations of 1 KiB).
	DefaultClientMaxBytes = 64 << 20
	// maxClientJSON bounds one stored registration. A registration request
	// is at most authserver.MaxRegistrationRequestBytes (8 KiB).
	maxClientJSON = 16 << 10
	// clientOverhead is what a registration costs besides its JSON: its
	// key in Redis, in the indexes, in the size hash and in the calls
	// hash (with its call's token).
	clientOverhead = 256
)

// ClientConfig configures [NewClientStore].
type ClientConfig struct {
	Config
	// MaxBytes bounds the registered clients held in Redis: each counts
	// its JSON plus 256 bytes. OPTIONAL; zero means DefaultClientMaxBytes
	// (64 MiB). When full, expired clients are dropped, then the oldest
	// client that never completed a login; when every client has,
	// registration answers 503.
	MaxBytes int64
	// IdleLifetime forgets a client without a use (registration, or
	// MarkUsed: a code or refresh token redeemed) for this long, at every
	// replica; lookups do not count. OPTIONAL; zero means
	// authserver.DefaultRegistrationIdleLifetime (30 days).
	IdleLifetime time.Duration
	// MaxPerSubject bounds the clients one subject's uses keep protected
	// (authserver.ClientStore.MarkUsed). OPTIONAL; zero means
	// authserver.DefaultRegistrationMaxPerSubject (16); at most
	// authserver.MaxRegistrationMaxPerSubject (1,024).
	MaxPerSubject int
}

// ClientStore is an [authserver.ClientStore] on Redis, shared by every
// authorization server replica: a client registered at one replica is
// known at all of them, and its idle lifetime runs from its last lookup at
// any of them. Register and lookups are one Lua script each. Errors wrap
// core.ErrStoreUnavailable: registration then answers 503, and a
// registered client cannot authenticate or log in (503) until Redis is
// back; it is never accepted without its record. Redis holds only the
// secret's salted hash.
type ClientStore struct {
	base
	maxBytes   int64
	idle       time.Duration
	perSubject int
	calls      markTokens
}

var _ authserver.ClientStore = (*ClientStore)(nil)

// NewClientStore returns a ClientStore.
func NewClientStore(cfg ClientConfig) (*ClientStore, error) {
	b, err := newBase(cfg.Config)
	if err != nil {
		return nil, err
	}
	if cfg.MaxBytes < 0 || cfg.IdleLifetime < 0 || cfg.MaxPerSubject < 0 || cfg.MaxPerSubject > authserver.MaxRegistrationMaxPerSubject {
		return nil, fmt.Errorf("%w: MaxBytes, IdleLifetime and MaxPerSubject must not be negative; MaxPerSubject at most %d", ErrInvalidConfig, authserver.MaxRegistrationMaxPerSubject)
	}
	s := &ClientStore{base: b, maxBytes: cfg.MaxBytes, idle: cfg.IdleLifetime, perSubject: cfg.MaxPerSubject, calls: newMarkTokens()}
	if s.maxBytes == 0 {
		s.maxBytes = DefaultClientMaxBytes
	}
	if s.idle == 0 {
		s.idle = authserver.DefaultRegistrationIdleLifetime
	}
	if s.perSubject == 0 {
		s.perSubject = authserver.DefaultRegistrationMaxPerSubject
	}
	return s, nil
}

func (s *ClientStore) keys(id string) []string {
	return []string{s.key("dcr", id), s.prefix + "dcr:idx", s.prefix + "dcr:unused", s.prefix + "dcr:size", s.prefix + "dcr:bytes"}
}

// errClientExists is returned when an id is registered twice (never with
// the server's random ids).
var errClientExists = errors.New("redisstore: client id registered twice")

// Register implements [authserver.ClientStore].
func (s *ClientStore) Register(ctx context.Context, c authserver.RegisteredClient) error {
	if c.ID == "" {
		return errors.New("redisstore: empty client id")
	}
	js, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("redisstore: registered client: %w", err)
	}
	if len(js) > maxClientJSON {
		return fmt.Errorf("redisstore: registered client of %d bytes", len(js))
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	keys := append(s.keys(c.ID), s.prefix+"dcr:calls")
	r, err := clientRegister.Run(ctx, s.c, keys, js, ms(s.idle), s.maxBytes, len(js)+clientOverhead, s.calls.next()).Int()
	switch {
	case err != nil:
		return unavailable("client register script", err)
	case r == 1:
		return authserver.ErrRegistrationFull
	case r == 2:
		return errClientExists
	}
	return nil
}

// Client implements [authserver.ClientStore].
func (s *ClientStore) Client(ctx context.Context, id string) (authserver.RegisteredClient, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	k := s.keys(id)
	js, err := s.c.Get(ctx, k[0]).Result()
	if errors.Is(err, redis.Nil) {
		return authserver.RegisteredClient{}, authserver.ErrClientUnknown
	}
	if err != nil {
		return authserver.RegisteredClient{}, unavailable("client lookup script", err)
	}
	var c authserver.RegisteredClient
	if len(js) > maxClientJSON || json.Unmarshal([]byte(js), &c) != nil || c.ID != id {
		// garbage under the key: refused, never guessed at
		return authserver.RegisteredClient{}, unavailable("client lookup", errors.New("malformed record"))
	}
	return c, nil
}

// MarkUsed implements [authserver.ClientStore].
func (s *ClientStore) MarkUsed(ctx context.Context, id, subject string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	k := s.keys(id)
	keys := append(k[:3:3], s.key("dcr:subj", subject))
	if err := clientMarkUsed.Run(ctx, s.c, keys, ms(s.idle), s.perSubject).Err(); err != nil {
		return unavailable("client mark-used script", err)
	}
	return nil
}

// Ready implements core.ReadinessChecker: Redis answers a PING within
// the timeout.
func (s *ClientStore) Ready(ctx context.Context) error { return s.ping(ctx) }
