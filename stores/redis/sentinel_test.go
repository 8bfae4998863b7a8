package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/stores/redis/internal/redisha"
)

// TestFileSentinelFailover: an authorization server whose stores come
// from a stores: section naming sentinels (with and without the rueidis
// Sender) issues tokens through the master they name. Client assertions
// are redeemed concurrently (each fresh one twice at once, earlier ones
// again) while the sentinels switch the master over (SENTINEL FAILOVER),
// and then while the new master is killed (SIGKILL) and the old one
// promoted back: the writes not yet replicated are lost each time, the
// promoted master's new replication id starts the quarantine, and no
// assertion is ever accepted twice. Answers are 200, 401 or 503 only, and
// grants succeed again after the quarantine without a restart.
func TestFileSentinelFailover(t *testing.T) {
	for _, sender := range []bool{false, true} {
		name := "go-redis"
		if sender {
			name = "sender"
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := redisha.Start(t)
			addrs := []any{s.Sentinels[0], s.Sentinels[1]}
			opts := map[string]any{"sentinel": map[string]any{"master": redisha.Master, "addrs": addrs}, "timeout": "500ms", "prefix": "{sentinel}:"}
			failoverServerConfig(opts, sentinelQuarantine)
			if sender {
				opts["sender"] = SenderRueidis
			}
			c, gs := fileASWith(t, opts, func(cfg *authserver.Config) {
				cfg.MaxAssertionLifetime, cfg.Leeway, cfg.ReplayClockSkew = failLife, time.Millisecond, time.Millisecond
			})
			if (gs.sender != nil) != sender {
				t.Fatalf("sender %v, want %v", gs.sender != nil, sender)
			}
			r := startRedemptions(t, c, 2)
			if res := r.redeem(c.assertionFor(t, failLife), "first"); res.status != 200 {
				t.Fatalf("through the sentinels' master: %+v", res)
			}
			// The master holds the grant's keys (the store talks to it, not
			// to the replica).
			if keys, err := s.Client(s.Nodes[0]).Keys(ctx, "{sentinel}:*").Result(); err != nil || len(keys) == 0 {
				t.Fatalf("no keys on the master: %v %v", keys, err)
			}

			r.waitAccepted(20)
			start := time.Now()
			newMaster := s.Failover(ctx)
			if newMaster != s.Nodes[1] {
				t.Fatalf("new master %s, want the replica %s", newMaster, s.Nodes[1])
			}
			switched := time.Since(start)
			back := waitGrants(t, c, gs)
			checkQuarantined(t, s.Client(newMaster), gs.prefix+epochKey)
			t.Logf("SENTINEL FAILOVER %v after the redemptions began: switched after %v, grants again %v after the switch",
				start.Sub(r.start).Round(time.Millisecond), switched.Round(time.Millisecond), back.Round(time.Millisecond))

			// The old master, now the replica, in sync; then the master
			// crashes and the sentinels promote the old one back.
			s.WaitReplica(s.Nodes[0])
			r.waitAccepted(20)
			start = time.Now()
			s.Kill(newMaster)
			promoted := s.WaitNewMaster(newMaster)
			switched = time.Since(start)
			back = waitGrants(t, c, gs)
			checkQuarantined(t, s.Client(promoted), gs.prefix+epochKey)
			t.Logf("master killed %v after the redemptions began: promoted %s after %v, grants again %v after the promotion",
				start.Sub(r.start).Round(time.Millisecond), promoted, switched.Round(time.Millisecond), back.Round(time.Millisecond))
			r.waitAccepted(20)
			r.check()
		})
	}
}
