package postgres_test

import (
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
	"github.com/mcpauthz/mcpauthz/stores/postgres"
	"github.com/mcpauthz/mcpauthz/stores/postgres/pgtest"
)

func seed(t *testing.T, src *postgres.Source, rules ...[]string) {
	t.Helper()
	for _, r := range rules {
		if err := src.Adapter().AddPolicy(r[0], r[0], r[1:]); err != nil {
			t.Fatal(err)
		}
	}
}

// After PostgreSQL restarts, the source's pooled connections are dead; the
// first reload (the one the watcher asks for when it listens again) must
// get through on a fresh connection instead of failing and silently
// keeping the old policy until the next change.
func TestPostgresRestartFirstReloadSucceeds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := pgtest.Start(t)
	mdl, err := casbinmodels.Model("rbac_roles")
	if err != nil {
		t.Fatal(err)
	}
	src, err := postgres.NewSource(postgres.SourceConfig{DSN: pg.DSN(), Model: mdl, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Close() })
	seed(t, src, []string{"p", "role:deployer", "tool:deploy_*", "call", "allow"}, []string{"g", "user:alice", "role:deployer"})
	a, err := casbinauthz.New(casbinauthz.Config{Model: mdl, Source: src, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 { // keep pooled connections
		if err := a.Reload(ctx); err != nil {
			t.Fatal(err)
		}
	}
	old := a.Digest()
	pg.Stop()
	pg.Start()
	// A writer on its own connection changes the policy after the restart.
	db, err := sql.Open("pgx", pg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "INSERT INTO casbin_rule (ptype, v0, v1) VALUES ('g', 'user:bob', 'role:deployer')"); err != nil {
		t.Fatal(err)
	}
	if err := a.Reload(ctx); err != nil {
		t.Fatalf("first reload after the restart: %v", err)
	}
	if a.Digest() == old {
		t.Fatal("first reload after the restart kept the old policy")
	}
	if d, err := a.Authorize(ctx, user("bob"), tool("deploy_web")); err != nil || !d.Allow {
		t.Fatalf("bob after the restart: %+v %v", d, err)
	}
}

// A slow PostgreSQL (the policy table locked by another session) makes the
// reload fail within the source's timeout; decisions continue on the last
// good policy, and the next reload after the lock is released applies the
// change.
func TestSlowPostgresKeepsLastGood(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := pgtest.Start(t)
	mdl, err := casbinmodels.Model("rbac_roles")
	if err != nil {
		t.Fatal(err)
	}
	const timeout = 500 * time.Millisecond
	src, err := postgres.NewSource(postgres.SourceConfig{DSN: pg.DSN(), Model: mdl, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Close() })
	seed(t, src, []string{"p", "role:deployer", "tool:deploy_*", "call", "allow"}, []string{"g", "user:alice", "role:deployer"})
	logs := &testkit.Buffer{}
	a, err := casbinauthz.New(casbinauthz.Config{Model: mdl, Source: src, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	good := a.Digest()
	db, err := sql.Open("pgx", pg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, "INSERT INTO casbin_rule (ptype, v0, v1) VALUES ('g', 'user:bob', 'role:deployer')"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "LOCK TABLE casbin_rule IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		start := time.Now()
		err := a.Reload(ctx)
		took := time.Since(start)
		if err == nil {
			t.Fatalf("reload %d against a locked table succeeded", i)
		}
		if took > 4*timeout {
			t.Fatalf("reload %d took %v, timeout %v", i, took, timeout)
		}
		if a.Digest() != good {
			t.Fatal("slow PostgreSQL replaced the last good policy")
		}
		for _, who := range []string{"alice", "bob"} {
			d, err := a.Authorize(ctx, user(who), tool("deploy_web"))
			if err != nil || d.Allow != (who == "alice") {
				t.Fatalf("%s while PostgreSQL is slow: %+v %v", who, d, err)
			}
		}
	}
	if st := a.Stats(); st.ReloadErrors < 3 || st.LastError == "" {
		t.Fatalf("stats while slow: %+v", st)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := a.Reload(ctx); err != nil {
		t.Fatalf("reload once PostgreSQL answers: %v", err)
	}
	if d, _ := a.Authorize(ctx, user("bob"), tool("deploy_web")); !d.Allow || a.Digest() == good {
		t.Fatal("change not applied once PostgreSQL answers")
	}
	if strings.Contains(logs.String(), "password") {
		t.Fatal("a DSN secret reached the log")
	}
}
