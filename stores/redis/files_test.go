package redisstore

import (
	"strconv"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
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
		{"all", map[string]any{"url": "rediss://u:p@r:6380/1", "prefix": "{acme}:", "timeout": "250ms", "quarantine": "10m", "sender": "rueidis"}, true, ""},
		{"no url", map[string]any{"prefix": "x"}, false, "stores.options: one of url, sentinel or cluster is required"},
		{"no options", nil, true, "one of url, sentinel or cluster is required"},
		{"unknown key", map[string]any{"url": "redis://r", "addr": "r:6379"}, false, "stores.options.addr: unknown key (known: url, sentinel, cluster, username, password, db, prefix, timeout)"},
		{"quarantine on the Guard", map[string]any{"url": "redis://r", "quarantine": "1m"}, false, "stores.options.quarantine: unknown key"},
		{"sender on the Guard", map[string]any{"url": "redis://r", "sender": "rueidis"}, false, "stores.options.sender: unknown key"},
		{"unknown sender", map[string]any{"url": "redis://r", "sender": "go-redis"}, true, `stores.options.sender: unknown sender "go-redis"`},
		{"number", map[string]any{"url": "redis://r", "timeout": 1}, false, "stores.options.timeout: must be a positive duration"},
		{"password as a number", map[string]any{"sentinel": map[string]any{"master": "m", "addrs": []any{"s:26379"}}, "password": 12345}, false, `stores.options.password: must be a string (quote a ${NAME}`},
		{"bad duration", map[string]any{"url": "redis://r", "timeout": "soon"}, false, "positive duration"},
		{"zero duration", map[string]any{"url": "redis://r", "timeout": "0s"}, false, "positive duration"},
		{"sentinel", map[string]any{"sentinel": map[string]any{"master": "m", "addrs": []any{"s1:26379", "s2:26379"}, "username": "su", "password": "sp"}, "username": "u", "password": "p", "db": 2}, true, ""},
		{"sentinel without master", map[string]any{"sentinel": map[string]any{"addrs": []any{"s1:26379"}}}, false, "stores.options.sentinel.master: is required"},
		{"sentinel without addrs", map[string]any{"sentinel": map[string]any{"master": "m"}}, false, "stores.options.sentinel.addrs: is required"},
		{"sentinel addr without port", map[string]any{"sentinel": map[string]any{"master": "m", "addrs": []any{"s1"}}}, false, `stores.options.sentinel.addrs[0]: "s1" is not host:port`},
		{"sentinel addr twice", map[string]any{"sentinel": map[string]any{"master": "m", "addrs": []any{"s1:1", "s1:1"}}}, false, "listed twice"},
		{"sentinel unknown key", map[string]any{"sentinel": map[string]any{"master": "m", "addrs": []any{"s1:1"}, "master_name": "x"}}, false, "stores.options.sentinel.master_name: unknown key"},
		{"sentinel not a map", map[string]any{"sentinel": "s1:26379"}, false, "stores.options.sentinel: must be a mapping"},
		{"cluster", map[string]any{"cluster": map[string]any{"addrs": []any{"n1:6379", "n2:6379"}}, "password": "p", "prefix": "{acme}:"}, false, ""},
		{"cluster prefix without hash tag", map[string]any{"cluster": map[string]any{"addrs": []any{"n1:6379"}}, "prefix": "acme:"}, false, "stores.options.prefix: with cluster it must hold a hash tag"},
		{"cluster empty hash tag", map[string]any{"cluster": map[string]any{"addrs": []any{"n1:6379"}}, "prefix": "{}acme:"}, false, "hash tag"},
		{"cluster db", map[string]any{"cluster": map[string]any{"addrs": []any{"n1:6379"}}, "db": 1}, false, "stores.options.db: Redis Cluster has only database 0"},
		{"url and sentinel", map[string]any{"url": "redis://r", "sentinel": map[string]any{"master": "m", "addrs": []any{"s1:1"}}}, false, "url, sentinel and cluster exclude each other"},
		{"url and password", map[string]any{"url": "redis://r", "password": "p"}, false, "username, password and db go into the url"},
		{"negative db", map[string]any{"sentinel": map[string]any{"master": "m", "addrs": []any{"s1:1"}}, "db": -1}, false, "stores.options.db: must be a database number"},
		{"too many addrs", map[string]any{"cluster": map[string]any{"addrs": manyAddrs(33)}}, false, "at most 32 addresses"},
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
			if tc.name == "all" && (o.Timeout != 250*time.Millisecond || o.Quarantine != 10*time.Minute || o.Prefix != "{acme}:" || o.Sender != SenderRueidis) {
				t.Fatalf("%+v", o)
			}
			if tc.name == "sentinel" && (o.SentinelMaster != "m" || len(o.SentinelAddrs) != 2 || o.SentinelUsername != "su" || o.SentinelPassword != "sp" || o.Username != "u" || o.Password != "p" || o.DB != 2) {
				t.Fatalf("%+v", o)
			}
		})
	}
	// A URL go-redis cannot parse fails the factory, naming the key.
	if _, err := GuardSessions(t.Context(), map[string]any{"url": "http://r:6379"}, &core.Config{}); err == nil || !strings.Contains(err.Error(), "stores.options.url") {
		t.Fatalf("bad scheme: %v", err)
	}
}

func manyAddrs(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = "n" + strconv.Itoa(i) + ":6379"
	}
	return out
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
	case cfg.KeyCheck == nil:
		t.Fatal("no signing key check")
	}
	if kr, ok := cfg.KeyCheck.Registry.(*KeyRegistry); !ok || kr.prefix != "{files-test}:" {
		t.Fatalf("key registry %T", cfg.KeyCheck.Registry)
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
