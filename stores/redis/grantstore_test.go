package redisstore

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/authserver/replay"
	"github.com/mcpauthz/mcpauthz/core"
)

// RunGrantSteps gives the answers of the same steps made one by one through
// the Limiter and the ReplayStore (which share its keys), stops at the
// first refusal, and fails closed.
// Each case runs through RunGrantSteps and through SendGrantSteps with a
// Sender (the script written, the answer read later), which must agree.
func TestGrantSteps(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"run", "send"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			testGrantSteps(t, mode == "send")
		})
	}
}

func testGrantSteps(t *testing.T, send bool) {
	srv := startRedis(t)
	cfg := Config{Client: srv.client(t)}
	ctx := context.Background()
	rcfg := ReplayConfig{Config: cfg, Quarantine: 700 * time.Millisecond}
	if send {
		rcfg.Sender = srv.sender(t)
	}
	g, err := NewGrantStore(ctx, rcfg)
	if err != nil {
		t.Fatal(err)
	}
	run := g.RunGrantSteps
	if send {
		run = func(ctx context.Context, steps []authserver.GrantStep) (authserver.GrantStepsResult, error) {
			return g.SendGrantSteps(ctx, steps)()
		}
	}
	exp := time.Now().Add(time.Minute)
	one := authserver.Limit{PerSecond: 0.01, Burst: 1}
	big := authserver.Limit{PerSecond: 100, Burst: 100}
	slow := authserver.Limit{PerSecond: 0.01, Burst: 100} // room left, not idle for 100 s after one event
	fail := func(pair, global string, l, gl authserver.Limit) authserver.GrantStep {
		return authserver.GrantStep{Kind: authserver.StepCheckFailures, Key: pair, Limit: l, GlobalKey: global, GlobalLimit: gl}
	}
	charge := func(k string, l authserver.Limit) authserver.GrantStep {
		return authserver.GrantStep{Kind: authserver.StepCharge, Key: k, Limit: l}
	}
	consume := func(k string, exp time.Time) authserver.GrantStep {
		return authserver.GrantStep{Kind: authserver.StepConsume, Key: k, Exp: exp}
	}
	// State set up through the separate interfaces: a pair with one failure
	// (not idle, room left), an empty global failure bucket, a used jti.
	if _, err := g.Allow(ctx, "authfail|c|used", slow); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Allow(ctx, "authfail|c|spent", one); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Allow(ctx, "global-empty", one); err != nil {
		t.Fatal(err)
	}
	if err := g.CheckAndStore(ctx, "idjag|i|used", exp); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		steps   []authserver.GrantStep
		refused int
		retry   bool
	}{
		{"all pass", []authserver.GrantStep{fail("authfail|c|a", "global", big, big), charge("grant|a", big), consume("idjag|i|a", exp)}, -1, false},
		{"pair spent", []authserver.GrantStep{fail("authfail|c|spent", "global", one, big), charge("grant|b", slow)}, 0, true},
		{"idle pair passes an empty global", []authserver.GrantStep{fail("authfail|c|clean", "global-empty", big, one)}, -1, false},
		{"recent failure and empty global", []authserver.GrantStep{fail("authfail|c|used", "global-empty", slow, one)}, 0, true},
		{"charge over the limit", []authserver.GrantStep{charge("grant|c", one), charge("grant|c", one), consume("idjag|i|c", exp)}, 1, true},
		{"replay (set up one by one)", []authserver.GrantStep{charge("grant|d", slow), consume("idjag|i|used", exp)}, 1, false},
		{"replay within the batch", []authserver.GrantStep{consume("x|dup", exp), consume("x|dup", exp)}, 1, false},
		{"expired identifier is not recorded", []authserver.GrantStep{consume("idjag|i|old", time.Now().Add(-time.Second)), consume("idjag|i|old", time.Now().Add(-time.Second))}, -1, false},
	}
	for _, tc := range tests {
		res, err := run(ctx, tc.steps)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if res.Refused != tc.refused || (res.RetryAfter > 0) != tc.retry {
			t.Errorf("%s: %+v, want refused %d retry %v", tc.name, res, tc.refused, tc.retry)
		}
	}
	// Steps after a refusal were not run; steps before it were.
	if err := g.CheckAndStore(ctx, "idjag|i|c", exp); err != nil {
		t.Errorf("identifier after a refused charge was recorded: %v", err)
	}
	if err := g.CheckAndStore(ctx, "idjag|i|a", exp); !errors.Is(err, replay.ErrReplay) {
		t.Errorf("identifier of a passed batch: %v, want a replay", err)
	}
	if d, _ := g.Peek(ctx, "grant|b", slow); !d.Idle {
		t.Error("charge after a refused failure check was made")
	}
	if d, _ := g.Peek(ctx, "grant|d", slow); d.Idle {
		t.Error("charge before a replay was not made")
	}
	for name, steps := range map[string][]authserver.GrantStep{
		"empty key":  {consume("", exp)},
		"bad limit":  {charge("k", authserver.Limit{})},
		"bad kind":   {{Kind: 9, Key: "k"}},
		"bad global": {fail("k", "g", big, authserver.Limit{PerSecond: 1})},
	} {
		if _, err := run(ctx, steps); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := run(ctx, []authserver.GrantStep{consume("", exp)}); !errors.Is(err, replay.ErrInvalidKey) {
		t.Errorf("empty key: %v", err)
	}

	// Down: ErrStoreUnavailable, bounded; back empty: quarantine, then
	// recovery, and identifiers recorded before are not accepted meanwhile.
	if err := g.Ready(ctx); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	srv.Stop()
	start := time.Now()
	if _, err := run(ctx, []authserver.GrantStep{charge("grant|e", big), consume("idjag|i|e", exp)}); !errors.Is(err, core.ErrStoreUnavailable) {
		t.Fatalf("down: %v", err)
	}
	if err := g.Ready(ctx); !errors.Is(err, core.ErrStoreUnavailable) {
		t.Fatalf("Ready while down: %v", err)
	}
	if el := time.Since(start); el > 6*time.Second {
		t.Fatalf("two calls while down took %v", el)
	}
	srv.Start()
	if _, err := run(ctx, []authserver.GrantStep{consume("idjag|i|used", exp)}); !errors.Is(err, core.ErrStoreUnavailable) {
		t.Fatalf("pre-loss identifier after a restart: %v, want the quarantine", err)
	}
	if err := g.Ready(ctx); !errors.Is(err, core.ErrStoreUnavailable) {
		t.Fatalf("Ready in quarantine: %v", err)
	}
	// a rate-limit-only batch does not need the replay data
	if res, err := run(ctx, []authserver.GrantStep{charge("grant|f", big)}); err != nil || res.Refused != -1 {
		t.Fatalf("charge in quarantine: %+v %v", res, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for g.Ready(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("not ready after the quarantine: %v", g.Ready(ctx))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if res, err := run(ctx, []authserver.GrantStep{consume("idjag|i|g", exp), consume("idjag|i|g", exp)}); err != nil || res.Refused != 1 {
		t.Fatalf("after recovery: %+v %v", res, err)
	}
}

// ClientOptions' connections hide their descriptor, so go-redis makes no
// liveness peek (a system call) per command; they still work, also after
// the server closed them (the command is retried on a new connection).
func TestClientOptionsConnections(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	o, err := ClientOptions(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := o.Dialer(ctx, "tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := conn.(syscall.Conn); ok {
		t.Error("ClientOptions' dialer exposes syscall.Conn: go-redis would peek the socket before every command")
	}
	_ = conn.Close()
	c := srv.client(t)
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	// The server drops every client connection; the pooled one is dead.
	if err := c.ClientKillByFilter(ctx, "TYPE", "normal", "SKIPME", "no").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("command after the server closed the pooled connection: %v", err)
	}
}

// The streamed call falls back to RunGrantSteps when its connection or the
// script cache is gone, and still records each identifier once; a timeout
// is not retried (the bound holds).
func TestSendGrantStepsFallback(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := context.Background()
	admin := srv.client(t)
	g, err := NewGrantStore(ctx, ReplayConfig{Config: Config{Client: srv.client(t), Timeout: 300 * time.Millisecond}, Sender: srv.sender(t)})
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Minute)
	consume := func(k string) (authserver.GrantStepsResult, error) {
		return g.SendGrantSteps(ctx, []authserver.GrantStep{{Kind: authserver.StepConsume, Key: k, Exp: exp}})()
	}
	tests := []struct {
		name  string
		setup func() error
	}{
		{"warm", func() error { return nil }},
		{"script cache flushed", func() error { return admin.ScriptFlush(ctx).Err() }},
		{"connections closed by the server", func() error {
			return admin.ClientKillByFilter(ctx, "TYPE", "normal", "SKIPME", "yes").Err()
		}},
	}
	for _, tc := range tests {
		if err := tc.setup(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		key := "idjag|i|" + tc.name
		if res, err := consume(key); err != nil || res.Refused != -1 {
			t.Fatalf("%s: first use %+v %v", tc.name, res, err)
		}
		if res, err := consume(key); err != nil || res.Refused != 0 {
			t.Fatalf("%s: second use %+v %v, want a replay", tc.name, res, err)
		}
	}
	// Redis answers nothing for 1.5 s: unavailable within about the timeout.
	if err := admin.Do(ctx, "CLIENT", "PAUSE", "1500", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = consume("idjag|i|paused")
	el := time.Since(start)
	_ = admin.Do(ctx, "CLIENT", "UNPAUSE").Err()
	if !errors.Is(err, core.ErrStoreUnavailable) {
		t.Fatalf("paused Redis: %v, want ErrStoreUnavailable", err)
	}
	if el > time.Second {
		t.Fatalf("paused Redis answered after %v, want about the 300 ms timeout", el)
	}
}
