package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
	"github.com/mcpauthz/mcpauthz/stores/postgres"
	"github.com/mcpauthz/mcpauthz/stores/postgres/pgtest"
)

func user(sub string, groups ...string) *core.Principal {
	return &core.Principal{Kind: core.PrincipalUser, Issuer: "https://issuer.example.com", Subject: sub, Groups: groups}
}

func tool(name string) core.Permission {
	return core.Permission{Kind: core.ObjectTool, Name: name, Action: core.ActionCall, Method: "tools/call"}
}

type replica struct {
	a   *casbinauthz.Authorizer
	src *postgres.Source
	w   *postgres.Watcher
}

func (r *replica) allowed(t *testing.T, p *core.Principal, name string) bool {
	t.Helper()
	d, err := r.a.Authorize(context.Background(), p, tool(name))
	if err != nil {
		t.Fatal(err)
	}
	return d.Allow
}

func newReplica(t *testing.T, dsn, mdl string) *replica {
	t.Helper()
	a, src, w := pgtest.NewWatchedAuthorizer(t, dsn, mdl)
	return &replica{a: a, src: src, w: w}
}

// waitAll waits until cond holds on every replica and they report one
// digest; it returns how long that took.
func waitAll(t *testing.T, reps []*replica, limit time.Duration, what string, cond func(*replica) bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		ok := true
		for _, r := range reps {
			if !cond(r) || r.a.Digest() != reps[0].a.Digest() {
				ok = false
				break
			}
		}
		if ok {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			var ds []string
			for _, r := range reps {
				ds = append(ds, r.a.Digest()[:12]+" "+r.a.Stats().LastError)
			}
			t.Fatalf("%s: not reached within %v: %v", what, limit, ds)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPolicyInPostgres proves the policy-in-database path end to end with
// Casbin's gorm-adapter on a real PostgreSQL: a writer (a casbin.Enforcer on
// the same table) changes the policy and calls Update; three replicas apply
// it within 1 s with identical digests. A broken policy written to the
// table keeps the last good one everywhere. PostgreSQL stopped: reloads
// fail within the load timeout, decisions continue on the last good policy;
// PostgreSQL back: the watchers reconnect and changes flow again.
func TestPolicyInPostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := pgtest.Start(t)
	mdl, err := casbinmodels.Model("rbac_roles")
	if err != nil {
		t.Fatal(err)
	}

	// The writer: stock Casbin with the gorm-adapter, seeding the table.
	wsrc, err := postgres.NewSource(postgres.SourceConfig{DSN: pg.DSN(), Model: mdl})
	if err != nil {
		t.Fatal(err)
	}
	defer wsrc.Close()
	m, err := model.NewModelFromString(mdl)
	if err != nil {
		t.Fatal(err)
	}
	writer, err := casbin.NewEnforcer(m, wsrc.Adapter())
	if err != nil {
		t.Fatal(err)
	}
	mustDo := func(ok bool, err error) {
		t.Helper()
		if err != nil || !ok {
			t.Fatalf("writer: %t %v", ok, err)
		}
	}
	mustDo(writer.AddPolicy("role:deployer", "tool:deploy_*", "call", "allow"))
	mustDo(writer.AddGroupingPolicy("group:eng", "role:deployer"))
	mustDo(writer.AddGroupingPolicy("user:alice", "group:eng"))
	ww, err := postgres.NewWatcher(postgres.WatcherConfig{DSN: pg.DSN()})
	if err != nil {
		t.Fatal(err)
	}
	defer ww.Close()

	reps := []*replica{newReplica(t, pg.DSN(), mdl), newReplica(t, pg.DSN(), mdl), newReplica(t, pg.DSN(), mdl)}
	waitAll(t, reps, time.Second, "initial policy", func(r *replica) bool { return r.allowed(t, user("alice"), "deploy_web") })
	for _, r := range reps {
		if r.allowed(t, user("bob"), "deploy_web") {
			t.Fatal("bob allowed before the change")
		}
		ok, err := writer.Enforce("user:alice", "tool:deploy_web", "call")
		if err != nil || !ok {
			t.Fatalf("stock Casbin disagrees: %t %v", ok, err)
		}
	}

	// 1. A change reaches every replica within 1 s.
	var worst time.Duration
	for i := range 5 {
		who := fmt.Sprintf("user:u%d", i)
		mustDo(writer.AddGroupingPolicy(who, "role:deployer"))
		if err := ww.Update(); err != nil {
			t.Fatal(err)
		}
		limit := time.Second
		if raceEnabled {
			limit = 3 * time.Second
		}
		took := waitAll(t, reps, limit, "change "+who, func(r *replica) bool {
			return r.allowed(t, user(strings.TrimPrefix(who, "user:")), "deploy_x")
		})
		worst = max(worst, took)
	}
	t.Logf("slowest propagation to 3 replicas: %v", worst)
	good := reps[0].a.Digest()

	// 2. Broken policy in the table: invalid glob, then an unknown policy
	// type. The last good policy stays on every replica.
	for _, bad := range [][]string{{"p", "role:deployer", "tool:[", "call", "allow"}, {"p7", "x", "y", "z", "allow"}} {
		errs := reps[0].a.Stats().ReloadErrors
		if err := wsrc.Adapter().AddPolicy(bad[0][:1], bad[0], bad[1:]); err != nil {
			t.Fatal(err)
		}
		if err := ww.Update(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(2 * time.Second)
		for reps[0].a.Stats().ReloadErrors == errs {
			if time.Now().After(deadline) {
				t.Fatal("the broken policy was not even tried")
			}
			time.Sleep(5 * time.Millisecond)
		}
		for _, r := range reps {
			if r.a.Digest() != good || !r.allowed(t, user("alice"), "deploy_web") {
				t.Fatalf("broken row %v replaced the last good policy", bad)
			}
		}
		if err := wsrc.Adapter().RemovePolicy(bad[0][:1], bad[0], bad[1:]); err != nil {
			t.Fatal(err)
		}
	}
	if err := ww.Update(); err != nil {
		t.Fatal(err)
	}
	waitAll(t, reps, time.Second, "recovery from the broken rows", func(r *replica) bool { return r.a.Stats().LastError == "" })

	// 3. PostgreSQL stopped: the last good policy is kept, reloads fail
	// fast, decisions continue.
	pg.Stop()
	for _, r := range reps {
		start := time.Now()
		err := r.a.Reload(ctx)
		if !errors.Is(err, casbinauthz.ErrReload) || !errors.Is(err, casbinauthz.ErrStore) {
			t.Fatalf("Reload with PostgreSQL down: %v", err)
		}
		if took := time.Since(start); took > 3*time.Second {
			t.Fatalf("Reload with PostgreSQL down took %v", took)
		}
		if r.a.Digest() != good || !r.allowed(t, user("alice"), "deploy_web") || r.allowed(t, user("bob"), "deploy_web") {
			t.Fatal("last good policy not kept while PostgreSQL is down")
		}
	}

	// 4. PostgreSQL back: a change written now reaches every replica.
	pg.Start()
	waitAll(t, reps, 5*time.Second, "reconnect", func(r *replica) bool { return r.a.Stats().LastError == "" })
	deadline := time.Now().Add(10 * time.Second)
	for { // the writer's pooled connections died with the server: retry
		ok, err := writer.AddGroupingPolicy("user:bob", "role:deployer")
		if err == nil && ok {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("writer after the restart: %t %v", ok, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for { // the writer's watcher may still be reconnecting its Update connection
		if err := ww.Update(); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitAll(t, reps, time.Second, "change after the outage", func(r *replica) bool { return r.allowed(t, user("bob"), "deploy_web") })
}

// TestWatcherConcurrentClose: callbacks racing Close never run after it.
func TestWatcherConcurrentClose(t *testing.T) {
	t.Parallel()
	pg := pgtest.Start(t)
	w, err := postgres.NewWatcher(postgres.WatcherConfig{DSN: pg.DSN()})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := 0
	if err := w.SetUpdateCallback(func(string) { mu.Lock(); got++; mu.Unlock() }); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := w.Update(); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		n := got
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no notification received")
		}
		time.Sleep(20 * time.Millisecond)
	}
	w.Close()
	mu.Lock()
	n := got
	mu.Unlock()
	_ = w.Update()
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if got != n {
		t.Fatal("callback ran after Close")
	}
}

// TestReplicaStartsWhilePostgresDown: a replica started while PostgreSQL
// is down fails without a last-good file; with the file another replica
// wrote it starts degraded (not ready, deciding with the last good
// policy), and converges to the database's policy, ready, once PostgreSQL
// is back and a change is announced.
func TestReplicaStartsWhilePostgresDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := pgtest.Start(t)
	mdl, err := casbinmodels.Model("rbac_roles")
	if err != nil {
		t.Fatal(err)
	}
	wsrc, err := postgres.NewSource(postgres.SourceConfig{DSN: pg.DSN(), Model: mdl})
	if err != nil {
		t.Fatal(err)
	}
	defer wsrc.Close()
	for _, r := range [][]string{{"p", "role:deployer", "tool:deploy_*", "call", "allow"}, {"g", "user:alice", "role:deployer"}} {
		if err := wsrc.Adapter().AddPolicy(r[0], r[0], r[1:]); err != nil {
			t.Fatal(err)
		}
	}
	lastGood := filepath.Join(t.TempDir(), "policy.lastgood")
	start := func(withFile bool) (*casbinauthz.Authorizer, *postgres.Source, error) {
		// A refused connection fails in milliseconds; the timeout is for a
		// loaded machine.
		src, err := postgres.NewSource(postgres.SourceConfig{DSN: pg.DSN(), Model: mdl, Timeout: 5 * time.Second})
		if err != nil {
			return nil, nil, err
		}
		t.Cleanup(func() { _ = src.Close() })
		cfg := casbinauthz.Config{Model: mdl, Source: src, Logger: slog.New(slog.DiscardHandler), PollInterval: 100 * time.Millisecond}
		if withFile {
			cfg.LastGoodPath = lastGood
		}
		a, err := casbinauthz.New(cfg)
		return a, src, err
	}
	first, _, err := start(true)
	if err != nil {
		t.Fatal(err)
	}
	good := first.Digest()

	pg.Stop()
	if _, _, err := start(false); !errors.Is(err, casbinauthz.ErrStore) {
		t.Fatalf("replica without a last-good file while PostgreSQL is down: %v", err)
	}
	a, _, err := start(true)
	if err != nil {
		t.Fatalf("replica with the last-good file while PostgreSQL is down: %v", err)
	}
	if a.Digest() != good || a.Stats().Degraded == "" {
		t.Fatalf("booted: digest %s want %s, stats %+v", a.Digest(), good, a.Stats())
	}
	if err := a.Ready(ctx); !errors.Is(err, core.ErrUnavailable) {
		t.Fatalf("Ready while degraded: %v", err)
	}
	d, err := a.Authorize(ctx, user("alice"), tool("deploy_web"))
	if err != nil || !d.Allow {
		t.Fatalf("last good policy not in force: %+v %v", d, err)
	}
	w, err := postgres.NewWatcher(postgres.WatcherConfig{DSN: pg.DSN(), Timeout: time.Second, BackoffMax: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := a.SetWatcher(w); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	watching := make(chan struct{})
	go func() { _ = a.Watch(wctx); close(watching) }()
	defer func() { cancel(); <-watching }()

	// PostgreSQL back with a change: the replica converges and is ready.
	pg.Start()
	deadline := time.Now().Add(15 * time.Second)
	for { // the writer's pooled connections died with the server: retry
		err := wsrc.Adapter().AddPolicy("g", "g", []string{"user:bob", "role:deployer"})
		if err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("writer after the restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for {
		d, err := a.Authorize(ctx, user("bob"), tool("deploy_web"))
		if err != nil {
			t.Fatal(err)
		}
		if d.Allow && a.Ready(ctx) == nil && a.Stats().Degraded == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not converged after PostgreSQL returned: %+v", a.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The first replica's pooled connections died with the server too: its
	// first reload may fail once (SQLSTATE 57P01), as its poll would retry.
	for {
		err := first.Reload(ctx)
		if err == nil && first.Digest() == a.Digest() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replicas disagree after the outage: %s vs %s (%v)", first.Digest(), a.Digest(), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
