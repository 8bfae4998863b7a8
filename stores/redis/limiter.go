package redisstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/redis/go-redis/v9"
)

// gcra is the generic cell rate algorithm over one key holding the
// theoretical arrival time (TAT) in microseconds of the Redis clock, so
// replicas with skewed clocks share one schedule. KEYS: the bucket, and
// for a charge the call's answer key (callKey, optional). ARGV: emission
// interval (µs per event), burst, cost (1 = charge, 0 = peek), with an
// answer key how long in ms it keeps an allowed charge. Returns {allowed,
// retry after µs, idle}. A bucket holding anything but a finite number is
// an error, never an allow. A charge sent again (go-redis resends after a
// read timeout) finds its answer key and answers allowed without charging
// again.
var gcra = redis.NewScript(`
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local answer = cost > 0 and #KEYS > 1
if answer then
  local first = redis.call('GET', KEYS[2])
  if first then return {1, 0, tonumber(first)} end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local raw = redis.call('GET', KEYS[1])
local tat = 0
if raw then
  tat = tonumber(raw)
  if not tat or tat ~= tat or tat == math.huge or tat == -math.huge then
    return redis.error_reply('corrupt GCRA bucket')
  end
end
local idle = 0
if tat <= now then
  idle = 1
  tat = now
end
local new_tat = tat + interval
local allow_at = new_tat - interval * burst
if allow_at > now then
  return {0, allow_at - now, idle}
end
if cost > 0 then
  redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
end
if answer then redis.call('SET', KEYS[2], idle, 'PX', ARGV[4]) end
return {1, 0, idle}
`)

// Limiter is an [authserver.Limiter] on Redis: GCRA in one Lua script per
// decision, so a limit holds across all replicas. Buckets expire when full,
// so Redis holds only keys with recent events. A charge that go-redis
// sends again after a read timeout (Redis stalled: a fork, an fsync, a
// paused VM, and the first send ran too) is charged once: the call's
// answer is kept for Config.Timeout under its token (as the grant
// store's one-time marks are).
type Limiter struct {
	base
	marks markTokens
}

var _ authserver.Limiter = (*Limiter)(nil)

// NewLimiter returns a Limiter.
func NewLimiter(cfg Config) (*Limiter, error) {
	b, err := newBase(cfg)
	if err != nil {
		return nil, err
	}
	return &Limiter{base: b, marks: newMarkTokens()}, nil
}

// Allow implements [authserver.Limiter].
func (l *Limiter) Allow(ctx context.Context, key string, lim authserver.Limit) (authserver.LimitDecision, error) {
	return l.run(ctx, key, lim, 1)
}

// Peek implements [authserver.Limiter].
func (l *Limiter) Peek(ctx context.Context, key string, lim authserver.Limit) (authserver.LimitDecision, error) {
	return l.run(ctx, key, lim, 0)
}

func (l *Limiter) run(ctx context.Context, key string, lim authserver.Limit, cost int) (authserver.LimitDecision, error) {
	iv, err := interval(lim)
	if err != nil {
		return authserver.LimitDecision{}, err
	}
	ctx, cancel := l.ctx(ctx)
	defer cancel()
	keys, args := make([]string, 1, 2), make([]any, 3, 4)
	keys[0], args[0], args[1], args[2] = l.key("rl", key), iv, lim.Burst, cost
	if tok := l.marks.next(); cost > 0 && tok != "" {
		keys = append(keys, l.callKey(tok))
		args = append(args, ms(l.timeout))
	}
	res, err := gcra.Run(ctx, l.c, keys, args...).Int64Slice()
	if err != nil {
		return authserver.LimitDecision{}, unavailable("GCRA script", err)
	}
	return gcraReply(res, cost == 0)
}

// gcraReply decodes the GCRA script's {allowed, retry after µs, idle}. Any
// other shape (a flag other than 0 or 1, a negative or overflowing wait, an
// allow with a wait) is an error wrapping core.ErrStoreUnavailable, so a
// garbled reply refuses (503) rather than allows. (A reply of the wrong
// type, such as a string or a float, already fails in Int64Slice.)
func gcraReply(res []int64, peek bool) (authserver.LimitDecision, error) {
	bad := func(why string) (authserver.LimitDecision, error) {
		return authserver.LimitDecision{}, unavailable("GCRA script", errors.New(why))
	}
	switch {
	case len(res) != 3:
		return bad(fmt.Sprintf("reply of %d values", len(res)))
	case res[0] != 0 && res[0] != 1, res[2] != 0 && res[2] != 1:
		return bad("reply flag out of range")
	case res[1] < 0 || res[1] > math.MaxInt64/int64(time.Microsecond):
		return bad("retry-after out of range")
	case res[0] == 1 && res[1] != 0:
		return bad("allowed with a retry-after")
	}
	return authserver.LimitDecision{
		Allowed:    res[0] == 1,
		RetryAfter: time.Duration(res[1]) * time.Microsecond,
		Idle:       peek && res[2] == 1,
	}, nil
}

// interval is the GCRA emission interval of l in µs.
func interval(l authserver.Limit) (int64, error) {
	if l.PerSecond <= 0 || l.Burst <= 0 || math.IsInf(l.PerSecond, 0) || math.IsNaN(l.PerSecond) {
		return 0, fmt.Errorf("%w: limit %+v", ErrInvalidConfig, l)
	}
	return int64(math.Max(1, math.Round(1e6/l.PerSecond))), nil
}

// Ready implements core.ReadinessChecker: Redis answers a PING within
// Config.Timeout.
func (l *Limiter) Ready(ctx context.Context) error { return l.ping(ctx) }
