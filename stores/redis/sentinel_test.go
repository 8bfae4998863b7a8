package redisstore

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/stores/redis/internal/redisha"
)

// TestFileSentinelFailover: an authorization server whose stores come
// from a stores: section naming sentinels (with and without the rueidis
// Sender) issues tokens through the master they name; during a SENTINEL
// FAILOVER grants answer 200 or 503, never anything else, a used client
// assertion is never accepted again, and grants succeed on the new master
// without a restart.
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
			if sender {
				opts["sender"] = SenderRueidis
			}
			c, gs := fileAS(t, opts)
			if (gs.sender != nil) != sender {
				t.Fatalf("sender %v, want %v", gs.sender != nil, sender)
			}
			hc := httpFrom("127.0.0.1")
			accepted := map[string]bool{}
			grant := func(a string) result {
				t.Helper()
				r := c.token(t, hc, assertionForm(a), false)
				if r.status == 200 {
					if accepted[a] {
						t.Fatal("a client assertion was accepted twice")
					}
					accepted[a] = true
				}
				return r
			}
			used := c.assertion(t)
			if r := grant(used); r.status != 200 {
				t.Fatalf("through the sentinels' master: %+v", r)
			}
			// The master holds the grant's keys (the store talks to it, not to
			// the replica); and the replica has them before the failover.
			master := s.Client(s.Nodes[0])
			if keys, err := master.Keys(ctx, "{sentinel}:*").Result(); err != nil || len(keys) == 0 {
				t.Fatalf("no keys on the master: %v %v", keys, err)
			}
			if err := master.Do(ctx, "WAIT", 1, 2000).Err(); err != nil {
				t.Fatal(err)
			}

			// Grants run while the sentinels switch the master over.
			var mu sync.Mutex
			counts := map[string]int{}
			var during []string // assertions accepted while the master switched
			stop, stopped := make(chan struct{}), make(chan struct{})
			var once sync.Once
			halt := func() { once.Do(func() { close(stop); <-stopped }) }
			defer halt() // also when the test fails below
			go func() {
				defer close(stopped)
				for {
					select {
					case <-stop:
						return
					default:
					}
					replay := c.token(t, hc, assertionForm(used), false)
					fa := c.assertion(t)
					fresh := c.token(t, hc, assertionForm(fa), false)
					mu.Lock()
					if fresh.status == 200 {
						during = append(during, fa)
					}
					counts["replay "+strconv.Itoa(replay.status)]++
					counts["fresh "+strconv.Itoa(fresh.status)]++
					mu.Unlock()
					if replay.status != 401 && replay.status != 503 {
						t.Errorf("replay during the failover: %+v, want 401 or 503", replay)
					}
					if fresh.status != 200 && fresh.status != 503 {
						t.Errorf("grant during the failover: %+v, want 200 or 503", fresh)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}()
			start := time.Now()
			newMaster := s.Failover(ctx)
			if newMaster != s.Nodes[1] {
				t.Fatalf("new master %s, want the replica %s", newMaster, s.Nodes[1])
			}
			switched := time.Since(start)
			deadline := time.Now().Add(20 * time.Second)
			for {
				r := grant(c.assertion(t))
				if r.status == 200 {
					break
				}
				if r.status != 503 || time.Now().After(deadline) {
					t.Fatalf("%v after the failover: %+v", time.Since(start), r)
				}
				time.Sleep(50 * time.Millisecond)
			}
			halt()
			t.Logf("sentinels switched after %v, a grant succeeded %v after SENTINEL FAILOVER; answers meanwhile %v",
				switched.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), counts)
			// Measured, not asserted: Redis replicates asynchronously, so the
			// writes the old master took between the promotion and its own
			// demotion are lost, and the same epoch does not trigger the
			// quarantine (docs/deployment.md, "A failover can lose the last
			// grants' identifiers").
			again := 0
			for _, a := range during {
				if r := c.token(t, hc, assertionForm(a), false); r.status == 200 {
					again++
				}
			}
			t.Logf("assertions accepted during the switch and accepted again after it: %d of %d", again, len(during))
			for range 5 {
				if r := grant(c.assertion(t)); r.status != 200 {
					t.Fatalf("after the failover: %+v", r)
				}
			}
			if r := grant(used); r.status != 401 {
				t.Fatalf("replay after the failover: %+v, want 401", r)
			}
			if keys, err := s.Client(newMaster).Keys(ctx, "{sentinel}:jti:*").Result(); err != nil || len(keys) < 6 {
				t.Fatalf("jti keys on the new master: %d %v", len(keys), err)
			}
		})
	}
}
