package redisstore

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/stores/redis/internal/redisha"
)

// TestFileRedisCluster: the authorization server's stores and the Guard's
// session bindings from a stores: section naming a Redis Cluster work
// (the keys of one deployment share the prefix's hash slot, so the
// multi-key scripts run); a client assertion is accepted once; the node
// owning the slot stopped turns grants into 503 within the operation
// timeout, never a replay accepted. sender: rueidis is refused with
// cluster.
func TestFileRedisCluster(t *testing.T) {
	ctx := context.Background()
	rc := redisha.StartCluster(t)
	addrs := make([]any, len(rc.Addrs))
	for i, a := range rc.Addrs {
		addrs[i] = a
	}
	opts := map[string]any{"cluster": map[string]any{"addrs": addrs}, "prefix": "{cl-file}:", "timeout": "1s"}
	c, gs := fileAS(t, opts)
	hc := httpFrom("127.0.0.1")
	used := c.assertion(t)
	if r := c.token(t, hc, assertionForm(used), false); r.status != 200 {
		t.Fatalf("grant on the cluster: %+v", r)
	}
	if r := c.token(t, hc, assertionForm(used), false); r.status != 401 {
		t.Fatalf("replay on the cluster: %+v, want 401", r)
	}
	var sessions core.Config
	closer, err := GuardSessions(ctx, opts, &sessions)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	sb := sessions.Sessions.(*SessionBindings)
	if err := sb.Bind(ctx, "sid-1", "alice", time.Minute, 4); err != nil {
		t.Fatalf("session binding on the cluster (a multi-key script): %v", err)
	}
	if p, err := sb.Lookup(ctx, "sid-1"); err != nil || p != "alice" {
		t.Fatalf("lookup: %q %v", p, err)
	}

	// The node that owns the prefix's slot.
	owner := ""
	for _, a := range rc.Addrs {
		if n, err := rc.Client(a).Exists(ctx, gs.prefix+epochKey).Result(); err == nil && n == 1 {
			owner = a
		}
	}
	if owner == "" {
		t.Fatal("no node holds the epoch key")
	}
	rc.StopNode(owner)
	for range 3 {
		start := time.Now()
		if r := c.token(t, hc, assertionForm(used), false); r.status != 503 {
			t.Fatalf("replay with the slot's node down: %+v, want 503", r)
		}
		if r := c.token(t, hc, assertionForm(c.assertion(t)), false); r.status != 503 {
			t.Fatalf("grant with the slot's node down: %+v, want 503", r)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("two 503s took %v (timeout 1s each, so about 2 s at most; the rest is slack for a loaded machine)", d)
		}
	}

	opts["sender"] = SenderRueidis
	if _, err := AuthServerStores(ctx, opts, &authserver.Config{}); err == nil || !strings.Contains(err.Error(), "sender: not available with cluster") {
		t.Fatalf("sender with cluster: %v", err)
	}
}

// TestFileRedisClusterFailover: with a Redis Cluster whose masters have a
// replica each, client assertions are redeemed concurrently while the
// master owning the deployment's slot is killed (SIGKILL) and its replica
// promoted: the promoted master's new replication id starts the
// quarantine, no assertion is ever accepted twice, answers are 200, 401
// or 503 only, and grants succeed again after the quarantine without a
// restart.
func TestFileRedisClusterFailover(t *testing.T) {
	ctx := context.Background()
	rc := redisha.StartClusterWithReplicas(t)
	addrs := make([]any, len(rc.Addrs))
	for i, a := range rc.Addrs {
		addrs[i] = a
	}
	opts := map[string]any{"cluster": map[string]any{"addrs": addrs}, "prefix": "{cl-fail}:", "timeout": "1s"}
	failoverServerConfig(opts, failQuarantine)
	c, gs := fileASWith(t, opts, func(cfg *authserver.Config) {
		cfg.MaxAssertionLifetime, cfg.Leeway, cfg.ReplayClockSkew = failLife, time.Millisecond, time.Millisecond
	})
	r := startRedemptions(t, c, 2)
	if res := r.redeem(c.assertionFor(t, failLife), "first"); res.status != 200 {
		t.Fatalf("grant on the cluster: %+v", res)
	}
	owner := ""
	for _, a := range rc.Addrs {
		role, err := rc.Client(a).Do(ctx, "ROLE").Slice()
		if err != nil || len(role) == 0 || role[0] != "master" {
			continue
		}
		if n, err := rc.Client(a).Exists(ctx, gs.prefix+epochKey).Result(); err == nil && n == 1 {
			owner = a
		}
	}
	if owner == "" {
		t.Fatal("no master holds the epoch key")
	}
	replica := rc.ReplicaOf(ctx, owner)
	if replica == "" {
		t.Fatalf("the slot's master %s has no replica", owner)
	}
	r.waitAccepted(20)
	start := time.Now()
	rc.StopNode(owner)
	rc.WaitPromoted(replica)
	promoted := time.Since(start)
	back := waitGrants(t, c, gs)
	checkQuarantined(t, rc.Client(replica), gs.prefix+epochKey)
	t.Logf("slot's master killed: replica promoted after %v, grants again %v after the promotion", promoted.Round(time.Millisecond), back.Round(time.Millisecond))
	r.waitAccepted(20)
	r.check()
}
