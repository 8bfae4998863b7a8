package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/redis/go-redis/v9"
)

// The registry is two hashes sharing the deployment's hash tag: views
// (replica name → "expiry ms|active|published,...") and seen (thumbprint
// → ms when first published). Times are Redis's (TIME), so that the
// replicas' clocks do not matter. seen keeps at most maxSeen thumbprints:
// beyond, those no live view publishes are dropped.
//
// The replicas re-teach seen after Redis lost it (a flush or restart):
// each sends, per published thumbprint, the first-seen ms it was last
// answered (0: none), and seen keeps the earliest of its own and those
// not in the future.
//
// KEYS: views, seen. ARGV: replica, ttl ms, max views, max seen, active,
// published... then as many remembered ms. Returns {views as name, value pairs; seen as thumbprint,
// ms pairs for the live thumbprints}, or an error reply when more than max
// views are live.
var keyPublish = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local pub, np = {}, (#ARGV - 5) / 2
for i = 6, 5 + np do pub[#pub + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], ARGV[1], (now + ttl) .. '|' .. ARGV[5] .. '|' .. table.concat(pub, ','))
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
for i, k in ipairs(pub) do
  local m = tonumber(ARGV[5 + np + i]) or 0
  local cur = tonumber(redis.call('HGET', KEYS[2], k) or '')
  if m > 0 and m < now and (not cur or m < cur) then
    redis.call('HSET', KEYS[2], k, m)
  elseif not cur then
    redis.call('HSET', KEYS[2], k, now)
  end
end
local views, live, n = {}, {}, 0
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local exp, rest = string.match(all[i + 1], '^(%d+)|(.*)$')
  if not exp or tonumber(exp) <= now then
    redis.call('HDEL', KEYS[1], all[i])
  else
    n = n + 1
    views[#views + 1] = all[i]
    views[#views + 1] = all[i + 1]
    for k in string.gmatch(string.match(rest, '|(.*)$') or '', '[^,]+') do live[k] = true end
  end
end
if n > tonumber(ARGV[3]) then return redis.error_reply('too many replicas: ' .. n) end
if redis.call('HLEN', KEYS[2]) > tonumber(ARGV[4]) then
  for _, k in ipairs(redis.call('HKEYS', KEYS[2])) do
    if not live[k] then redis.call('HDEL', KEYS[2], k) end
  end
end
local seen = {}
for k in pairs(live) do
  local v = redis.call('HGET', KEYS[2], k)
  if v then
    seen[#seen + 1] = k
    seen[#seen + 1] = v
  end
end
return {views, seen}
`)

// maxSeenThumbprints bounds the registry's first-seen hash.
const maxSeenThumbprints = 64

// KeyRegistry is an [authserver.KeyRegistry] on Redis: every replica of
// one authorization server (one Config.Prefix) publishes the RFC 7638
// thumbprints of its signing keys there, and compares them with the
// others' ([authserver.KeyCheck]). A publication is one Lua script; a
// view is stored under its replica name, so a replica restarted under the
// same name replaces its previous view rather than adding one; views
// expire on Redis's clock, and Redis holds at most
// authserver.MaxKeyCheckReplicas views and 64 first-seen thumbprints
// beyond the live ones. Thumbprints identify public keys only; no key
// material is stored. Errors wrap core.ErrStoreUnavailable.
type KeyRegistry struct {
	base
}

var _ authserver.KeyRegistry = (*KeyRegistry)(nil)

// NewKeyRegistry returns a KeyRegistry.
func NewKeyRegistry(cfg Config) (*KeyRegistry, error) {
	b, err := newBase(cfg)
	if err != nil {
		return nil, err
	}
	return &KeyRegistry{base: b}, nil
}

// Publish implements [authserver.KeyRegistry].
func (r *KeyRegistry) Publish(ctx context.Context, v authserver.KeyView, ttl time.Duration) (authserver.KeyRegistryState, error) {
	if err := checkView(v); err != nil {
		return authserver.KeyRegistryState{}, fmt.Errorf("redisstore: key registry: %w", err)
	}
	if ttl < time.Millisecond {
		return authserver.KeyRegistryState{}, errors.New("redisstore: key registry: ttl under 1 ms")
	}
	args := []any{v.Replica, ttl.Milliseconds(), authserver.MaxKeyCheckReplicas, maxSeenThumbprints, v.Active}
	for _, p := range v.Published {
		args = append(args, p)
	}
	for _, p := range v.Published {
		var m int64
		if at, ok := v.Seen[p]; ok && at.UnixMilli() > 0 {
			m = at.UnixMilli()
		}
		args = append(args, m)
	}
	ctx, cancel := r.ctx(ctx)
	defer cancel()
	res, err := keyPublish.Run(ctx, r.c, []string{r.key("keyreg", "views"), r.key("keyreg", "seen")}, args...).Slice()
	if err != nil {
		return authserver.KeyRegistryState{}, unavailable("key registry script", err)
	}
	st, err := parseKeyReply(res)
	if err != nil {
		return authserver.KeyRegistryState{}, unavailable("key registry script", err)
	}
	return st, nil
}

// checkView refuses what could not be stored and read back unambiguously.
func checkView(v authserver.KeyView) error {
	if v.Replica == "" || len(v.Replica) > authserver.MaxReplicaNameLength {
		return errors.New("replica name empty or too long")
	}
	if len(v.Published) == 0 || len(v.Published) > authserver.MaxKeyCheckKeys {
		return fmt.Errorf("1 to %d published keys", authserver.MaxKeyCheckKeys)
	}
	if !isThumbprint(v.Active) {
		return errors.New("active key: not a thumbprint")
	}
	for _, p := range v.Published {
		if !isThumbprint(p) {
			return errors.New("published key: not a thumbprint")
		}
	}
	return nil
}

// isThumbprint reports whether s is a base64url SHA-256 (43 characters,
// unpadded, no stray bits).
func isThumbprint(s string) bool {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == sha256.Size
}

// parseKeyReply decodes the script's {views, seen}, refusing anything
// malformed (another writer of the same keys).
func parseKeyReply(res []any) (authserver.KeyRegistryState, error) {
	if len(res) != 2 {
		return authserver.KeyRegistryState{}, fmt.Errorf("reply of %d elements", len(res))
	}
	views, ok1 := res[0].([]any)
	seen, ok2 := res[1].([]any)
	if !ok1 || !ok2 || len(views)%2 != 0 || len(seen)%2 != 0 {
		return authserver.KeyRegistryState{}, errors.New("malformed reply")
	}
	st := authserver.KeyRegistryState{FirstSeen: make(map[string]time.Time, len(seen)/2)}
	for i := 0; i < len(views); i += 2 {
		name, _ := views[i].(string)
		val, _ := views[i+1].(string)
		parts := strings.Split(val, "|")
		if len(parts) != 3 {
			return authserver.KeyRegistryState{}, errors.New("malformed view")
		}
		v := authserver.KeyView{Replica: name, Active: parts[1], Published: strings.Split(parts[2], ",")}
		if err := checkView(v); err != nil {
			return authserver.KeyRegistryState{}, fmt.Errorf("view: %w", err)
		}
		st.Views = append(st.Views, v)
	}
	for i := 0; i < len(seen); i += 2 {
		t, _ := seen[i].(string)
		ms, _ := seen[i+1].(string)
		n, err := strconv.ParseInt(ms, 10, 64)
		if err != nil || !isThumbprint(t) {
			return authserver.KeyRegistryState{}, errors.New("malformed first-seen entry")
		}
		st.FirstSeen[t] = time.UnixMilli(n)
	}
	return st, nil
}

// Ready implements core.ReadinessChecker: Redis answers a PING within
// Config.Timeout.
func (r *KeyRegistry) Ready(ctx context.Context) error { return r.ping(ctx) }
