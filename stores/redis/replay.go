package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver/replay"
	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
)

// DefaultQuarantine is the default ReplayConfig.Quarantine: the default
// authserver MaxAssertionLifetime (5 min) plus its Leeway (30 s), rounded up.
const DefaultQuarantine = 6 * time.Minute

// consume records one jti. KEYS: the jti key, the epoch key. ARGV: TTL ms,
// the epoch id this process last saw ("" if none), a fresh epoch id, the
// quarantine in ms. The epoch key ("<id>:<created ms>:<quarantined until
// ms>", no TTL) marks the dataset: when a process that saw one epoch finds
// none or another, Redis lost its data (restart without persistence,
// failover to an empty replica) and the jtis recorded before are gone, so
// every use is refused until the quarantine has passed, by when every
// identifier accepted before the loss has expired. Returns {1, epoch} when
// recorded, {0, epoch} for a replay, {2, epoch, ms left} in quarantine;
// with ARGV[5] = "1" (learn only) {3, epoch, ms of quarantine left}.
var consume = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local known = ARGV[2]
local q = tonumber(ARGV[4])
local e = redis.call('GET', KEYS[2])
local id, created, untl
if not e then
  id, created, untl = ARGV[3], now, 0
  if known ~= '' then untl = now + q end
  redis.call('SET', KEYS[2], id .. ':' .. string.format('%.0f', created) .. ':' .. string.format('%.0f', untl))
else
  local a, b, c = string.match(e, '^([^:]+):(%d+):(%d+)$')
  if not a then return redis.error_reply('malformed epoch') end
  id, created, untl = a, tonumber(b), tonumber(c)
  if known ~= '' and known ~= id and untl < created + q then
    untl = created + q
    redis.call('SET', KEYS[2], id .. ':' .. string.format('%.0f', created) .. ':' .. string.format('%.0f', untl))
  end
end
if ARGV[5] == '1' then return {3, id, math.max(untl - now, 0)} end
if now < untl then return {2, id, untl - now} end
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return {1, id, 0} end
return {0, id, 0}
`)

// ReplayConfig configures [NewReplayStore].
type ReplayConfig struct {
	Config
	// Quarantine is how long every use is refused after Redis is found to
	// have lost its data. It must be at least the authorization server's
	// MaxAssertionLifetime plus Leeway. OPTIONAL; zero means
	// DefaultQuarantine (6 min).
	Quarantine time.Duration
	// Sender is a rueidis client to the same Redis, used by [NewGrantStore]
	// only: the grant script is then written, the access token signed, and
	// the answer read on one goroutine (see [GrantStore.SendGrantSteps]).
	// Build it with rueidis.NewClient([SenderOptions](url)); the caller
	// closes it. At most 10 × GOMAXPROCS streamed calls run at once (more
	// run through Client), so its BlockingPoolSize must be at least that
	// (SenderOptions' default); its ConnWriteTimeout and dial timeout, not
	// Timeout, bound the streamed call. OPTIONAL; nil means the grant script is run through
	// Client before the token is signed (one round trip more on the
	// critical path).
	Sender rueidis.Client
}

// ReplayStore is a [replay.Store] on Redis: one SET NX PX per key (inside a
// script that also checks the dataset epoch), so of any number of
// concurrent uses of one identifier on any number of replicas exactly one
// succeeds. Keys are the server's "<kind>|<issuer or client>|<jti>"
// strings, stored hashed.
//
// A Redis that restarts empty would forget the recorded identifiers; the
// store detects it (see [ReplayConfig.Quarantine]) when it had talked to the
// previous dataset, and then fails closed until every identifier accepted
// before could have expired. A replica started after the loss cannot detect
// it: run Redis with persistence (AOF) or replicas for that case.
type ReplayStore struct {
	base
	quarantine time.Duration
	mu         sync.Mutex
	epoch      string
}

var _ replay.Store = (*ReplayStore)(nil)

// NewReplayStore returns a ReplayStore. It reads (or creates) the dataset
// epoch within Config.Timeout so that a later data loss is detected; when
// Redis is unreachable it does not fail, and learns the epoch on the first
// successful call instead.
func NewReplayStore(ctx context.Context, cfg ReplayConfig) (*ReplayStore, error) {
	b, err := newBase(cfg.Config)
	if err != nil {
		return nil, err
	}
	if cfg.Quarantine < 0 {
		return nil, fmt.Errorf("%w: Quarantine must not be negative", ErrInvalidConfig)
	}
	q := cfg.Quarantine
	if q == 0 {
		q = DefaultQuarantine
	}
	s := &ReplayStore{base: b, quarantine: q}
	if _, _, err := s.run(ctx, "", 0, true); err != nil {
		s.log.Warn("redisstore: replay store cannot read the dataset epoch yet", "error", err)
	}
	return s, nil
}

// CheckAndStore implements [replay.Store]. The key expires at exp (rounded
// up to the millisecond). A key with exp not in the future is accepted
// without being stored, as replay.Memory does. Errors wrap replay.ErrReplay,
// replay.ErrInvalidKey or core.ErrStoreUnavailable (Redis unreachable, slow,
// or in quarantine after a data loss).
func (s *ReplayStore) CheckAndStore(ctx context.Context, key string, exp time.Time) error {
	if key == "" || len(key) > 4096 {
		return fmt.Errorf("%w: length %d", replay.ErrInvalidKey, len(key))
	}
	ttl := time.Until(exp)
	if ttl <= 0 {
		return nil
	}
	code, _, err := s.run(ctx, key, ttl, false)
	if err != nil {
		return err
	}
	switch code {
	case 1:
		return nil
	case 0:
		return replay.ErrReplay
	case 2:
		return unavailable("replay store", errQuarantine)
	}
	return unavailable("replay script", fmt.Errorf("reply code %d", code))
}

var errQuarantine = errors.New("quarantined after a Redis data loss")

// Ready implements core.ReadinessChecker: Redis answers within
// Config.Timeout and is not in quarantine after a data loss (which this
// call detects, as a grant would).
func (s *ReplayStore) Ready(ctx context.Context) error {
	_, left, err := s.run(ctx, "", 0, true)
	if err != nil {
		return err
	}
	if left > 0 {
		return unavailable("replay store", fmt.Errorf("%w for another %v", errQuarantine, time.Duration(left)*time.Millisecond))
	}
	return nil
}

// run executes the consume script (learn: only read or create the epoch)
// and remembers the epoch it reports. It returns the reply code and its
// third value.
func (s *ReplayStore) run(ctx context.Context, key string, ttl time.Duration, learn bool) (int64, int64, error) {
	s.mu.Lock()
	known := s.epoch
	s.mu.Unlock()
	var rb [12]byte
	_, _ = rand.Read(rb[:])
	flag := "0"
	if learn {
		flag = "1"
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	res, err := consume.Run(ctx, s.c, []string{s.key("jti", key), s.prefix + "epoch"},
		ms(ttl)+1, known, hex.EncodeToString(rb[:]), ms(s.quarantine), flag).Slice()
	if err != nil {
		return 0, 0, unavailable("replay script", err)
	}
	if len(res) != 3 {
		return 0, 0, unavailable("replay script", fmt.Errorf("reply of %d values", len(res)))
	}
	code, _ := res[0].(int64)
	left, _ := res[2].(int64)
	if epoch, _ := res[1].(string); epoch != "" {
		s.mu.Lock()
		s.epoch = epoch
		s.mu.Unlock()
	}
	return code, left, nil
}
