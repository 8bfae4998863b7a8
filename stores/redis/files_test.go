package redisstore

import (
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
)

func TestParseFileOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		opts   map[string]any
		replay bool
		want   string // error text; "" = parses
	}{
		{"url only", map[string]any{"url": "redis://127.0.0.1:6379/0"}, false, ""},
		{"all", map[string]any{"url": "rediss://u:p@r:6380/1", "prefix": "{acme}:", "timeout": "250ms", "quarantine": "10m"}, true, ""},
		{"no url", map[string]any{"prefix": "x"}, false, "stores.options.url: is required"},
		{"no options", nil, true, "stores.options.url: is required"},
		{"unknown key", map[string]any{"url": "redis://r", "addr": "r:6379"}, false, "stores.options.addr: unknown key (known: url, prefix, timeout)"},
		{"quarantine on the Guard", map[string]any{"url": "redis://r", "quarantine": "1m"}, false, "stores.options.quarantine: unknown key"},
		{"number", map[string]any{"url": "redis://r", "timeout": 1}, false, "stores.options.timeout: must be a string"},
		{"bad duration", map[string]any{"url": "redis://r", "timeout": "soon"}, false, "positive duration"},
		{"zero duration", map[string]any{"url": "redis://r", "timeout": "0s"}, false, "positive duration"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ParseFileOptions(tc.opts, tc.replay)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.name == "all" && (o.Timeout != 250*time.Millisecond || o.Quarantine != 10*time.Minute || o.Prefix != "{acme}:") {
				t.Fatalf("%+v", o)
			}
		})
	}
	// A URL go-redis cannot parse fails the factory, naming the key.
	if _, err := GuardSessions(t.Context(), map[string]any{"url": "http://r:6379"}, nil); err == nil || !strings.Contains(err.Error(), "stores.options.url") {
		t.Fatalf("bad scheme: %v", err)
	}
}

// TestAuthServerStores: the factory installs the Redis stores into the
// sections the file has, moves the memory stores' bounds into them, and
// refuses the memory-only refresh cap.
func TestAuthServerStores(t *testing.T) {
	srv := startRedis(t)
	opts := map[string]any{"url": srv.URL(), "prefix": "{files-test}:"}
	cfg := &authserver.Config{
		Broker:       &authserver.Broker{MaxConsents: 7, RefreshIdleLifetime: time.Hour, RefreshAbsoluteLifetime: 2 * time.Hour},
		Registration: &authserver.Registration{MaxBytes: 1 << 20, IdleLifetime: 48 * time.Hour, MaxPerSubject: 3},
	}
	c, err := AuthServerStores(t.Context(), opts, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	gs, ok := cfg.ReplayStore.(*GrantStore)
	if !ok || cfg.RateLimiter != authserver.Limiter(gs) {
		t.Fatalf("replay %T, limiter %T: want one GrantStore", cfg.ReplayStore, cfg.RateLimiter)
	}
	cs, _ := cfg.Broker.ConsentStore.(*ConsentStore)
	rs, _ := cfg.Broker.RefreshStore.(*RefreshStore)
	cl, _ := cfg.Registration.Store.(*ClientStore)
	switch {
	case cs == nil || cs.max != 7 || cfg.Broker.MaxConsents != 0:
		t.Fatalf("consents %+v, MaxConsents %d", cs, cfg.Broker.MaxConsents)
	case rs == nil || rs.idle != time.Hour || rs.abs != 2*time.Hour:
		t.Fatalf("refresh %+v", rs)
	case cl == nil || cl.maxBytes != 1<<20 || cl.idle != 48*time.Hour || cl.perSubject != 3 || cfg.Registration.MaxBytes != 0 || cfg.Registration.IdleLifetime != 0 || cfg.Registration.MaxPerSubject != 0:
		t.Fatalf("clients %+v, registration %+v", cl, cfg.Registration)
	case gs.prefix != "{files-test}:":
		t.Fatalf("prefix %q", gs.prefix)
	}
	if err := gs.Ready(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Without broker and registration sections only the grant store.
	bare := &authserver.Config{}
	c2, err := AuthServerStores(t.Context(), opts, bare)
	if err != nil || bare.ReplayStore == nil {
		t.Fatalf("bare: %v", err)
	}
	c2.Close()
	_, err = AuthServerStores(t.Context(), opts, &authserver.Config{Broker: &authserver.Broker{MaxRefreshFamilies: 10}})
	if err == nil || !strings.Contains(err.Error(), "broker.max_refresh_families") {
		t.Fatalf("max_refresh_families: %v", err)
	}
}
