package redisstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver/replay"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
)

// DefaultQuarantine is the default ReplayConfig.Quarantine: longer than
// the longest replay mark of the authserver's defaults with a broker
// (authserver.Config.ReplayMarkLifetime: a login step's mark, LoginLifetime
// 10 min + Leeway 30 s + 2 × ReplayClockSkew 30 s = 11 min 30 s), with
// 30 s to spare for an old master that still takes writes after a
// failover. Without a broker the longest mark is an assertion's, 6 min
// 30 s (MaxAssertionLifetime 5 min + 2 × Leeway + ReplayClockSkew): a
// server without one may set 7 min and refuse one-time uses for 5 min
// less after each failover or restart.
const DefaultQuarantine = 12 * time.Minute

// MaxQuarantine bounds ReplayConfig.Quarantine.
const MaxQuarantine = time.Hour

// epochKey is the key (after the prefix) that holds the dataset epoch.
const epochKey = "epoch:replid"

// epochLua checks the dataset epoch; it is the first part of the consume,
// grant and refresh scripts, which define before it now (Redis TIME, ms),
// epoch_key (the epoch key), epoch_seen (the replication id this process
// last saw, "" if none) and epoch_q (the quarantine in ms). The epoch key holds
// "<master_replid>:<quarantined until, ms>", no TTL: the replication id of
// the master (INFO replication) that last wrote it. A master gets a new
// replication id when it is promoted (Sentinel or Cluster failover) and
// whenever it restarts (empty, from an old RDB snapshot, or from AOF:
// even a clean shutdown with every key kept, which cannot be told apart
// from a crash that lost the last writes), which are the events that can
// lose recorded identifiers: the last SET NX marks not yet replicated, or
// written after the snapshot. When the id differs from the
// key's, or the key is gone while this process had seen one (data flushed,
// or restarted empty), every use is refused until the quarantine has
// passed, by when every identifier accepted before has expired. It sets
// rid and untl.
const epochLua = `
local info = redis.call('INFO', 'replication')
local rid = string.match(info, 'master_replid:(%x+)')
if not rid then return redis.error_reply('ERR mcpauthz: no master_replid in INFO replication') end
local untl = 0
local e = redis.call('GET', epoch_key)
if not e then
  if epoch_seen ~= '' then untl = now + tonumber(epoch_q) end
  redis.call('SET', epoch_key, rid .. ':' .. string.format('%.0f', untl))
else
  local x, z = string.match(e, '^(%x+):(%d+)$')
  if not x then return redis.error_reply('ERR mcpauthz: malformed epoch') end
  untl = tonumber(z)
  if x ~= rid then
    untl = math.max(untl, now + tonumber(epoch_q))
    redis.call('SET', epoch_key, rid .. ':' .. string.format('%.0f', untl))
  end
end
`

// consume records one jti. KEYS: the epoch key, the jti key. ARGV: the
// replication id this process last saw, the quarantine in ms, TTL ms,
// "1" to only check the epoch (Ready), the call's token (markTokens),
// which the mark holds. Returns {1, rid, 0} when recorded (or recorded
// by this very call, sent again), {0, rid, 0} for a replay, {2, rid, ms left} in quarantine; learning
// only, {3, rid, ms of quarantine left}. (See epochLua.)
var consume = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local epoch_key, epoch_seen, epoch_q = KEYS[1], ARGV[1], ARGV[2]
` + epochLua + `
if ARGV[4] == '1' then return {3, rid, math.max(untl - now, 0)} end
if now < untl then return {2, rid, untl - now} end
if redis.call('SET', KEYS[2], ARGV[5], 'NX', 'PX', ARGV[3]) then return {1, rid, 0} end
if ARGV[5] ~= '' and redis.call('GET', KEYS[2]) == ARGV[5] then return {1, rid, 0} end
return {0, rid, 0}
`)

// ErrQuarantine is wrapped (through a [*QuarantineError]) by the errors of
// the replay and grant stores while they refuse one-time uses after the
// Redis dataset changed under them (see [ReplayConfig.Quarantine]).
var ErrQuarantine = errors.New("redisstore: one-time uses quarantined after a Redis failover, restart or data loss")

// QuarantineError is the error of a one-time use (ID-JAG, client
// assertion, authorization code) refused during the quarantine, and of
// Ready meanwhile. It wraps [ErrQuarantine] and core.ErrStoreUnavailable,
// so the authorization server answers 503.
type QuarantineError struct {
	// Until is when the quarantine ends, by this host's clock.
	Until time.Time
}

func (e *QuarantineError) Error() string {
	return fmt.Sprintf("%v: %v until %s", core.ErrStoreUnavailable, ErrQuarantine, e.Until.UTC().Format(time.RFC3339))
}

// Unwrap returns ErrQuarantine and core.ErrStoreUnavailable.
func (e *QuarantineError) Unwrap() []error { return []error{ErrQuarantine, core.ErrStoreUnavailable} }

func quarantined(leftMS int64) error {
	return &QuarantineError{Until: time.Now().Add(time.Duration(leftMS) * time.Millisecond)}
}

// ReplayConfig configures [NewReplayStore].
type ReplayConfig struct {
	Config
	// Quarantine is how long every one-time use (ID-JAG, client
	// assertion, authorization code) is refused after the store finds that
	// the Redis dataset may have lost identifiers: the master's replication
	// id changed (Sentinel or Cluster failover, any restart of the master,
	// a planned one with AOF included) or the epoch key is gone (data
	// flushed). It must be at least the authorization server's
	// authserver.Config.ReplayMarkLifetime (MaxAssertionLifetime +
	// 2 × Leeway + ReplayClockSkew, or with a broker LoginLifetime +
	// Leeway + 2 × ReplayClockSkew if longer), the longest a mark lives:
	// authserver.New refuses a store with a shorter one
	// ([ReplayStore.Quarantine]). Other traffic
	// (rate limits, client_credentials with a secret) is not affected.
	// OPTIONAL; zero means DefaultQuarantine (12 min); at most
	// MaxQuarantine (1 h). The Redis user needs the INFO command (ACL
	// +info).
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
// A Redis failover, a restart (from an old snapshot or empty) or a flush
// can lose recorded identifiers; the store detects them by the master's
// replication id (see [ReplayConfig.Quarantine]) and then fails closed for
// one-time uses until every identifier accepted before could have expired.
// The one case it cannot detect is a flush or an empty restart seen first
// by a process that never saw the dataset before (the epoch key is gone
// and nothing remembers it): run Redis with persistence or replicas.
type ReplayStore struct {
	base
	quarantine time.Duration
	epoch      epochMemo
	marks      markTokens
}

// markTokens names each call's marks: a random prefix per store and a
// counter, unique among the calls of every replica. A mark holds its
// call's token, so that the call sent again (go-redis resends a command
// on a new connection after a read timeout, and when Redis only stalled
// the first send has run too) finds its own mark and is not taken for a
// replay; any other call, a replay included, finds another token.
type markTokens struct {
	prefix string
	n      atomic.Uint64
}

// next returns a new call's token.
func (m *markTokens) next() string {
	if m.prefix == "" {
		return "" // a zero store: New sets the prefix
	}
	return m.prefix + strconv.FormatUint(m.n.Add(1), 36)
}

// callKey is the key that keeps the answer of the call named token, so
// that the call sent again returns it instead of charging its limits a
// second time (the grant and GCRA scripts). It lives for the store's
// Timeout: go-redis sends again only within it, and Redis runs both sends
// when it resumes.
func (b base) callKey(token string) string { return b.prefix + "call:" + token }

// newMarkTokens returns tokens with a fresh random prefix.
func newMarkTokens() markTokens {
	return markTokens{prefix: rand.Text()[:16] + ":"}
}

// epochMemo is the dataset epoch (master replication id) a store last saw,
// which its scripts compare with the epoch key (see epochLua).
type epochMemo struct {
	mu  sync.Mutex
	rid string
}

func (m *epochMemo) get() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rid
}

// set remembers rid unless it is empty.
func (m *epochMemo) set(rid string) {
	if rid == "" {
		return
	}
	m.mu.Lock()
	m.rid = rid
	m.mu.Unlock()
}

var (
	_ replay.Store       = (*ReplayStore)(nil)
	_ replay.Quarantiner = (*ReplayStore)(nil)
)

// NewReplayStore returns a ReplayStore. It reads (or creates) the dataset
// epoch within Config.Timeout so that a later data loss is detected; when
// Redis is unreachable it does not fail, and learns the epoch on the first
// successful call instead.
func NewReplayStore(ctx context.Context, cfg ReplayConfig) (*ReplayStore, error) {
	b, err := newBase(cfg.Config)
	if err != nil {
		return nil, err
	}
	if cfg.Quarantine < 0 || cfg.Quarantine > MaxQuarantine {
		return nil, fmt.Errorf("%w: Quarantine must be between 0 and %v", ErrInvalidConfig, MaxQuarantine)
	}
	q := cfg.Quarantine
	if q == 0 {
		q = DefaultQuarantine
	}
	s := &ReplayStore{base: b, quarantine: q, marks: newMarkTokens()}
	if _, _, err := s.run(ctx, "", 0, true); err != nil {
		s.log.Warn("redisstore: replay store cannot read the dataset epoch yet", "error", err)
	}
	return s, nil
}

// Quarantine implements [replay.Quarantiner]: how long one-time uses are
// refused after a failover, restart or data loss (ReplayConfig.Quarantine
// or its default).
func (s *ReplayStore) Quarantine() time.Duration { return s.quarantine }

// CheckAndStore implements [replay.Store]. The key expires at exp (rounded
// up to the millisecond). A key with exp not in the future is accepted
// without being stored, as replay.Memory does. Errors wrap replay.ErrReplay,
// replay.ErrInvalidKey or core.ErrStoreUnavailable (Redis unreachable, slow,
// or a [*QuarantineError] after a failover, restart or data loss).
func (s *ReplayStore) CheckAndStore(ctx context.Context, key string, exp time.Time) error {
	if key == "" || len(key) > replay.DefaultMaxKeyLength {
		return fmt.Errorf("%w: length %d", replay.ErrInvalidKey, len(key))
	}
	ttl := time.Until(exp)
	if ttl <= 0 {
		return nil
	}
	code, left, err := s.run(ctx, key, ttl, false)
	if err != nil {
		return err
	}
	switch code {
	case 1:
		return nil
	case 0:
		return replay.ErrReplay
	case 2:
		return quarantined(left)
	}
	return unavailable("replay script", fmt.Errorf("reply code %d", code))
}

// Ready implements core.ReadinessChecker: Redis answers within
// Config.Timeout and one-time uses are not quarantined (a failover,
// restart or data loss, which this call detects as a grant would). During
// the quarantine it returns a [*QuarantineError] naming its end.
func (s *ReplayStore) Ready(ctx context.Context) error {
	_, left, err := s.run(ctx, "", 0, true)
	if err != nil {
		return err
	}
	if left > 0 {
		return quarantined(left)
	}
	return nil
}

// run executes the consume script (learn: only read or create the epoch)
// and remembers the epoch it reports. It returns the reply code and its
// third value.
func (s *ReplayStore) run(ctx context.Context, key string, ttl time.Duration, learn bool) (int64, int64, error) {
	known := s.epoch.get()
	flag := "0"
	if learn {
		flag = "1"
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	res, err := consume.Run(ctx, s.c, []string{s.prefix + epochKey, s.key("jti", key)},
		known, ms(s.quarantine), ms(ttl)+1, flag, s.marks.next()).Slice()
	if err != nil {
		return 0, 0, unavailable("replay script", err)
	}
	if len(res) != 3 {
		return 0, 0, unavailable("replay script", fmt.Errorf("reply of %d values", len(res)))
	}
	code, _ := res[0].(int64)
	left, _ := res[2].(int64)
	epoch, _ := res[1].(string)
	s.epoch.set(epoch)
	return code, left, nil
}
