package redisstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/authserver/replay"
	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
)

// grantSteps runs the steps of one token request (authserver.GrantStep) in
// order and stops at the first refusal. KEYS: the epoch key, the call's
// answer key (callKey), then one key per step (two for a failure check:
// the pair's, the global one). ARGV: the replication id this process last
// saw, the quarantine in ms, how long in ms the answer key keeps the
// answer of a call that charged (0: no charge step, the key is not
// read), then five values per step: kind (1 failure check, 2 charge, 3 consume) and its
// parameters (failure check: interval µs, burst, global interval µs,
// global burst; charge: interval µs, burst; consume: TTL ms, 0 = accept
// without recording, and the call's token: the mark holds it and the
// step's index, so that the same call sent again finds its own mark
// rather than a replay, and a second step of one call with the same key
// is one; see markTokens). The GCRA and the epoch are those of the gcra and
// consume scripts (epochLua); as there, a bucket holding anything but a
// finite number is an error, never an allow. Returns one status string (a reply that a
// streamed read takes, see SendGrantSteps): "0:-1:0:<rid>" when every step
// passed, "1:<i>:<retry µs>:<rid>" when step i (0-based) was refused,
// "2:<i>:<ms left>:<rid>" when step i met the quarantine after a failover,
// restart or data loss. A call that charged keeps its answer under its
// answer key, and the same call sent again (go-redis resends after a read
// timeout) returns that answer without running a step: its limits are
// charged once. A run that stops at an error (a bucket holding anything
// but a finite number, which only a write from outside these scripts
// makes; a malformed epoch key) keeps what the steps before it wrote and
// saves no answer, as separate calls through the Limiter and the replay
// store would: the call fails closed (503), and the same call sent again
// charges the steps before once more (its own marks pass) and fails at
// the same step, as a new call would. Nothing is ever under-charged: an
// answer is saved only by a run that completed.
//
// It is written for a short run per grant: one TIME, no closures, GETs
// only of the keys a step needs (the global failure bucket only for a
// pair with recent failures; INFO replication and the epoch only for a
// consume step, once), and absolute expiries (PXAT), which Redis
// propagates as they are instead of rewriting the command. The replies are
// those of the one-step scripts.
var grantSteps = redis.NewScript(grantStepsSrc)

const grantStepsSrc = `
local t = redis.call('TIME')
local now_us = t[1] * 1000000 + t[2]
local now = (now_us - now_us % 1000) / 1000
local epoch, checked = '', false
local epoch_key, epoch_seen, epoch_q = KEYS[1], ARGV[1], ARGV[2]
local k, i, a = 3, 0, 4
local n = #ARGV
local answer_ms = tonumber(ARGV[3])
if answer_ms > 0 then
  local first = redis.call('GET', KEYS[2])
  if first then return first end
end
local reply, charged = nil, false
while a + 4 <= n do
  local kind = ARGV[a]
  if kind == '3' then
    if not checked then
      checked = true
      do
` + epochLua + `
        if now < untl then reply = string.format('2:%d:%.0f:%s', i, untl - now, rid) break end
        epoch = rid
      end
    end
    local ttl, tok = tonumber(ARGV[a + 1]), ARGV[a + 2] .. ':' .. i
    if ttl > 0 and not redis.call('SET', KEYS[k], tok, 'NX', 'PXAT', now + ttl)
        and (ARGV[a + 2] == '' or redis.call('GET', KEYS[k]) ~= tok) then
      reply = string.format('1:%d:0:%s', i, epoch)
      break
    end
    k = k + 1
  elseif kind == '1' or kind == '2' then
    local iv, burst = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
    local tat = tonumber(redis.call('GET', KEYS[k]) or '0')
    if not tat or tat ~= tat or tat == math.huge or tat == -math.huge then return redis.error_reply('corrupt GCRA bucket') end
    local idle = tat <= now_us
    if idle then tat = now_us end
    local allow_at = tat + iv - iv * burst
    if allow_at > now_us then
      reply = string.format('1:%d:%.0f:%s', i, allow_at - now_us, epoch)
      break
    end
    if kind == '2' then
      local new_tat = tat + iv
      redis.call('SET', KEYS[k], string.format('%.0f', new_tat), 'PXAT', math.ceil(new_tat / 1000))
      charged = true
      k = k + 1
    else
      if not idle then
        local giv, gburst = tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
        local gtat = tonumber(redis.call('GET', KEYS[k + 1]) or '0')
        if not gtat or gtat ~= gtat or gtat == math.huge or gtat == -math.huge then return redis.error_reply('corrupt GCRA bucket') end
        if gtat < now_us then gtat = now_us end
        local gallow = gtat + giv - giv * gburst
        if gallow > now_us then
          reply = string.format('1:%d:%.0f:%s', i, gallow - now_us, epoch)
          break
        end
      end
      k = k + 2
    end
  else
    return redis.error_reply('unknown step kind')
  end
  i = i + 1
  a = a + 5
end
reply = reply or '0:-1:0:' .. epoch
if charged and answer_ms > 0 then redis.call('SET', KEYS[2], reply, 'PXAT', now + answer_ms) end
return reply
`

// GrantStore is the authorization server's replay store and rate limiter
// in one value: a [ReplayStore] and a [Limiter] over the same keys, which
// also implements [authserver.GrantSteps], so the server runs the
// rate-limit and replay steps of a token request in one Lua script per
// batch (one round trip). With ReplayConfig.Sender it is also an
// [authserver.GrantStepsSender]: the script is sent, the server signs the
// access token on the same goroutine, and the answer is read after, so the
// round trip and Redis's own time are spent during the signature. Set it
// as both Config.ReplayStore and Config.RateLimiter.
type GrantStore struct {
	*ReplayStore
	lim    *Limiter
	sender rueidis.Client
	// streams bounds the streamed calls in flight below SenderOptions'
	// pool, so rueidis never waits for a pooled connection (see
	// SendGrantSteps).
	streams chan struct{}
	// observe, when set (BenchmarkGrantLatency), gets the time of each
	// streamed call's write, of the caller's work until it waits, and of
	// the wait for the answer.
	observe func(write, work, wait time.Duration)
}

var _ authserver.GrantStepsSender = (*GrantStore)(nil)

// NewGrantStore returns a GrantStore; see [NewReplayStore] for the dataset
// epoch it reads.
func NewGrantStore(ctx context.Context, cfg ReplayConfig) (*GrantStore, error) {
	rs, err := NewReplayStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &GrantStore{ReplayStore: rs, lim: &Limiter{base: rs.base, marks: newMarkTokens()}, sender: cfg.Sender, streams: make(chan struct{}, senderStreams())}, nil
}

// Allow implements [authserver.Limiter].
func (g *GrantStore) Allow(ctx context.Context, key string, lim authserver.Limit) (authserver.LimitDecision, error) {
	return g.lim.Allow(ctx, key, lim)
}

// Peek implements [authserver.Limiter].
func (g *GrantStore) Peek(ctx context.Context, key string, lim authserver.Limit) (authserver.LimitDecision, error) {
	return g.lim.Peek(ctx, key, lim)
}

// grantArgs builds the keys and arguments of the grant script.
func (g *GrantStore) grantArgs(steps []authserver.GrantStep) (keys []string, args []any, err error) {
	keys = make([]string, 2, 2+2*len(steps))
	keys[0] = g.prefix + epochKey
	known := g.epoch.get()
	args = make([]any, 3, 3+5*len(steps))
	args[0], args[1], args[2] = known, ms(g.quarantine), 0
	// The call's token: its one-time marks hold it, and its answer key
	// (when it charges) is named after it.
	token := g.marks.next()
	keys[1] = g.callKey(token)
	for _, st := range steps {
		switch st.Kind {
		case authserver.StepCheckFailures:
			iv, err := interval(st.Limit)
			if err != nil {
				return nil, nil, err
			}
			giv, err := interval(st.GlobalLimit)
			if err != nil {
				return nil, nil, err
			}
			keys = append(keys, g.key("rl", st.Key), g.key("rl", st.GlobalKey))
			args = append(args, "1", iv, st.Limit.Burst, giv, st.GlobalLimit.Burst)
		case authserver.StepCharge:
			iv, err := interval(st.Limit)
			if err != nil {
				return nil, nil, err
			}
			keys = append(keys, g.key("rl", st.Key))
			args = append(args, "2", iv, st.Limit.Burst, 0, 0)
			if token != "" { // a zero store has no tokens
				args[2] = ms(g.timeout)
			}
		case authserver.StepConsume:
			if st.Key == "" || len(st.Key) > replay.DefaultMaxKeyLength {
				return nil, nil, fmt.Errorf("%w: length %d", replay.ErrInvalidKey, len(st.Key))
			}
			var ttl int64
			if d := time.Until(st.Exp); d > 0 {
				ttl = ms(d) + 1
			}
			keys = append(keys, g.key("jti", st.Key))
			args = append(args, "3", ttl, token, 0, 0)
		default:
			return nil, nil, fmt.Errorf("%w: grant step kind %d", ErrInvalidConfig, st.Kind)
		}
	}
	return keys, args, nil
}

// grantReply decodes the grant script's status string (see grantSteps).
func (g *GrantStore) grantReply(reply string, nsteps int) (authserver.GrantStepsResult, error) {
	bad := func(why string) (authserver.GrantStepsResult, error) {
		return authserver.GrantStepsResult{}, unavailable("grant steps script", errors.New(why))
	}
	f := strings.SplitN(reply, ":", 4)
	if len(f) != 4 {
		return bad(fmt.Sprintf("reply of %d fields", len(f)))
	}
	idx, err1 := strconv.ParseInt(f[1], 10, 64)
	n, err2 := strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil || n < 0 || n > math.MaxInt64/int64(time.Microsecond) {
		return bad("malformed reply")
	}
	g.epoch.set(f[3])
	switch {
	case f[0] == "0" && f[1] == "-1" && f[2] == "0":
		return authserver.GrantStepsResult{Refused: -1}, nil
	case idx < 0 || idx >= int64(nsteps):
		return bad(fmt.Sprintf("step index %d", idx))
	case f[0] == "1":
		return authserver.GrantStepsResult{Refused: int(idx), RetryAfter: time.Duration(n) * time.Microsecond}, nil
	case f[0] == "2":
		return authserver.GrantStepsResult{}, quarantined(n)
	}
	return bad("reply code " + strconv.Quote(f[0]))
}

// RunGrantSteps implements [authserver.GrantSteps]: one script, one round
// trip. Errors wrap core.ErrStoreUnavailable (Redis unreachable, slow, or
// a [*QuarantineError] after a failover, restart or data loss),
// replay.ErrInvalidKey, or
// ErrInvalidConfig for an unusable limit.
func (g *GrantStore) RunGrantSteps(ctx context.Context, steps []authserver.GrantStep) (authserver.GrantStepsResult, error) {
	keys, args, err := g.grantArgs(steps)
	if err != nil {
		return authserver.GrantStepsResult{}, err
	}
	return g.runGrant(ctx, keys, args, len(steps))
}

// runGrant runs the grant script with grantArgs' keys and args.
func (g *GrantStore) runGrant(ctx context.Context, keys []string, args []any, nsteps int) (authserver.GrantStepsResult, error) {
	cctx, cancel := g.ctx(ctx)
	defer cancel()
	reply, err := grantSteps.Run(cctx, g.c, keys, args...).Text()
	if err != nil {
		return authserver.GrantStepsResult{}, unavailable("grant steps script", err)
	}
	return g.grantReply(reply, nsteps)
}

// SendGrantSteps implements [authserver.GrantStepsSender]. With
// ReplayConfig.Sender it writes the script's EVALSHA on a connection of
// that client's pool and returns; wait reads the one status string (a
// streamed read, rueidis's DoStream, which is what lets the write and the
// read be split on the caller's goroutine). When the streamed call fails
// in any way other than a timeout (a pooled connection that Redis closed,
// NOSCRIPT after a Redis restart), the same script and arguments are run
// once more through go-redis, as go-redis retries a command once on a new
// connection: if the first run did reach Redis, the second finds its own
// marks (the call's token, see markTokens) and its answer key, and
// answers as the first did, with its limits charged once; a jti is still
// accepted by one call only. Without Sender the
// steps run at once (RunGrantSteps) and wait returns their answer.
func (g *GrantStore) SendGrantSteps(ctx context.Context, steps []authserver.GrantStep) func() (authserver.GrantStepsResult, error) {
	if g.sender == nil {
		res, err := g.RunGrantSteps(ctx, steps)
		return func() (authserver.GrantStepsResult, error) { return res, err }
	}
	keys, args, err := g.grantArgs(steps)
	if err != nil {
		return func() (authserver.GrantStepsResult, error) { return authserver.GrantStepsResult{}, err }
	}
	select {
	case g.streams <- struct{}{}:
	default: // every pooled connection is busy: go-redis waits, bounded
		res, err := g.RunGrantSteps(ctx, steps)
		return func() (authserver.GrantStepsResult, error) { return res, err }
	}
	cmd := g.sender.B().Evalsha().Sha1(grantSteps.Hash()).Numkeys(int64(len(keys))).Key(keys...).Arg(stringArgs(args)...).Build()
	// No cancellation and no deadline reach rueidis: a context done
	// between its pool's Acquire and DoStream loses that connection for
	// good, and one done while Acquire waits can leave it waiting forever
	// (rueidis v1.0.79; TestSendGrantStepsCancelKeepsPool). streams keeps
	// Acquire from waiting, and the connection's deadline
	// (ConnWriteTimeout) bounds the write and the read.
	var t0 time.Time
	if g.observe != nil {
		t0 = time.Now()
	}
	stream := g.sender.DoStream(context.WithoutCancel(ctx), cmd)
	var t1 time.Time
	if g.observe != nil {
		t1 = time.Now()
	}
	return func() (authserver.GrantStepsResult, error) {
		defer func() { <-g.streams }()
		if g.observe != nil {
			t2 := time.Now()
			defer func() { g.observe(t1.Sub(t0), t2.Sub(t1), time.Since(t2)) }()
		}
		var w replyBuf
		_, err := stream.WriteTo(&w)
		if err == nil {
			if w.full {
				return authserver.GrantStepsResult{}, unavailable("grant steps script", errors.New("reply too long"))
			}
			return g.grantReply(string(w.b[:w.n]), len(steps))
		}
		if ctx.Err() != nil || isTimeout(err) {
			return authserver.GrantStepsResult{}, unavailable("grant steps script", err)
		}
		return g.runGrant(ctx, keys, args, len(steps))
	}
}

// senderStreams is the number of streamed calls a GrantStore runs at once:
// SenderOptions' pool size. A Sender built otherwise needs a
// BlockingPoolSize of at least this.
func senderStreams() int { return 10 * runtime.GOMAXPROCS(0) }

// replyBuf takes the grant script's status string without allocating.
type replyBuf struct {
	b    [96]byte
	n    int
	full bool
}

func (r *replyBuf) Write(p []byte) (int, error) {
	c := copy(r.b[r.n:], p)
	r.n += c
	if c < len(p) {
		r.full = true
	}
	return len(p), nil
}

func stringArgs(args []any) []string {
	out := make([]string, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			out[i] = v
		case int:
			out[i] = strconv.Itoa(v)
		case int64:
			out[i] = strconv.FormatInt(v, 10)
		default:
			out[i] = fmt.Sprint(v)
		}
	}
	return out
}

func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
