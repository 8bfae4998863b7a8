package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/authserver/replay"
	"github.com/redis/go-redis/v9"
)

// grantSteps runs the steps of one token request (authserver.GrantStep) in
// order and stops at the first refusal. KEYS: the epoch key, then one key
// per step (two for a failure check: the pair's, the global one). ARGV: the
// epoch id this process last saw, a fresh epoch id, the quarantine in ms,
// then five values per step: kind (1 failure check, 2 charge, 3 consume)
// and its parameters (failure check: interval µs, burst, global interval
// µs, global burst; charge: interval µs, burst; consume: TTL ms, 0 = accept
// without recording). The GCRA and the epoch are those of the gcra and
// consume scripts. Returns {0, -1, 0, epoch} when every step passed,
// {1, i, retry µs, epoch} when step i (0-based) was refused, {2, i, ms
// left, epoch} when step i met the quarantine after a data loss.
var grantSteps = redis.NewScript(`
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local now = math.floor(now_us / 1000)
local function gcra(key, interval, burst, cost)
  local tat = tonumber(redis.call('GET', key) or '0') or 0
  local idle = 0
  if tat <= now_us then
    idle = 1
    tat = now_us
  end
  local new_tat = tat + interval
  local allow_at = new_tat - interval * burst
  if allow_at > now_us then return 0, allow_at - now_us, idle end
  if cost > 0 then
    redis.call('SET', key, string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now_us) / 1000))
  end
  return 1, 0, idle
end
local epoch = ''
local untl = nil
local function check_epoch()
  local known = ARGV[1]
  local q = tonumber(ARGV[3])
  local e = redis.call('GET', KEYS[1])
  local id, created, u
  if not e then
    id, created, u = ARGV[2], now, 0
    if known ~= '' then u = now + q end
    redis.call('SET', KEYS[1], id .. ':' .. string.format('%.0f', created) .. ':' .. string.format('%.0f', u))
  else
    local a, b, c = string.match(e, '^([^:]+):(%d+):(%d+)$')
    if not a then return redis.error_reply('malformed epoch') end
    id, created, u = a, tonumber(b), tonumber(c)
    if known ~= '' and known ~= id and u < created + q then
      u = created + q
      redis.call('SET', KEYS[1], id .. ':' .. string.format('%.0f', created) .. ':' .. string.format('%.0f', u))
    end
  end
  epoch, untl = id, u
end
local k = 2
local i = 0
local a = 4
while a + 4 <= #ARGV do
  local kind = ARGV[a]
  local p1, p2, p3, p4 = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  if kind == '1' then
    local ok, retry, idle = gcra(KEYS[k], p1, p2, 0)
    if ok == 0 then return {1, i, retry, epoch} end
    if idle == 0 then
      ok, retry = gcra(KEYS[k + 1], p3, p4, 0)
      if ok == 0 then return {1, i, retry, epoch} end
    end
    k = k + 2
  elseif kind == '2' then
    local ok, retry = gcra(KEYS[k], p1, p2, 1)
    if ok == 0 then return {1, i, retry, epoch} end
    k = k + 1
  elseif kind == '3' then
    if untl == nil then
      local err = check_epoch()
      if err then return err end
    end
    if now < untl then return {2, i, untl - now, epoch} end
    if p1 > 0 and not redis.call('SET', KEYS[k], '1', 'NX', 'PX', p1) then
      return {1, i, 0, epoch}
    end
    k = k + 1
  else
    return redis.error_reply('unknown step kind')
  end
  i = i + 1
  a = a + 5
end
return {0, -1, 0, epoch}
`)

// GrantStore is the authorization server's replay store and rate limiter
// in one value: a [ReplayStore] and a [Limiter] over the same keys, which
// also implements [authserver.GrantSteps], so the server runs the
// rate-limit and replay steps of a token request in one Lua script per
// batch (one round trip) and overlaps it with its own verification and
// signing. Set it as both Config.ReplayStore and Config.RateLimiter.
type GrantStore struct {
	*ReplayStore
	lim *Limiter
}

var _ authserver.GrantSteps = (*GrantStore)(nil)

// NewGrantStore returns a GrantStore; see [NewReplayStore] for the dataset
// epoch it reads.
func NewGrantStore(ctx context.Context, cfg ReplayConfig) (*GrantStore, error) {
	rs, err := NewReplayStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &GrantStore{ReplayStore: rs, lim: &Limiter{rs.base}}, nil
}

// Allow implements [authserver.Limiter].
func (g *GrantStore) Allow(ctx context.Context, key string, lim authserver.Limit) (authserver.LimitDecision, error) {
	return g.lim.Allow(ctx, key, lim)
}

// Peek implements [authserver.Limiter].
func (g *GrantStore) Peek(ctx context.Context, key string, lim authserver.Limit) (authserver.LimitDecision, error) {
	return g.lim.Peek(ctx, key, lim)
}

// RunGrantSteps implements [authserver.GrantSteps]: one script, one round
// trip. Errors wrap core.ErrStoreUnavailable (Redis unreachable, slow, or
// in quarantine after a data loss), replay.ErrInvalidKey, or
// ErrInvalidConfig for an unusable limit.
func (g *GrantStore) RunGrantSteps(ctx context.Context, steps []authserver.GrantStep) (authserver.GrantStepsResult, error) {
	keys := make([]string, 1, 1+2*len(steps))
	keys[0] = g.prefix + "epoch"
	g.mu.Lock()
	known := g.epoch
	g.mu.Unlock()
	var rb [12]byte
	_, _ = rand.Read(rb[:])
	args := make([]any, 3, 3+5*len(steps))
	args[0], args[1], args[2] = known, hex.EncodeToString(rb[:]), ms(g.quarantine)
	for _, st := range steps {
		switch st.Kind {
		case authserver.StepCheckFailures:
			iv, err := interval(st.Limit)
			if err != nil {
				return authserver.GrantStepsResult{}, err
			}
			giv, err := interval(st.GlobalLimit)
			if err != nil {
				return authserver.GrantStepsResult{}, err
			}
			keys = append(keys, g.key("rl", st.Key), g.key("rl", st.GlobalKey))
			args = append(args, "1", iv, st.Limit.Burst, giv, st.GlobalLimit.Burst)
		case authserver.StepCharge:
			iv, err := interval(st.Limit)
			if err != nil {
				return authserver.GrantStepsResult{}, err
			}
			keys = append(keys, g.key("rl", st.Key))
			args = append(args, "2", iv, st.Limit.Burst, 0, 0)
		case authserver.StepConsume:
			if st.Key == "" || len(st.Key) > 4096 {
				return authserver.GrantStepsResult{}, fmt.Errorf("%w: length %d", replay.ErrInvalidKey, len(st.Key))
			}
			var ttl int64
			if d := time.Until(st.Exp); d > 0 {
				ttl = ms(d) + 1
			}
			keys = append(keys, g.key("jti", st.Key))
			args = append(args, "3", ttl, 0, 0, 0)
		default:
			return authserver.GrantStepsResult{}, fmt.Errorf("%w: grant step kind %d", ErrInvalidConfig, st.Kind)
		}
	}
	cctx, cancel := g.ctx(ctx)
	defer cancel()
	res, err := grantSteps.Run(cctx, g.c, keys, args...).Slice()
	if err != nil {
		return authserver.GrantStepsResult{}, unavailable("grant steps script", err)
	}
	if len(res) != 4 {
		return authserver.GrantStepsResult{}, unavailable("grant steps script", fmt.Errorf("reply of %d values", len(res)))
	}
	code, _ := res[0].(int64)
	idx, _ := res[1].(int64)
	n, _ := res[2].(int64)
	if epoch, _ := res[3].(string); epoch != "" {
		g.mu.Lock()
		g.epoch = epoch
		g.mu.Unlock()
	}
	switch {
	case code == 0:
		return authserver.GrantStepsResult{Refused: -1}, nil
	case idx < 0 || idx >= int64(len(steps)):
		return authserver.GrantStepsResult{}, unavailable("grant steps script", fmt.Errorf("step index %d", idx))
	case code == 1:
		return authserver.GrantStepsResult{Refused: int(idx), RetryAfter: time.Duration(n) * time.Microsecond}, nil
	case code == 2:
		return authserver.GrantStepsResult{}, unavailable("replay store", errQuarantine)
	}
	return authserver.GrantStepsResult{}, unavailable("grant steps script", fmt.Errorf("reply code %d", code))
}
