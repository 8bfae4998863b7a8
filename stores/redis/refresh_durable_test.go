package redisstore

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/stores/redis/internal/redisproc"
	"github.com/redis/go-redis/v9"
)

// TestRefreshTrustAppendFsyncAlways: a redis-server with appendonly yes
// and appendfsync always is killed (SIGKILL) and started again from its
// AOF. Every family is still there, but the master's replication id is
// new: a store without RefreshConfig.TrustAppendFsyncAlways refuses (and
// revokes) the families saved before, so their users log in again; with
// it the refresh still works, with no quarantine, and the token rotated
// away before the restart is still a reuse.
func TestRefreshTrustAppendFsyncAlways(t *testing.T) {
	t.Parallel()
	yes := "yes"
	p, c := durableRedis(t, &yes)
	ctx := context.Background()
	const quarantine = 300 * time.Millisecond
	stores := map[string]*RefreshStore{"trusted": durableStore(t, c, "{durable-trust}:", quarantine, true),
		"default": durableStore(t, c, "{durable-default}:", quarantine, false)}
	now := time.Now()
	for name, s := range stores {
		f := authserver.RefreshFamily{ID: name, ClientID: "app", Subject: "alice", Created: now, LastUsed: now}
		if err := s.Save(ctx, rtok(name, 1), f); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Rotate(ctx, rtok(name, 1), rsec(name, 2), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	before := replID(t, c)
	p.Stop()
	p.Restart()
	reconnected(t, c)
	if after := replID(t, c); after == before {
		t.Fatalf("master_replid %s kept across the restart: the test does not exercise a new epoch", after)
	}
	if n, err := c.DBSize(ctx).Result(); err != nil || n == 0 {
		t.Fatalf("%d keys after the restart (%v): the AOF was not loaded", n, err)
	}
	if _, err := stores["trusted"].Rotate(ctx, rtok("trusted", 2), rsec("trusted", 3), time.Now()); err != nil {
		t.Fatalf("trusted: refresh right after the restart: %v", err)
	}
	if _, err := stores["trusted"].Rotate(ctx, rtok("trusted", 1), rsec("trusted", 4), time.Now()); !errors.Is(err, authserver.ErrRefreshReused) {
		t.Fatalf("trusted: the token rotated away before the restart: %v, want a reuse", err)
	}
	// Without the option: the quarantine, then the family is unknown.
	_, err := stores["default"].Rotate(ctx, rtok("default", 2), rsec("default", 3), time.Now())
	var qe *QuarantineError
	if !errors.As(err, &qe) {
		t.Fatalf("default: refresh right after the restart: %v, want a QuarantineError", err)
	}
	time.Sleep(time.Until(qe.Until) + 20*time.Millisecond)
	if _, err := stores["default"].Rotate(ctx, rtok("default", 2), rsec("default", 3), time.Now()); !errors.Is(err, authserver.ErrRefreshUnknown) {
		t.Fatalf("default: refresh after the quarantine: %v, want ErrRefreshUnknown (log in again)", err)
	}
}

// replID is the master's replication id (INFO replication).
func replID(t *testing.T, c *redis.Client) string {
	t.Helper()
	v, err := c.Info(context.Background(), "replication").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(v, "\n") {
		if id, ok := strings.CutPrefix(strings.TrimSpace(l), "master_replid:"); ok {
			return id
		}
	}
	t.Fatal("no master_replid in INFO replication")
	return ""
}

// TestRefreshTrustNeedsAOF: RefreshConfig.TrustAppendFsyncAlways is not
// honoured by a Redis that runs without AOF: the redis-server above is
// restarted with appendonly no (its configuration lost at 3 a.m.) and
// loads an RDB snapshot taken one rotation earlier, so the family is back
// one generation, and the token rotated away since is current again. The
// trusted store treats that restart as the default store does (the
// quarantine, then the family is unknown), instead of taking the stale
// family, and its revived token, as they are.
func TestRefreshTrustNeedsAOF(t *testing.T) {
	t.Parallel()
	aof := "yes"
	p, c := durableRedis(t, &aof)
	ctx := context.Background()
	const quarantine = 300 * time.Millisecond
	s := durableStore(t, c, "{durable-noaof}:", quarantine, true)
	rotateAcrossSnapshot(t, s, c)
	p.Stop()
	aof = "no"
	p.Restart()
	reconnected(t, c)
	if n, err := c.DBSize(ctx).Result(); err != nil || n == 0 {
		t.Fatalf("%d keys after the restart (%v): the snapshot was not loaded", n, err)
	}
	_, err := s.Rotate(ctx, rtok("f", 2), rsec("f", 4), time.Now())
	var qe *QuarantineError
	if !errors.As(err, &qe) {
		t.Fatalf("the token rotated away before the restart, after a restart without AOF: %v, want a QuarantineError", err)
	}
	time.Sleep(time.Until(qe.Until) + 20*time.Millisecond)
	if _, err := s.Rotate(ctx, rtok("f", 2), rsec("f", 4), time.Now()); !errors.Is(err, authserver.ErrRefreshUnknown) {
		t.Fatalf("after the quarantine: %v, want ErrRefreshUnknown (log in again)", err)
	}
}

// TestRefreshTrustNotAfterAOFTurnedOn: a Redis restarted without AOF
// loads an RDB snapshot (TestRefreshTrustNeedsAOF), and turning AOF on
// afterwards (CONFIG SET appendonly yes, the operator's fix) makes it
// write an AOF of that older dataset: the families the snapshot revived
// must stay untrusted. A run that finds AOF off sets the mark, as one
// that sees replication does, so the family whose rotated-away token was
// presented during the quarantine is still refused once AOF is on.
func TestRefreshTrustNotAfterAOFTurnedOn(t *testing.T) {
	t.Parallel()
	aof := "yes"
	p, c := durableRedis(t, &aof)
	ctx := context.Background()
	const quarantine = 2 * time.Second // the first two Rotates below fall in it on a loaded machine too
	s := durableStore(t, c, "{durable-aofon}:", quarantine, true)
	rotateAcrossSnapshot(t, s, c)
	p.Stop()
	aof = "no"
	p.Restart()
	reconnected(t, c)
	var qe *QuarantineError
	if _, err := s.Rotate(ctx, rtok("f", 2), rsec("f", 4), time.Now()); !errors.As(err, &qe) {
		t.Fatalf("after a restart without AOF: %v, want a QuarantineError", err)
	}
	if err := c.ConfigSet(ctx, "appendonly", "yes").Err(); err != nil {
		t.Fatal(err)
	}
	if info := c.Info(ctx, "persistence").Val(); !strings.Contains(info, "aof_enabled:1") {
		t.Fatalf("AOF not on after CONFIG SET: %s", info)
	}
	// In the quarantine, or (a slow machine) past it with the family
	// revoked: either way the revived token is refused.
	_, err := s.Rotate(ctx, rtok("f", 2), rsec("f", 4), time.Now())
	if !errors.As(err, &qe) && !errors.Is(err, authserver.ErrRefreshUnknown) {
		t.Fatalf("the token rotated away before the restart, once AOF is on again: %v, want a QuarantineError or ErrRefreshUnknown", err)
	}
	time.Sleep(time.Until(qe.Until) + 20*time.Millisecond)
	if _, err := s.Rotate(ctx, rtok("f", 2), rsec("f", 4), time.Now()); !errors.Is(err, authserver.ErrRefreshUnknown) {
		t.Fatalf("after the quarantine: %v, want ErrRefreshUnknown (log in again)", err)
	}
}

// TestRefreshTrustOnlyFamiliesWrittenWithIt: a family written by a store
// without TrustAppendFsyncAlways may cross a restart that lost a rotation
// (here: appendonly no, an RDB snapshot one rotation old) with no store
// with the option seeing it; AOF on and the option turned on afterwards
// took it as it was, and the token whose rotation the restart lost
// rotated. The trust covers only the families written with it.
func TestRefreshTrustOnlyFamiliesWrittenWithIt(t *testing.T) {
	t.Parallel()
	aof := "no"
	p, c := durableRedis(t, &aof)
	ctx := context.Background()
	store := func(trust bool) *RefreshStore {
		return durableStore(t, c, "{durable-later}:", 300*time.Millisecond, trust)
	}
	off := store(false)
	rotateAcrossSnapshot(t, off, c)
	p.Stop()
	p.Restart()
	reconnected(t, c)
	if n, err := c.DBSize(ctx).Result(); err != nil || n == 0 {
		t.Fatalf("%d keys after the restart (%v): the snapshot was not loaded", n, err)
	}
	if err := c.ConfigSet(ctx, "appendonly", "yes").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := store(true).Rotate(ctx, rtok("f", 2), rsec("f", 4), time.Now()); !errors.Is(err, authserver.ErrRefreshUnknown) {
		t.Fatalf("the token whose rotation the restart lost, with the option turned on since: %v, want ErrRefreshUnknown", err)
	}
}

// durableRedis starts a redis-server with appendfsync always and
// appendonly *aof, read at every start (a test sets it before Restart),
// and returns it with a client closed at the test's end.
func durableRedis(t *testing.T, aof *string) (*redisproc.Proc, *redis.Client) {
	t.Helper()
	p := redisproc.Start(t, redisproc.Options{
		Dir: filepath.Join(t.TempDir(), "redis"),
		Args: func(port int, dir string) ([]string, error) {
			return []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
				"--save", "", "--appendonly", *aof, "--appendfsync", "always",
				"--maxmemory", "256mb", "--maxmemory-policy", "noeviction", "--loglevel", "warning"}, nil
		},
	})
	o, err := ClientOptions("redis://" + p.Addr() + "/0")
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	return p, c
}

// rotateAcrossSnapshot saves family "f" with s, rotates it to generation
// 2, has Redis write an RDB snapshot (SAVE) and rotates it to 3: a
// restart that loads the snapshot revives generation 2's token.
func rotateAcrossSnapshot(t *testing.T, s *RefreshStore, c *redis.Client) {
	t.Helper()
	ctx, now := context.Background(), time.Now()
	if err := s.Save(ctx, rtok("f", 1), authserver.RefreshFamily{ID: "f", ClientID: "app", Subject: "alice", Created: now, LastUsed: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rotate(ctx, rtok("f", 1), rsec("f", 2), time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rotate(ctx, rtok("f", 2), rsec("f", 3), time.Now()); err != nil {
		t.Fatal(err)
	}
}

// durableStore is a RefreshStore on c under prefix with quarantine q and
// TrustAppendFsyncAlways trust.
func durableStore(t *testing.T, c *redis.Client, prefix string, q time.Duration, trust bool) *RefreshStore {
	t.Helper()
	s, err := NewRefreshStore(RefreshConfig{Config: Config{Client: c, Prefix: prefix, Timeout: 3 * time.Second},
		Quarantine: q, TrustAppendFsyncAlways: trust})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
