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

// TestRefreshTrustNotAfterPromotion: RefreshConfig.TrustAppendFsyncAlways
// took a failover to a promoted replica, which may have missed
// acknowledged writes, for a restart that lost nothing: a family saved on
// the old master refreshed on the promoted replica at once, with no
// quarantine. Two real redis-servers with appendfsync always: a replica
// copies the master, is promoted with REPLICAOF NO ONE, and the trusted
// store's Rotate there sees master_replid2 (set by the promotion): the
// quarantine, then the family is unknown (revoked), as without the
// option. The promoted server is then restarted (master_replid2 is all
// zeros again): the mark the first Rotate left in its AOF keeps the trust
// off, so another family of the old master is refused too.
func TestRefreshTrustNotAfterPromotion(t *testing.T) {
	t.Parallel()
	aofArgs := func(port int, dir string) []string {
		return []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
			"--save", "", "--appendonly", "yes", "--appendfsync", "always",
			"--maxmemory", "256mb", "--maxmemory-policy", "noeviction", "--loglevel", "warning"}
	}
	master := redisproc.Start(t, redisproc.Options{
		Dir:  filepath.Join(t.TempDir(), "master"),
		Args: func(port int, dir string) ([]string, error) { return aofArgs(port, dir), nil },
	})
	promoted := false // a replica until REPLICAOF NO ONE, then a master across its restart
	replica := redisproc.Start(t, redisproc.Options{
		Dir: filepath.Join(t.TempDir(), "replica"),
		Args: func(port int, dir string) ([]string, error) {
			if promoted {
				return aofArgs(port, dir), nil
			}
			return append(aofArgs(port, dir), "--replicaof", "127.0.0.1", strconv.Itoa(master.Port())), nil
		},
	})
	client := func(addr string) *redis.Client {
		o, err := ClientOptions("redis://" + addr + "/0")
		if err != nil {
			t.Fatal(err)
		}
		c := redis.NewClient(o)
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	const quarantine = 300 * time.Millisecond
	store := func(c *redis.Client) *RefreshStore {
		s, err := NewRefreshStore(RefreshConfig{Config: Config{Client: c, Prefix: "{promoted}:", Timeout: 3 * time.Second},
			Quarantine: quarantine, TrustAppendFsyncAlways: true})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ctx := context.Background()
	mc, rc := client(master.Addr()), client(replica.Addr())
	ms := store(mc)
	now := time.Now()
	for _, id := range []string{"f1", "f2"} {
		f := authserver.RefreshFamily{ID: id, ClientID: "app", Subject: "alice", Created: now, LastUsed: now}
		if err := ms.Save(ctx, rtok(id, 1), f); err != nil {
			t.Fatal(err)
		}
	}
	// The replica has both families (and the epoch key) before its promotion.
	want, err := mc.DBSize(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		info, err := rc.Info(ctx, "replication").Result()
		n, derr := rc.DBSize(ctx).Result()
		if err == nil && derr == nil && strings.Contains(info, "master_link_status:up") && n == want {
			break
		}
		if i == 500 {
			t.Fatalf("replica not in sync after 10 s: %d of %d keys, %v %v", n, want, err, derr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := rc.Do(ctx, "REPLICAOF", "NO", "ONE").Err(); err != nil {
		t.Fatal(err)
	}
	promoted = true
	master.Stop()
	rs := store(rc)
	refused := func(id string, gen uint64) {
		t.Helper()
		_, err := rs.Rotate(ctx, rtok(id, gen), rsec(id, gen+1), time.Now())
		var qe *QuarantineError
		if !errors.As(err, &qe) {
			t.Fatalf("%s: refresh right after the epoch changed: %v, want a QuarantineError", id, err)
		}
		time.Sleep(time.Until(qe.Until) + 20*time.Millisecond)
		if _, err := rs.Rotate(ctx, rtok(id, gen), rsec(id, gen+1), time.Now()); !errors.Is(err, authserver.ErrRefreshUnknown) {
			t.Fatalf("%s: refresh after the quarantine: %v, want ErrRefreshUnknown (log in again)", id, err)
		}
	}
	refused("f1", 1)
	replica.Stop()
	replica.Restart()
	reconnected(t, rc)
	if info, err := rc.Info(ctx, "replication").Result(); err != nil || !strings.Contains(info, "master_replid2:0000000000000000000000000000000000000000") {
		t.Fatalf("after the restart: %v, %q: want master_replid2 all zeros", err, info)
	}
	refused("f2", 1)
}
