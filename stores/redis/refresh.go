package redisstore

import (
	"bytes"
	"cmp"
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
// (LastUsed, RFC 3339), pG (the secret hash of the earlier generation G,
// for the last authserver.RefreshReuseGenerations generations before gen),
// lu (LastUsed, ms since the epoch), dl (the absolute
// deadline, ms since the epoch), cid (client id) and sk (its subject's
// set). A handle is a string at key("rh", handle) holding its family's
// key. A subject's families are a set at key("rsub", subject). Keys read
// by the scripts through other keys share the deployment's hash tag
// (Config.Prefix), so the scripts work on Cluster. ep is the master
// replication id (the dataset epoch, see epochLua) under which the family
// was last written: a family whose ep is not the master's current one may
// have lost writes (a rotation, a revocation) in a failover, restart or
// flush, and is refused and revoked (see [RefreshStore]). tr is "1" when
// the family was last written by a store with
// RefreshConfig.TrustAppendFsyncAlways: only such a family of an earlier
// epoch can be trusted.
const revokeLua = `
local function revoke(fk)
  local h = redis.call('HMGET', fk, 'hk', 'sk')
  if h[1] then redis.call('DEL', h[1]) end
  if h[2] then redis.call('SREM', h[2], fk) end
  redis.call('DEL', fk)
end
`

// refreshEpochLua starts the refresh scripts: now, and the dataset epoch
// (epochLua) of the epoch key KEYS[#KEYS], with the replication id this
// process last saw and the quarantine (ms) the last two ARGV; it sets rid
// and untl.
const refreshEpochLua = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local epoch_key, epoch_seen, epoch_q = KEYS[#KEYS], ARGV[#ARGV - 1], ARGV[#ARGV]
` + epochLua

// findLua reads the family of the handle KEYS[1] for the token of
// generation ARGV[1] with secret hash ARGV[2]: it returns the family key
// and its fields, or a code: 0 unknown (or a future generation, or another
// secret, or an older generation than the family remembers), 1 a
// remembered older generation with its secret (a reuse). h[7] is the
// family's epoch, h[8] its trust mark ("1": last written under
// RefreshConfig.TrustAppendFsyncAlways).
var findLua = `
local reuse_gens = ` + strconv.Itoa(authserver.RefreshReuseGenerations) + `
local function find()
  local fk = redis.call('GET', KEYS[1])
  if not fk then return nil, 0 end
  local h = redis.call('HMGET', fk, 'f', 'gen', 'sh', 'last', 'dl', 'sk', 'ep', 'tr')
  if not h[1] then return nil, 0 end
  local g, cur = tonumber(ARGV[1]), tonumber(h[2])
  if not g or not cur or ARGV[2] == '' then return nil, 0 end
  if g < cur then
    if cur - g > reuse_gens or redis.call('HGET', fk, 'p' .. ARGV[1]) ~= ARGV[2] then return nil, 0 end
    return fk, 1
  end
  if g > cur or h[3] ~= ARGV[2] then return nil, 0 end
  return fk, 2, h
end
`

// trustLua follows refreshEpochLua (it reads its INFO replication, info)
// in the rotate and peek scripts, whose flag is "0" without
// RefreshConfig.TrustAppendFsyncAlways, else how long (ms) replication
// seen suspends it. seeReplication(flag), run first, sets the mark
// KEYS[#KEYS - 1] when the option is on and Redis shows replication: it
// is not a master, a replica is connected, or master_replid2 is not all
// zeros (this server is a replica promoted since it started: a failover,
// which may have lost acknowledged writes). trusted(flag) then answers
// whether a restart is taken for one that lost nothing: the option is
// on, this run saw no replication, the mark is not there (it is in the
// dataset, so a replica that copied it keeps the trust off after its
// promotion and its restart), and Redis runs with AOF (INFO persistence:
// aof_enabled:1; a Redis restarted without AOF loaded an RDB snapshot,
// or nothing, so its families may be older than the last rotation). A
// run that finds AOF off sets the mark too: AOF turned on afterwards
// (CONFIG SET appendonly yes) writes an AOF of that older dataset, whose
// families must stay untrusted. The mark and AOF are read once per run,
// only when a quarantine or a family's older epoch asks; otherwise the
// families get the quarantine and are refused, as without the option.
const trustLua = `
local replicated, trust_ok
local function seeReplication(flag)
  if flag == '0' then return end
  if not (string.match(info, 'role:master%s') and string.match(info, 'connected_slaves:0%s') and string.match(info, 'master_replid2:0+%s')) then
    redis.call('SET', KEYS[#KEYS - 1], '1', 'PX', flag)
    replicated = true
  end
end
local function trusted(flag)
  if flag == '0' or replicated then return false end
  if trust_ok == nil then
    trust_ok = redis.call('EXISTS', KEYS[#KEYS - 1]) == 0
    if trust_ok and not string.find(redis.call('INFO', 'persistence'), 'aof_enabled:1', 1, true) then
      redis.call('SET', KEYS[#KEYS - 1], '1', 'PX', flag)
      trust_ok = false
    end
  end
  return trust_ok
end
`

// refreshTrustOffKey is the key (after the prefix) of trustLua's mark.
const refreshTrustOffKey = "refresh:replicated"

var (
	// KEYS: family, handle, subject set, epoch. ARGV: family JSON,
	// LastUsed, client id, TTL ms, deadline ms, LastUsed ms, families per
	// subject, bytes per subject, secret hash, the trust flag (trustLua;
	// not "0": the family is marked tr, written under the trust), the
	// epoch this process saw, quarantine ms. Returns {1, rid} if the
	// family or the handle exists,
	// {0, rid} once saved (stamped with the epoch rid), or when this very
	// family is there, unrotated, with this handle and secret hash (a
	// retried send, see refreshRotate). At the subject's cap it first revokes
	// the subject's least recently used family of the same client, else of
	// the client holding the most of the subject's families
	// (authserver.RefreshLimits); members whose family expired are dropped
	// from the set on the way.
	refreshSave = redis.NewScript(revokeLua + refreshEpochLua + `
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then
  local x = redis.call('HMGET', KEYS[1], 'hk', 'sh', 'gen')
  if x[1] == KEYS[2] and x[2] == ARGV[9] and x[3] == '1' then return {0, rid} end
  return {1, rid}
end
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
redis.call('HSET', KEYS[1], 'f', ARGV[1], 'hk', KEYS[2], 'gen', 1, 'sh', ARGV[9], 'last', ARGV[2], 'cid', ARGV[3], 'sk', KEYS[3], 'dl', ARGV[5], 'lu', ARGV[6], 'ep', rid)
if ARGV[10] ~= '0' then redis.call('HSET', KEYS[1], 'tr', 1) end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('SET', KEYS[2], KEYS[1], 'PX', ARGV[4])
redis.call('SADD', KEYS[3], KEYS[1])
if redis.call('PTTL', KEYS[3]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[3], ARGV[4]) end
return {0, rid}
`)
	// KEYS: handle, trust mark, epoch. ARGV: generation, secret hash,
	// next secret hash, now (RFC 3339), now ms, idle lifetime ms, the
	// trust flag (trustLua; when trusted, TrustAppendFsyncAlways: no
	// quarantine, a family of an earlier epoch is taken to the current
	// one), the epoch this
	// process saw, quarantine ms. Returns {0, rid} unknown (a family of an
	// earlier epoch is revoked), {1, rid} reused (family revoked),
	// {2, rid, family JSON, LastUsed before}, {3, rid, ms left} in the
	// quarantine (nothing changed). A run that finds this very rotation
	// done (the family one generation on, its current secret hash the
	// next one: random, known only to the caller) answers {2, rid, family
	// JSON, LastUsed} again instead of a reuse: go-redis sends a command
	// again on a new connection after a read timeout (MaxRetries), and
	// the first send may have run meanwhile (Redis stalled past
	// ReadTimeout), which revoked the family of a legitimate refresh. The subject's set lives as long as
	// its longest-lived family, so RevokeSubject and the per-subject cap
	// see a family kept alive by rotations.
	refreshRotate = redis.NewScript(revokeLua + refreshEpochLua + findLua + trustLua + `
local trust = ARGV[7]
seeReplication(trust)
if now < untl and not trusted(trust) then return {3, rid, untl - now} end
local fk, code, h = find()
if code == 0 then return {0, rid} end
if code == 1 then
  local x = redis.call('HMGET', fk, 'gen', 'sh', 'f', 'last', 'ep', 'tr')
  if tonumber(x[1]) == tonumber(ARGV[1]) + 1 and x[2] == ARGV[3] and (x[5] == rid or (x[6] == '1' and trusted(trust))) then
    return {2, rid, x[3], x[4]}
  end
  revoke(fk)
  return {1, rid}
end
if h[7] ~= rid and not (h[8] == '1' and trusted(trust)) then
  revoke(fk)
  return {0, rid}
end
local ttl = math.min(tonumber(h[5]) - tonumber(ARGV[5]), tonumber(ARGV[6]))
if ttl < 1 then ttl = 1 end
local cur = tonumber(h[2])
redis.call('HSET', fk, 'gen', cur + 1, 'sh', ARGV[3], 'last', ARGV[4], 'lu', ARGV[5], 'p' .. ARGV[1], h[3], 'ep', rid)
if trust ~= '0' then redis.call('HSET', fk, 'tr', 1) else redis.call('HDEL', fk, 'tr') end
if cur > reuse_gens then redis.call('HDEL', fk, string.format('p%d', cur - reuse_gens)) end
redis.call('PEXPIRE', fk, ttl)
redis.call('PEXPIRE', KEYS[1], ttl)
if h[6] then
  redis.call('SADD', h[6], fk)
  if redis.call('PTTL', h[6]) < ttl then redis.call('PEXPIRE', h[6], ttl) end
end
return {2, rid, h[1], h[4]}
`)
	// KEYS: handle, trust mark, epoch. ARGV: generation, secret hash,
	// the trust flag (as refreshRotate), the epoch this process saw,
	// quarantine ms. Returns {0, rid} unknown (a family of an
	// earlier epoch included, which it revokes: no token of it can be
	// valid), {1, rid} a remembered older generation with its secret
	// (nothing revoked), {2, rid,
	// family JSON, LastUsed}, {3, rid, ms left} in the quarantine.
	refreshPeek = redis.NewScript(revokeLua + refreshEpochLua + findLua + trustLua + `
local trust = ARGV[3]
seeReplication(trust)
if now < untl and not trusted(trust) then return {3, rid, untl - now} end
local fk, code, h = find()
if code ~= 2 then return {code, rid} end
if h[7] ~= rid and not (h[8] == '1' and trusted(trust)) then
  revoke(fk)
  return {0, rid}
end
return {2, rid, h[1], h[4]}
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
	// Quarantine is how long Rotate and Peek answer a [*QuarantineError]
	// (503) after the store finds that the Redis dataset may have lost
	// writes, as ReplayConfig.Quarantine. The stores share the epoch key,
	// and whichever first sees a failover, restart or flush starts the
	// quarantine the others then keep, so give both the same value:
	// authserver.New refuses a refresh store whose quarantine is shorter
	// than its longest replay mark (Config.ReplayMarkLifetime) when the
	// replay store has one too. OPTIONAL; zero means DefaultQuarantine;
	// at most MaxQuarantine.
	Quarantine time.Duration
	// TrustAppendFsyncAlways trusts that Redis never loses a write it
	// acknowledged: one redis-server, without replicas that could be
	// promoted, run with appendonly yes and appendfsync always, so that a
	// restart reloads every rotation and revocation from its AOF. The
	// store then takes a new dataset epoch (the master's replication id,
	// which a restart changes) for a restart that lost nothing: refresh
	// families saved before it keep working, and Rotate and Peek are not
	// quarantined. OPTIONAL; default false: after any restart, failover or
	// flush every family saved before is refused and revoked (its user
	// logs in again), since which ones lost a write cannot be told.
	//
	// The store checks the parts of the promise Redis shows: a Redis that
	// runs without AOF (INFO persistence, aof_enabled:0) is not trusted,
	// as without the option; nor is one that shows replication (INFO
	// replication): not a master, a replica connected, or a promoted
	// replica (master_replid2, the replication id of the master it
	// followed, is not all zeros until it restarts). Once Rotate or Peek
	// sees replication, or AOF off after a restart, a mark in Redis keeps
	// the trust off for AbsoluteLifetime after the last time it was seen
	// (every family that was there then has expired by the end; AOF
	// turned on later, CONFIG SET appendonly yes, keeps the families an
	// RDB snapshot revived, so it does not lift it); the mark is copied to
	// replicas, so a failover to one and a restart of the promoted server
	// keep the trust off. A failover is not seen when no Rotate or Peek
	// ran between a replica's attaching and the promoted server's restart
	// (it then looks like a restart): with the option, run no replica at
	// all. The store cannot check the rest. If that is false (appendfsync
	// everysec or no, a restart from an RDB snapshot or a backup, a
	// failover not seen, an AOF truncated by a crash), the families
	// come back as they were at the last write Redis kept: a refresh
	// token rotated away since becomes current again, so one stolen
	// before that rotation can be redeemed (the reuse that should revoke
	// the family goes unnoticed), and a family revoked since (a logout,
	// RevokeSubject, a detected reuse) works again until it expires.
	//
	// The trust covers only the families last written (saved or
	// rotated) with the option on: the checks and the mark run only then,
	// and a family written without it may have crossed a failover,
	// restart or flush that no store with the option saw (the store
	// without it refuses such a family only when it is presented). A
	// family of an earlier epoch written without the option is refused
	// and revoked, as without the option: turning the option on costs the
	// users of families not rotated since one login after the next
	// restart.
	TrustAppendFsyncAlways bool
}

// RefreshStore is an [authserver.RefreshStore] on Redis, shared by every
// authorization server replica. Rotate is one Lua script: of concurrent
// rotations of one token on any replicas exactly one wins, and a token of
// one of the authserver.RefreshReuseGenerations generations before its
// family's current one, presented with its secret, revokes the whole
// family for all of them (with another secret it is only unknown). Redis
// holds the family's current generation and the SHA-256 of its secret and
// of those earlier generations' secrets, never a token. Families
// expire in Redis after their idle or absolute lifetime, so Redis holds
// only live families, and at most RefreshConfig.Limits per subject, so
// one user cannot grow Redis without bound (size it with maxmemory and
// noeviction, as for the replay store: an eviction would forget a family
// early, which only refuses its token). Errors wrap core.ErrStoreUnavailable; the server then
// answers 503 and issues nothing.
//
// A Redis failover, a restart or a flush can lose the last writes: a
// rotation, which would make a rotated-away token current again (reuse
// undetected), or a revocation. Each family therefore records the
// master's replication id (the dataset epoch of [ReplayStore]) under
// which it was last written, and a family of an earlier epoch is refused
// (ErrRefreshUnknown, invalid_grant: its user logs in again) and revoked:
// after any such event every refresh token issued before it stops
// working, which is the only safe answer, since which families lost a
// write cannot be told. Meanwhile, for the quarantine that the event
// starts, Rotate and Peek answer a [*QuarantineError] (503), as one-time
// uses do. [RefreshConfig.TrustAppendFsyncAlways] takes a restart of a
// Redis that loses no acknowledged write for one that lost nothing.
type RefreshStore struct {
	base
	idle, abs  time.Duration
	limits     authserver.RefreshLimits
	quarantine time.Duration
	epoch      epochMemo
	// trust is "0", or with RefreshConfig.TrustAppendFsyncAlways the
	// absolute lifetime in ms, for which replication seen suspends it: the
	// rotate and peek scripts then ignore the quarantine and the family's
	// epoch when trustLua's trusted says so.
	trust string
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
	if cfg.Quarantine < 0 || cfg.Quarantine > MaxQuarantine {
		return nil, fmt.Errorf("%w: Quarantine must be between 0 and %v", ErrInvalidConfig, MaxQuarantine)
	}
	s := &RefreshStore{base: b, idle: cfg.IdleLifetime, abs: cfg.AbsoluteLifetime, limits: limits,
		quarantine: cmp.Or(cfg.Quarantine, DefaultQuarantine), trust: "0"}
	if s.idle == 0 {
		s.idle = authserver.DefaultRefreshIdleLifetime
	}
	if s.abs == 0 {
		s.abs = authserver.DefaultRefreshAbsoluteLifetime
	}
	if cfg.TrustAppendFsyncAlways {
		s.trust = strconv.FormatInt(ms(s.abs), 10)
	}
	return s, nil
}

var errFamilyExists = errors.New("redisstore: refresh family exists")

// Quarantine implements authserver/replay.Quarantiner:
// RefreshConfig.Quarantine or its default, which authserver.New checks as
// it checks the replay store's.
func (s *RefreshStore) Quarantine() time.Duration { return s.quarantine }

// Save implements [authserver.RefreshStore]. Saving again the very token
// that is saved (same handle and secret hash, not rotated since) succeeds
// instead of reporting a saved family: only a resend of this call can do
// that (see refreshSave).
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
	res, err := refreshSave.Run(ctx, s.c, []string{fk, s.key("rh", t.Handle), s.key("rsub", f.Subject), s.prefix + epochKey},
		js, lastText, f.ClientID, ms(ttl), deadline.UnixMilli(), last.UnixMilli(),
		s.limits.FamiliesPerSubject, s.limits.BytesPerSubject, t.SecretHash, s.trust, s.epoch.get(), ms(s.quarantine)).Slice()
	if err != nil {
		return unavailable("refresh save script", err)
	}
	code, err := s.epochReply("refresh save script", res, 2)
	switch {
	case err != nil:
		return err
	case code == 1:
		return errFamilyExists
	case code != 0:
		return unavailable("refresh save script", fmt.Errorf("reply code %d", code))
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
	res, err := refreshRotate.Run(ctx, s.c, []string{s.key("rh", t.Handle), s.prefix + refreshTrustOffKey, s.prefix + epochKey},
		strconv.FormatUint(t.Generation, 10), t.SecretHash, nextSecretHash, nowText, now.UnixMilli(), ms(s.idle),
		s.trust, s.epoch.get(), ms(s.quarantine)).Slice()
	if err != nil {
		return authserver.RefreshFamily{}, unavailable("refresh rotate script", err)
	}
	return s.familyReply("refresh rotate script", res)
}

// Peek implements [authserver.RefreshStore]: one read-only script.
func (s *RefreshStore) Peek(ctx context.Context, t authserver.RefreshToken) (authserver.RefreshFamily, error) {
	if t.Handle == "" || t.Generation == 0 {
		return authserver.RefreshFamily{}, authserver.ErrRefreshUnknown
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	res, err := refreshPeek.Run(ctx, s.c, []string{s.key("rh", t.Handle), s.prefix + refreshTrustOffKey, s.prefix + epochKey},
		strconv.FormatUint(t.Generation, 10), t.SecretHash, s.trust, s.epoch.get(), ms(s.quarantine)).Slice()
	if err != nil {
		return authserver.RefreshFamily{}, unavailable("refresh peek script", err)
	}
	return s.familyReply("refresh peek script", res)
}

// epochReply checks a refresh script's reply {code, rid, ...} of at least
// n values, remembers rid and returns code.
func (s *RefreshStore) epochReply(op string, res []any, n int) (int64, error) {
	if len(res) < n || len(res) < 2 {
		return 0, unavailable(op, fmt.Errorf("reply of %d values", len(res)))
	}
	code, _ := res[0].(int64)
	rid, _ := res[1].(string)
	s.epoch.set(rid)
	return code, nil
}

// familyReply decodes {0, rid} (unknown), {1, rid} (reused),
// {2, rid, family JSON, LastUsed} or {3, rid, ms left} (quarantine).
func (s *RefreshStore) familyReply(op string, res []any) (authserver.RefreshFamily, error) {
	code, err := s.epochReply(op, res, 2)
	switch {
	case err != nil:
		return authserver.RefreshFamily{}, err
	case code == 0:
		return authserver.RefreshFamily{}, authserver.ErrRefreshUnknown
	case code == 1:
		return authserver.RefreshFamily{}, authserver.ErrRefreshReused
	case code == 3 && len(res) == 3:
		left, _ := res[2].(int64)
		return authserver.RefreshFamily{}, quarantined(left)
	case code != 2 || len(res) != 4:
		return authserver.RefreshFamily{}, unavailable(op, fmt.Errorf("reply code %d with %d values", code, len(res)))
	}
	js, _ := res[2].(string)
	lastText, _ := res[3].(string)
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
