package redisstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/redis/go-redis/v9"
)

// A refresh family is a hash at key("rfam", id) with the fields f (the
// family as JSON, without LastUsed), hk (the key of its handle), gen (the
// current generation), sh (the current generation's secret hash), last
// (LastUsed, RFC 3339), lu (LastUsed, ms since the epoch), dl (the absolute
// deadline, ms since the epoch), cid (client id) and sk (its subject's
// set). A handle is a string at key("rh", handle) holding its family's
// key. A subject's families are a set at key("rsub", subject). Keys read
// by the scripts through other keys share the deployment's hash tag
// (Config.Prefix), so the scripts work on Cluster.
const revokeLua = `
local function revoke(fk)
  local h = redis.call('HMGET', fk, 'hk', 'sk')
  if h[1] then redis.call('DEL', h[1]) end
  if h[2] then redis.call('SREM', h[2], fk) end
  redis.call('DEL', fk)
end
`

// findLua reads the family of the handle KEYS[1] for the token of
// generation ARGV[1] with secret hash ARGV[2]: it returns the family key
// and its fields, or a code: 0 unknown (or a future generation, or another
// secret), 1 an older generation (a reuse).
const findLua = `
local function find()
  local fk = redis.call('GET', KEYS[1])
  if not fk then return nil, 0 end
  local h = redis.call('HMGET', fk, 'f', 'gen', 'sh', 'last', 'dl', 'sk')
  if not h[1] then return nil, 0 end
  local g, cur = tonumber(ARGV[1]), tonumber(h[2])
  if not g or not cur then return nil, 0 end
  if g < cur then return fk, 1 end
  if g > cur or h[3] ~= ARGV[2] then return nil, 0 end
  return fk, 2, h
end
`

var (
	// KEYS: family, handle, subject set. ARGV: family JSON, LastUsed,
	// client id, TTL ms, deadline ms, LastUsed ms, families per subject,
	// bytes per subject, secret hash. Returns 1 if the family or the
	// handle exists, 0 once saved. At the subject's cap it first revokes
	// the subject's least recently used family of the same client, else of
	// the client holding the most of the subject's families
	// (authserver.RefreshLimits); members whose family expired are dropped
	// from the set on the way.
	refreshSave = redis.NewScript(revokeLua + `
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 1 end
local size, maxn, maxb = string.len(ARGV[1]), tonumber(ARGV[7]), tonumber(ARGV[8])
local live, n, bytes = {}, 0, 0
for _, fk in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local h = redis.call('HMGET', fk, 'cid', 'lu')
  if not h[1] then
    redis.call('SREM', KEYS[3], fk)
  else
    local b = redis.call('HSTRLEN', fk, 'f')
    n, bytes = n + 1, bytes + b
    live[#live + 1] = {fk, h[1], tonumber(h[2]) or 0, b}
  end
end
local function older(x, y)
  if x[3] ~= y[3] then return x[3] < y[3] end
  return x[1] < y[1]
end
local count = {}
for _, e in ipairs(live) do count[e[2]] = (count[e[2]] or 0) + 1 end
while n > 0 and (n >= maxn or bytes + size > maxb) do
  local same, any
  for _, e in ipairs(live) do
    if not e[5] then
      if any == nil or count[e[2]] > count[any[2]] or (count[e[2]] == count[any[2]] and older(e, any)) then any = e end
      if e[2] == ARGV[3] and (same == nil or older(e, same)) then same = e end
    end
  end
  local v = same or any
  revoke(v[1])
  v[5], n, bytes = true, n - 1, bytes - v[4]
  count[v[2]] = count[v[2]] - 1
end
redis.call('HSET', KEYS[1], 'f', ARGV[1], 'hk', KEYS[2], 'gen', 1, 'sh', ARGV[9], 'last', ARGV[2], 'cid', ARGV[3], 'sk', KEYS[3], 'dl', ARGV[5], 'lu', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('SET', KEYS[2], KEYS[1], 'PX', ARGV[4])
redis.call('SADD', KEYS[3], KEYS[1])
if redis.call('PTTL', KEYS[3]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[3], ARGV[4]) end
return 0
`)
	// KEYS: handle. ARGV: generation, secret hash, next secret hash, now
	// (RFC 3339), now ms, idle lifetime ms. Returns {0} unknown, {1}
	// reused (family revoked), {2, family JSON, LastUsed before}. The
	// subject's set lives as long as its longest-lived family, so
	// RevokeSubject and the per-subject cap see a family kept alive by
	// rotations.
	refreshRotate = redis.NewScript(revokeLua + findLua + `
local fk, code, h = find()
if code == 0 then return {0} end
if code == 1 then
  revoke(fk)
  return {1}
end
local ttl = math.min(tonumber(h[5]) - tonumber(ARGV[5]), tonumber(ARGV[6]))
if ttl < 1 then ttl = 1 end
redis.call('HSET', fk, 'gen', tonumber(h[2]) + 1, 'sh', ARGV[3], 'last', ARGV[4], 'lu', ARGV[5])
redis.call('PEXPIRE', fk, ttl)
redis.call('PEXPIRE', KEYS[1], ttl)
if h[6] then
  redis.call('SADD', h[6], fk)
  if redis.call('PTTL', h[6]) < ttl then redis.call('PEXPIRE', h[6], ttl) end
end
return {2, h[1], h[4]}
`)
	// KEYS: handle. ARGV: generation, secret hash. Returns {0} unknown,
	// {1} an older generation (nothing revoked), {2, family JSON,
	// LastUsed}.
	refreshPeek = redis.NewScript(findLua + `
local fk, code, h = find()
if code ~= 2 then return {code} end
return {2, h[1], h[4]}
`)
	// KEYS: family.
	refreshRevokeFamily = redis.NewScript(revokeLua + `
if redis.call('EXISTS', KEYS[1]) == 1 then revoke(KEYS[1]) end
return 0
`)
	// KEYS: subject set. ARGV: client id ("" = all).
	refreshRevokeSubject = redis.NewScript(revokeLua + `
for _, fk in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local cid = redis.call('HGET', fk, 'cid')
  if not cid then
    redis.call('SREM', KEYS[1], fk)
  elseif ARGV[1] == '' or cid == ARGV[1] then
    revoke(fk)
  end
end
return 0
`)
)

// Defaults of [RefreshConfig].
const (
	maxRefreshFamilyJSON = 64 << 10
)

// RefreshConfig configures [NewRefreshStore].
type RefreshConfig struct {
	Config
	// IdleLifetime and AbsoluteLifetime make Redis forget a family unused
	// for IdleLifetime or older than AbsoluteLifetime. They must be at least
	// the authorization server's Broker.RefreshIdleLifetime and
	// RefreshAbsoluteLifetime (the server checks those itself). OPTIONAL;
	// zero means authserver.DefaultRefreshIdleLifetime (24 h) and
	// authserver.DefaultRefreshAbsoluteLifetime (7 days).
	IdleLifetime, AbsoluteLifetime time.Duration
	// Limits caps each subject's families (count and bytes); at a cap, Save
	// revokes the subject's least recently used family first, as the
	// in-memory store does (authserver.RefreshLimits). OPTIONAL; zero
	// fields mean authserver.DefaultRefreshFamiliesPerSubject (32) and
	// DefaultRefreshBytesPerSubject (512 KiB).
	Limits authserver.RefreshLimits
}

// RefreshStore is an [authserver.RefreshStore] on Redis, shared by every
// authorization server replica. Rotate is one Lua script: of concurrent
// rotations of one token on any replicas exactly one wins, and a token of
// an older generation than its family's current one, however old,
// revokes the whole family for all of them. Redis holds the family's
// current generation and the SHA-256 of its secret, never a token. Families
// expire in Redis after their idle or absolute lifetime, so Redis holds
// only live families, and at most RefreshConfig.Limits per subject, so
// one user cannot grow Redis without bound (size it with maxmemory and
// noeviction, as for the replay store: an eviction would forget a family
// early, which only refuses its token). Errors wrap core.ErrStoreUnavailable; the server then
// answers 503 and issues nothing.
type RefreshStore struct {
	base
	idle, abs time.Duration
	limits    authserver.RefreshLimits
}

var _ authserver.RefreshStore = (*RefreshStore)(nil)

// NewRefreshStore returns a RefreshStore.
func NewRefreshStore(cfg RefreshConfig) (*RefreshStore, error) {
	b, err := newBase(cfg.Config)
	if err != nil {
		return nil, err
	}
	if cfg.IdleLifetime < 0 || cfg.AbsoluteLifetime < 0 {
		return nil, fmt.Errorf("%w: refresh lifetimes must not be negative", ErrInvalidConfig)
	}
	limits, err := cfg.Limits.WithDefaults()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	s := &RefreshStore{base: b, idle: cfg.IdleLifetime, abs: cfg.AbsoluteLifetime, limits: limits}
	if s.idle == 0 {
		s.idle = authserver.DefaultRefreshIdleLifetime
	}
	if s.abs == 0 {
		s.abs = authserver.DefaultRefreshAbsoluteLifetime
	}
	return s, nil
}

var errFamilyExists = errors.New("redisstore: refresh family exists")

// Save implements [authserver.RefreshStore].
func (s *RefreshStore) Save(ctx context.Context, t authserver.RefreshToken, f authserver.RefreshFamily) error {
	if t.Handle == "" || t.SecretHash == "" || t.Generation != 1 || f.ID == "" {
		return errors.New("redisstore: empty refresh handle, secret hash or family id, or not generation 1")
	}
	last := f.LastUsed
	f.LastUsed = time.Time{}
	js, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("redisstore: refresh family: %w", err)
	}
	if len(js) > maxRefreshFamilyJSON {
		return fmt.Errorf("redisstore: refresh family of %d bytes", len(js))
	}
	if len(js) > s.limits.BytesPerSubject {
		return fmt.Errorf("%w: %d bytes", authserver.ErrRefreshFamilyTooLarge, len(js))
	}
	deadline := f.Created.Add(s.abs)
	ttl := min(time.Until(deadline), time.Until(last.Add(s.idle)))
	fk := s.key("rfam", f.ID)
	lastText, _ := last.MarshalText()
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	r, err := refreshSave.Run(ctx, s.c, []string{fk, s.key("rh", t.Handle), s.key("rsub", f.Subject)},
		js, lastText, f.ClientID, ms(ttl), deadline.UnixMilli(), last.UnixMilli(),
		s.limits.FamiliesPerSubject, s.limits.BytesPerSubject, t.SecretHash).Int()
	if err != nil {
		return unavailable("refresh save script", err)
	}
	if r == 1 {
		return errFamilyExists
	}
	return nil
}

// Rotate implements [authserver.RefreshStore].
func (s *RefreshStore) Rotate(ctx context.Context, t authserver.RefreshToken, nextSecretHash string, now time.Time) (authserver.RefreshFamily, error) {
	if t.Handle == "" || t.Generation == 0 || nextSecretHash == "" {
		return authserver.RefreshFamily{}, authserver.ErrRefreshUnknown
	}
	nowText, _ := now.MarshalText()
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	res, err := refreshRotate.Run(ctx, s.c, []string{s.key("rh", t.Handle)},
		strconv.FormatUint(t.Generation, 10), t.SecretHash, nextSecretHash, nowText, now.UnixMilli(), ms(s.idle)).Slice()
	if err != nil {
		return authserver.RefreshFamily{}, unavailable("refresh rotate script", err)
	}
	return familyReply("refresh rotate script", res)
}

// Peek implements [authserver.RefreshStore]: one read-only script.
func (s *RefreshStore) Peek(ctx context.Context, t authserver.RefreshToken) (authserver.RefreshFamily, error) {
	if t.Handle == "" || t.Generation == 0 {
		return authserver.RefreshFamily{}, authserver.ErrRefreshUnknown
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	res, err := refreshPeek.Run(ctx, s.c, []string{s.key("rh", t.Handle)}, strconv.FormatUint(t.Generation, 10), t.SecretHash).Slice()
	if err != nil {
		return authserver.RefreshFamily{}, unavailable("refresh peek script", err)
	}
	return familyReply("refresh peek script", res)
}

// familyReply decodes {0} (unknown), {1} (reused) or {2, family JSON,
// LastUsed}.
func familyReply(op string, res []any) (authserver.RefreshFamily, error) {
	if len(res) == 0 {
		return authserver.RefreshFamily{}, unavailable(op, errors.New("empty reply"))
	}
	code, _ := res[0].(int64)
	switch {
	case code == 0:
		return authserver.RefreshFamily{}, authserver.ErrRefreshUnknown
	case code == 1:
		return authserver.RefreshFamily{}, authserver.ErrRefreshReused
	case code != 2 || len(res) != 3:
		return authserver.RefreshFamily{}, unavailable(op, fmt.Errorf("reply %v", res))
	}
	js, _ := res[1].(string)
	lastText, _ := res[2].(string)
	var f authserver.RefreshFamily
	dec := json.NewDecoder(bytes.NewReader([]byte(js)))
	dec.UseNumber() // claims keep their exact numbers
	if err := dec.Decode(&f); err != nil {
		return authserver.RefreshFamily{}, unavailable("refresh family", err)
	}
	if err := f.LastUsed.UnmarshalText([]byte(lastText)); err != nil {
		return authserver.RefreshFamily{}, unavailable("refresh family", err)
	}
	return f, nil
}

// RevokeFamily implements [authserver.RefreshStore].
func (s *RefreshStore) RevokeFamily(ctx context.Context, id string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	if err := refreshRevokeFamily.Run(ctx, s.c, []string{s.key("rfam", id)}).Err(); err != nil {
		return unavailable("refresh revoke script", err)
	}
	return nil
}

// RevokeSubject implements [authserver.RefreshStore].
func (s *RefreshStore) RevokeSubject(ctx context.Context, subject, clientID string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	if err := refreshRevokeSubject.Run(ctx, s.c, []string{s.key("rsub", subject)}, clientID).Err(); err != nil {
		return unavailable("refresh revoke script", err)
	}
	return nil
}

// Ready implements core.ReadinessChecker: Redis answers a PING within
// Config.Timeout.
func (s *RefreshStore) Ready(ctx context.Context) error { return s.ping(ctx) }
