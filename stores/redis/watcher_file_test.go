package redisstore

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/config"
)

// TestPolicyWatcherFromFile: two Guards built from a file whose
// policy.watcher names Redis follow a policy change within 1 s of a
// notification (the poll is 1 h here, so only the watcher can do it),
// also when Redis was down while they were built; a broken policy keeps
// the last good one; Built.Close stops the watcher.
func TestPolicyWatcherFromFile(t *testing.T) {
	srv := startRedis(t)
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.csv")
	write := func(text string) {
		if err := os.WriteFile(policy, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("p, *, server, connect, allow\np, *, *, list, allow\n")
	t.Setenv("WATCH_REDIS_URL", srv.URL())
	file := `resource: https://mcp.example.com/mcp
issuers: [{issuer: "https://idp.example.com"}]
model: rbac
policy:
  files: [policy.csv]
  watch: true
  poll_interval: 1h
  watcher: {kind: redis, options: {url: "${WATCH_REDIS_URL}", prefix: "{watch-file}:", timeout: 300ms}}
`
	opts, _ := Registries()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv.Stop() // the replicas start while Redis is down
	var built [2]*config.Built
	for i := range built {
		f, err := config.Parse([]byte(file), opts)
		if err != nil {
			t.Fatal(err)
		}
		b, err := f.Build(ctx, dir, opts)
		if err != nil {
			t.Fatalf("build with Redis down: %v", err)
		}
		defer b.Close()
		built[i] = b
	}
	srv.Start()
	// The writer's side: a watcher of its own (what "mcpauthz-redis
	// policy-notify" does), subscribed once Redis is up.
	notifier, err := NewWatcher(ctx, Config{Client: srv.client(t), Prefix: "{watch-file}:"})
	if err != nil {
		t.Fatal(err)
	}
	defer notifier.Close()
	before := built[0].Authorizer.Digest()
	// Wait until both replicas' watchers are subscribed (they reload once,
	// "resync", when they are).
	deadline := time.Now().Add(15 * time.Second)
	for {
		n, err := srv.client(t).PubSubNumSub(ctx, "{watch-file}:policy").Result()
		if err == nil && n["{watch-file}:policy"] >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("watchers not subscribed 15 s after Redis started: %v %v", n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	follow := func(what string, want func(d string) bool) time.Duration {
		t.Helper()
		start := time.Now()
		if err := notifier.Update(); err != nil {
			t.Fatal(err)
		}
		for {
			ok := true
			for _, b := range built {
				ok = ok && want(b.Authorizer.Digest())
			}
			if ok {
				return time.Since(start)
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("%s: replicas at %q, %q after 5 s", what, built[0].Authorizer.Digest(), built[1].Authorizer.Digest())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	write("p, *, server, connect, allow\np, *, *, list, allow\np, *, tool:echo, call, allow\n")
	d := follow("change", func(dg string) bool { return dg != before && dg != "" })
	if built[0].Authorizer.Digest() != built[1].Authorizer.Digest() {
		t.Fatal("replicas disagree")
	}
	if d > time.Second {
		t.Fatalf("change applied after %v, want ≤ 1 s", d)
	}
	t.Logf("change applied on both replicas %v after the notification", d.Round(time.Millisecond))
	good := built[0].Authorizer.Digest()
	write("p, *, server\n") // broken: the last good policy stays
	time.Sleep(200 * time.Millisecond)
	if err := notifier.Update(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	for _, b := range built {
		if b.Authorizer.Digest() != good {
			t.Fatal("a broken policy replaced the last good one")
		}
		if b.Authorizer.Stats().ReloadErrors == 0 {
			t.Fatal("the broken policy's reload was not counted")
		}
	}
	// Close unsubscribes.
	for _, b := range built {
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	}
	n, err := srv.client(t).PubSubNumSub(ctx, "{watch-file}:policy").Result()
	if err != nil || n["{watch-file}:policy"] != 1 {
		t.Fatalf("subscribers after Close: %v %v, want the notifier only", n, err)
	}
}
