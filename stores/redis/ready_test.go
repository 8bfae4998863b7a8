package redisstore

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/core"
)

// Guard.Ready and Server.Ready see the Redis stores: ready with Redis up,
// not ready (bounded, naming the store) while it is down, ready again when
// it is back without a restart; the authorization server stays not ready
// while its replay data is in quarantine after Redis came back empty.
func TestReadyDownAndBack(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := context.Background()
	cfg := Config{Client: srv.client(t)}
	sb, err := NewSessionBindings(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWatcher(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	g, err := core.New(core.Config{Resource: "https://mcp.example.com/mcp", Verifier: staticVerifier{}, AuthenticateOnly: true,
		Metadata: core.ProtectedResourceMetadata{AuthorizationServers: []string{"https://idp.example"}},
		Sessions: sb, ReadyChecks: []core.ReadinessChecker{w}})
	if err != nil {
		t.Fatal(err)
	}
	gs, err := NewGrantStore(ctx, ReplayConfig{Config: cfg, Quarantine: 700 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	as, err := authserver.New(authserver.Config{
		Issuer:      "https://as.example.com",
		Resources:   []authserver.Resource{{ID: "https://mcp.example.com/mcp", Scopes: []string{"mcp:tools"}}},
		SigningKeys: []authserver.SigningKey{{Signer: key, KeyID: "k"}},
		ReplayStore: gs, RateLimiter: gs,
		// assertions whose marks the 700 ms quarantine outlasts
		MaxAssertionLifetime: 600 * time.Millisecond, Leeway: time.Millisecond, ReplayClockSkew: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]core.ReadinessChecker{"guard": g, "as": as} {
		if err := c.Ready(ctx); err != nil {
			t.Fatalf("%s with Redis up: %v", name, err)
		}
	}
	srv.Stop()
	for name, c := range map[string]core.ReadinessChecker{"guard": g, "as": as} {
		start := time.Now()
		err := c.Ready(ctx)
		if !errors.Is(err, core.ErrStoreUnavailable) || (!errors.Is(err, core.ErrNotReady) && !errors.Is(err, authserver.ErrNotReady)) {
			t.Fatalf("%s with Redis down: %v", name, err)
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Fatalf("%s Ready took %v with Redis down", name, el)
		}
		if name == "guard" && (!strings.Contains(err.Error(), "session store") || !strings.Contains(err.Error(), "check 0")) {
			t.Fatalf("guard error does not name the session store and the watcher: %v", err)
		}
	}
	srv.Start() // empty
	restarted := time.Now()
	if err := as.Ready(ctx); err == nil || !strings.Contains(err.Error(), "quarantine") {
		t.Fatalf("as right after Redis came back empty: %v, want the quarantine", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, c := range []core.ReadinessChecker{g, as} {
		for {
			err := c.Ready(ctx)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("not ready again: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if el := time.Since(restarted); el < 600*time.Millisecond {
		t.Fatalf("as ready after %v, before its quarantine ended", el)
	}
}
