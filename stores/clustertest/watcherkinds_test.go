package clustertest

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/casbin/casbin/v2/persist"
	"github.com/redis/go-redis/v9"

	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
	"github.com/mcpauthz/mcpauthz/stores/postgres"
	"github.com/mcpauthz/mcpauthz/stores/postgres/pgtest"
	redisstore "github.com/mcpauthz/mcpauthz/stores/redis"
	"github.com/mcpauthz/mcpauthz/stores/redis/redistest"
)

// TestPolicyWatcherKinds: with the policy in PostgreSQL, both change
// notifiers — Redis pub/sub (stores/redis Watcher) and PostgreSQL
// LISTEN/NOTIFY (stores/postgres Watcher) — bring a change written by stock
// Casbin to 3 replicas within 1 s (3 s under -race), and the replicas then
// report one policy digest.
func TestPolicyWatcherKinds(t *testing.T) {
	mdl, err := casbinmodels.Model("rbac_roles")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		watch func(t *testing.T, rs *redistest.Server, dsn string) persist.Watcher
	}{
		{"redis pub/sub", func(t *testing.T, rs *redistest.Server, _ string) persist.Watcher {
			o, err := redisstore.ClientOptions(rs.URL())
			if err != nil {
				t.Fatal(err)
			}
			w, err := redisstore.NewWatcher(context.Background(), redisstore.Config{Client: redisClient(t, o)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(w.Close)
			return w
		}},
		{"postgres LISTEN/NOTIFY", func(t *testing.T, _ *redistest.Server, dsn string) persist.Watcher {
			w, err := postgres.NewWatcher(postgres.WatcherConfig{DSN: dsn, Timeout: time.Second, BackoffMax: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(w.Close)
			return w
		}},
	}
	limit := time.Second
	if raceEnabled {
		limit = 3 * time.Second
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := redistest.Start(t)
			pg := pgtest.Start(t)
			wsrc, err := postgres.NewSource(postgres.SourceConfig{DSN: pg.DSN(), Model: mdl})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = wsrc.Close() })
			if err := wsrc.Adapter().AddPolicy("p", "p", []string{"role:ops", "tool:deploy_*", "call", "allow"}); err != nil {
				t.Fatal(err)
			}
			var reps []*casbinauthz.Authorizer
			for range replicas {
				src, err := postgres.NewSource(postgres.SourceConfig{DSN: pg.DSN(), Model: mdl, Timeout: time.Second})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = src.Close() })
				a, err := casbinauthz.New(casbinauthz.Config{Model: mdl, Source: src, Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					t.Fatal(err)
				}
				if err := a.SetWatcher(tt.watch(t, rs, pg.DSN())); err != nil {
					t.Fatal(err)
				}
				reps = append(reps, a)
			}
			notifier := tt.watch(t, rs, pg.DSN())
			var fastest, slowest time.Duration
			for i := range 5 {
				who := fmt.Sprintf("u%d", i)
				if err := wsrc.Adapter().AddPolicy("g", "g", []string{"user:" + who, "role:ops"}); err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				if err := notifier.Update(); err != nil {
					t.Fatal(err)
				}
				took := waitReplicas(t, reps, who, limit, start)
				if i == 0 || took < fastest {
					fastest = took
				}
				slowest = max(slowest, took)
			}
			t.Logf("%s: a change reached 3 replicas with one digest in %v .. %v", tt.name, fastest, slowest)
		})
	}
}

func redisClient(t *testing.T, o *redis.Options) *redis.Client {
	t.Helper()
	c := redis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// waitReplicas waits until every replica allows user who to call
// deploy_web and all report one digest; it returns the time since start.
func waitReplicas(t *testing.T, reps []*casbinauthz.Authorizer, who string, limit time.Duration, start time.Time) time.Duration {
	t.Helper()
	p := &core.Principal{Kind: core.PrincipalUser, Issuer: "https://issuer.example.com", Subject: who}
	perm := core.Permission{Kind: core.ObjectTool, Name: "deploy_web", Action: core.ActionCall, Method: "tools/call"}
	for {
		ok := true
		for _, a := range reps {
			d, err := a.Authorize(context.Background(), p, perm)
			if err != nil {
				t.Fatal(err)
			}
			if !d.Allow || a.Digest() != reps[0].Digest() {
				ok = false
				break
			}
		}
		if ok {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("user %s not allowed on every replica with one digest within %v", who, limit)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
