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
	"github.com/mcpauthz/mcpauthz/authserver/replay"
	"github.com/mcpauthz/mcpauthz/core"
)

// TestRestartFromSnapshotQuarantines: Redis restarted from an RDB snapshot
// taken before a jti was recorded has forgotten that jti, yet holds the
// epoch key of the snapshot. The master's new replication id gives it
// away: one-time uses are refused (a QuarantineError, 503) on this
// replica and on one started after the restart, through both scripts,
// Ready names the quarantine's end, rate limits keep working, and the
// store recovers by itself when the quarantine ends.
func TestRestartFromSnapshotQuarantines(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	const q = 1500 * time.Millisecond
	ctx := context.Background()
	cfg := Config{Client: srv.client(t), Prefix: "{snap}:"}
	gs, err := NewGrantStore(ctx, ReplayConfig{Config: cfg, Quarantine: q})
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Minute)
	if err := gs.CheckAndStore(ctx, "idjag|i|in-snapshot", exp); err != nil {
		t.Fatal(err)
	}
	if err := srv.client(t).Save(ctx).Err(); err != nil {
		t.Fatalf("SAVE: %v", err)
	}
	if err := gs.CheckAndStore(ctx, "idjag|i|after-snapshot", exp); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	srv.Start() // loads the snapshot: "after-snapshot" is gone
	restarted := time.Now()
	if n, err := srv.client(t).Exists(ctx, gs.prefix+epochKey, gs.key("jti", "idjag|i|in-snapshot")).Result(); err != nil || n != 2 {
		t.Fatalf("the snapshot was not loaded: %d keys of 2, %v", n, err)
	}
	fresh, err := NewGrantStore(ctx, ReplayConfig{Config: Config{Client: srv.client(t), Prefix: "{snap}:"}, Quarantine: q})
	if err != nil {
		t.Fatal(err)
	}
	consume := func(g *GrantStore, key string) error {
		_, err := g.RunGrantSteps(ctx, []authserver.GrantStep{{Kind: authserver.StepConsume, Key: key, Exp: exp}})
		return err
	}
	uses := map[string]func() error{
		"replay of the lost jti":          func() error { return gs.CheckAndStore(ctx, "idjag|i|after-snapshot", exp) },
		"grant script, lost jti":          func() error { return consume(gs, "idjag|i|after-snapshot") },
		"replica started after":           func() error { return fresh.CheckAndStore(ctx, "idjag|i|new", exp) },
		"replica started after, grant":    func() error { return consume(fresh, "idjag|i|new") },
		"authorization code (one-time)":   func() error { return gs.CheckAndStore(ctx, "code|c1", exp) },
		"replay of the jti in the backup": func() error { return gs.CheckAndStore(ctx, "idjag|i|in-snapshot", exp) },
	}
	for name, use := range uses {
		err := use()
		var qe *QuarantineError
		if !errors.As(err, &qe) || !errors.Is(err, ErrQuarantine) || !errors.Is(err, core.ErrStoreUnavailable) {
			t.Fatalf("%s during the quarantine: %v, want a QuarantineError", name, err)
		}
		if d := qe.Until.Sub(restarted); d <= 0 || d > q+5*time.Second {
			t.Fatalf("%s: quarantine until %v, %v after the restart (quarantine %v)", name, qe.Until, d, q)
		}
	}
	err = gs.Ready(ctx)
	var qe *QuarantineError
	if !errors.As(err, &qe) || !strings.Contains(err.Error(), "until "+qe.Until.UTC().Format(time.RFC3339)) {
		t.Fatalf("Ready during the quarantine: %v", err)
	}
	// Not a one-time use: rate limits and a secret-authenticated grant
	// go on.
	if d, err := gs.Allow(ctx, "grant|svc", authserver.Limit{PerSecond: 10, Burst: 10}); err != nil || !d.Allowed {
		t.Fatalf("rate limit during the quarantine: %+v %v", d, err)
	}
	if res, err := gs.RunGrantSteps(ctx, []authserver.GrantStep{{Kind: authserver.StepCharge, Key: "grant|svc", Limit: authserver.Limit{PerSecond: 10, Burst: 10}}}); err != nil || res.Refused != -1 {
		t.Fatalf("charge-only grant during the quarantine: %+v %v", res, err)
	}
	// The quarantine ends by itself (event: the store answers again).
	deadline := time.Now().Add(q + 10*time.Second)
	for {
		err := gs.Ready(ctx)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrQuarantine) || time.Now().After(deadline) {
			t.Fatalf("not recovered: %v", err)
		}
		time.Sleep(time.Until(qe.Until) + 20*time.Millisecond)
	}
	if el := time.Since(restarted); el < q-200*time.Millisecond {
		t.Fatalf("quarantine ended %v after the restart, want %v", el, q)
	}
	if err := gs.CheckAndStore(ctx, "idjag|i|in-snapshot", exp); !errors.Is(err, replay.ErrReplay) {
		t.Fatalf("jti from the snapshot after the quarantine: %v, want a replay", err)
	}
	if err := fresh.CheckAndStore(ctx, "idjag|i|post", exp); err != nil {
		t.Fatalf("new jti after the quarantine: %v", err)
	}
}

// TestQuarantineBounds: ReplayConfig.Quarantine is at most MaxQuarantine.
func TestQuarantineBounds(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	for _, q := range []time.Duration{-time.Second, MaxQuarantine + time.Second} {
		if _, err := NewReplayStore(context.Background(), ReplayConfig{Config: Config{Client: srv.client(t)}, Quarantine: q}); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("Quarantine %v: %v, want ErrInvalidConfig", q, err)
		}
	}
}

// TestFileQuarantineMustCoverAssertions: a stores.options.quarantine
// shorter than max_assertion_lifetime + 2 × leeway + replay_clock_skew
// (the longest replay mark: exp may be lifetime + leeway ahead, and its
// mark lives leeway + skew past exp), or with a broker than its login
// steps' marks (login_lifetime + leeway + 2 × replay_clock_skew), is
// refused at start.
func TestFileQuarantineMustCoverAssertions(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	tests := []struct {
		name       string
		quarantine string // "" = default
		edit       func(*authserver.Config)
		ok         bool
	}{
		{name: "default quarantine, default lifetimes", ok: true},
		{name: "6m30s equals the defaults' 6m30s", quarantine: "6m30s", ok: true},
		{name: "6m29s under the defaults' 6m30s", quarantine: "6m29s"},
		{name: "6m counts the leeway once", quarantine: "6m"},
		{name: "7m with a 10 min assertion lifetime", quarantine: "7m", edit: func(c *authserver.Config) { c.MaxAssertionLifetime = 10 * time.Minute }},
		{name: "2h cannot be configured", quarantine: "2h"},
		{name: "default quarantine with a broker", edit: func(c *authserver.Config) { c.Broker = &authserver.Broker{} }, ok: true},
		{name: "7m with a broker: login marks live 11m30s", quarantine: "7m", edit: func(c *authserver.Config) { c.Broker = &authserver.Broker{} }},
		{name: "11m30s with a broker", quarantine: "11m30s", edit: func(c *authserver.Config) { c.Broker = &authserver.Broker{} }, ok: true},
		{name: "12m with a broker's 1 h logins", quarantine: "12m", edit: func(c *authserver.Config) { c.Broker = &authserver.Broker{LoginLifetime: time.Hour} }},
		{name: "5s with 2 s assertions and 1 ms leeway and skew", quarantine: "5s", edit: func(c *authserver.Config) {
			c.MaxAssertionLifetime, c.Leeway, c.ReplayClockSkew = 2*time.Second, time.Millisecond, time.Millisecond
		}, ok: true},
		{name: "2.003s with 2 s assertions and 1 ms leeway and skew", quarantine: "2003ms", edit: func(c *authserver.Config) {
			c.MaxAssertionLifetime, c.Leeway, c.ReplayClockSkew = 2*time.Second, time.Millisecond, time.Millisecond
		}, ok: true},
		{name: "2.002s with 2 s assertions and 1 ms leeway and skew", quarantine: "2002ms", edit: func(c *authserver.Config) {
			c.MaxAssertionLifetime, c.Leeway, c.ReplayClockSkew = 2*time.Second, time.Millisecond, time.Millisecond
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := map[string]any{"url": srv.URL(), "prefix": "{qcover}:"}
			if tt.quarantine != "" {
				opts["quarantine"] = tt.quarantine
			}
			var cfg authserver.Config
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			closer, err := AuthServerStores(context.Background(), opts, &cfg)
			if closer != nil {
				defer closer.Close()
			}
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalidConfig)) {
				t.Fatalf("AuthServerStores: %v, want ok %v", err, tt.ok)
			}
		})
	}
}

// withBroker gives c a broker (an upstream that is never contacted).
func withBroker(c *authserver.Config) {
	c.Broker = &authserver.Broker{
		Upstream: authserver.Upstream{Issuer: "https://idp.example.com", ClientID: "as", ClientSecret: "up-secret"},
		Access:   []authserver.AccessRule{{Group: "eng", Resource: "https://mcp.example.com/mcp", Scopes: []string{"mcp:tools"}}},
	}
}

// TestCodeQuarantineMustCoverMarks: a replay store built in code
// (ReplayConfig) whose quarantine is shorter than the server's longest
// replay mark (authserver.Config.ReplayMarkLifetime) is refused by
// authserver.New, as the file option is by AuthServerStores; the
// GrantStore and the plain ReplayStore alike.
func TestCodeQuarantineMustCoverMarks(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		quarantine time.Duration
		grant      bool
		edit       func(*authserver.Config)
		ok         bool
	}{
		{name: "default quarantine, default lifetimes", grant: true, ok: true},
		{name: "6m30s equals the defaults' 6m30s", quarantine: 6*time.Minute + 30*time.Second, grant: true, ok: true},
		{name: "6m counts the leeway once", quarantine: 6 * time.Minute, grant: true},
		{name: "6m, plain replay store", quarantine: 6 * time.Minute},
		{name: "7m with a broker: login marks live 11m30s", quarantine: 7 * time.Minute, grant: true, edit: withBroker},
		{name: "default quarantine with a broker", grant: true, edit: withBroker, ok: true},
		{name: "1s with 1 h assertions", quarantine: time.Second, grant: true, edit: func(c *authserver.Config) { c.MaxAssertionLifetime = time.Hour }},
		{name: "1s with 900 ms assertions and 1 ms leeway and skew", quarantine: time.Second, grant: true, edit: func(c *authserver.Config) {
			c.MaxAssertionLifetime, c.Leeway, c.ReplayClockSkew = 900*time.Millisecond, time.Millisecond, time.Millisecond
		}, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rc := ReplayConfig{Config: Config{Client: srv.client(t), Prefix: "{qcode}:"}, Quarantine: tt.quarantine}
			cfg := authserver.Config{
				Issuer:      "https://as.example.com",
				Resources:   []authserver.Resource{{ID: "https://mcp.example.com/mcp", Scopes: []string{"mcp:tools"}}},
				SigningKeys: []authserver.SigningKey{{Signer: key, KeyID: "k"}},
			}
			if tt.grant {
				gs, err := NewGrantStore(context.Background(), rc)
				if err != nil {
					t.Fatal(err)
				}
				cfg.ReplayStore, cfg.RateLimiter = gs, gs
			} else {
				rs, err := NewReplayStore(context.Background(), rc)
				if err != nil {
					t.Fatal(err)
				}
				cfg.ReplayStore = rs
			}
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			_, err := authserver.New(cfg)
			if (err == nil) != tt.ok || (err != nil && !strings.Contains(err.Error(), "quarantine")) {
				t.Fatalf("authserver.New: %v, want ok %v", err, tt.ok)
			}
		})
	}
}

// TestCodeRefreshQuarantineMustCoverMarks: the refresh store shares the
// replay store's epoch key, and whichever store first sees a failover,
// restart or flush starts the quarantine both keep. With a refresh store
// built in code with a shorter quarantine than the replay store's, a
// refresh request arriving first after a flush shortened the replay
// store's quarantine to the refresh store's: a one-time use lost in the
// flush (a jti, a code) was accepted again 400 ms later under a
// configured 20 min quarantine. authserver.New now refuses a refresh
// store whose quarantine is shorter than the longest replay mark.
func TestCodeRefreshQuarantineMustCoverMarks(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := context.Background()
	t.Run("the first store to see a flush starts the quarantine", func(t *testing.T) {
		cfg := Config{Client: srv.client(t), Prefix: "{qshare}:"}
		rs, err := NewReplayStore(ctx, ReplayConfig{Config: cfg, Quarantine: 20 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		fs, err := NewRefreshStore(RefreshConfig{Config: cfg, Quarantine: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		exp := time.Now().Add(time.Hour)
		if err := rs.CheckAndStore(ctx, "idjag|i|lost", exp); err != nil {
			t.Fatal(err)
		}
		if _, err := fs.Peek(ctx, rtok("h", 1)); !errors.Is(err, authserver.ErrRefreshUnknown) {
			t.Fatal(err)
		}
		if err := srv.client(t).FlushAll(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := fs.Peek(ctx, rtok("h", 1)); !errors.Is(err, ErrQuarantine) {
			t.Fatalf("refresh peek after the flush: %v, want the quarantine", err)
		}
		// The replay store keeps the quarantine the refresh store started.
		var qe *QuarantineError
		if err := rs.CheckAndStore(ctx, "idjag|i|lost", exp); !errors.As(err, &qe) || time.Until(qe.Until) > time.Second {
			t.Fatalf("replay store after the refresh store's peek: %v, want its 300 ms quarantine", err)
		}
	})
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		replay  time.Duration
		refresh time.Duration
		ok      bool
	}{
		{name: "defaults", ok: true},
		{name: "both 20m", replay: 20 * time.Minute, refresh: 20 * time.Minute, ok: true},
		{name: "refresh 1s", replay: 20 * time.Minute, refresh: time.Second},
		{name: "refresh 11m29s under the broker's 11m30s marks", refresh: 11*time.Minute + 29*time.Second},
		{name: "refresh 11m30s", refresh: 11*time.Minute + 30*time.Second, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := Config{Client: srv.client(t), Prefix: "{qrefresh}:"}
			gs, err := NewGrantStore(ctx, ReplayConfig{Config: base, Quarantine: tt.replay})
			if err != nil {
				t.Fatal(err)
			}
			fs, err := NewRefreshStore(RefreshConfig{Config: base, Quarantine: tt.refresh})
			if err != nil {
				t.Fatal(err)
			}
			cfg := authserver.Config{
				Issuer:      "https://as.example.com",
				Resources:   []authserver.Resource{{ID: "https://mcp.example.com/mcp", Scopes: []string{"mcp:tools"}}},
				SigningKeys: []authserver.SigningKey{{Signer: key, KeyID: "k"}},
				ReplayStore: gs, RateLimiter: gs,
			}
			withBroker(&cfg)
			cfg.Broker.RefreshStore = fs
			_, err = authserver.New(cfg)
			if (err == nil) != tt.ok || (err != nil && !strings.Contains(err.Error(), "refresh_store")) {
				t.Fatalf("authserver.New: %v, want ok %v", err, tt.ok)
			}
		})
	}
}
