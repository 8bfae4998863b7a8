package authserver

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/authserver/replay"
)

// storesDoc is a complete file with a broker and registration, so that a
// factory has every store to install.
const storesDoc = `
issuer: https://as.example.com
resources:
  - id: https://mcp.example.com/mcp
    scopes: [mcp:tools]
dev_generate_key: true
broker:
  upstream: {issuer: https://idp.example.com, client_id: as}
  access: [{group: eng, resource: https://mcp.example.com/mcp, scopes: [mcp:tools]}]
  max_consents: 7
registration:
  loopback_redirects: true
  idle_lifetime: 48h
`

type closeCount struct{ n *int }

func (c closeCount) Close() error { *c.n++; return nil }

// memoryFactory is a StoreFactory that installs the package's own memory
// stores, as a shared-store factory would install its own, and records
// what it was handed.
func memoryFactory(seen *map[string]any, closed *int) StoreFactory {
	return func(_ context.Context, options map[string]any, cfg *Config) (io.Closer, error) {
		*seen = options
		if v, ok := options["fail"]; ok {
			return nil, errors.New(v.(string))
		}
		r, err := replay.NewMemory(replay.MemoryConfig{})
		if err != nil {
			return nil, err
		}
		l, err := NewMemoryLimiter(MemoryLimiterConfig{})
		if err != nil {
			return nil, err
		}
		cfg.ReplayStore, cfg.RateLimiter = r, l
		if b := cfg.Broker; b != nil {
			cs, err := NewMemoryConsentStore(b.MaxConsents, 0)
			if err != nil {
				return nil, err
			}
			b.RefreshStore, b.ConsentStore, b.MaxConsents = NewMemoryRefreshStore(10), cs, 0
		}
		if rg := cfg.Registration; rg != nil {
			st, err := NewMemoryClientStore(MemoryClientStoreConfig{IdleLifetime: rg.IdleLifetime})
			if err != nil {
				return nil, err
			}
			rg.Store, rg.IdleLifetime = st, 0
		}
		return closeCount{closed}, nil
	}
}

func TestLoadStores(t *testing.T) {
	t.Parallel()
	var seen map[string]any
	var closed int
	opts := LoadOptions{Stores: map[string]StoreFactory{"shared": memoryFactory(&seen, &closed)}}
	env := func(k string) (string, bool) { return map[string]string{"URL": "x://y"}[k], k == "URL" }
	tests := []struct {
		name, stores string
		opts         LoadOptions
		want         string // error text; "" = loads
	}{
		{"default memory", "", LoadOptions{}, ""},
		{"explicit memory", "stores: {kind: memory}\n", LoadOptions{}, ""},
		{"memory with options", "stores: {kind: memory, options: {url: x}}\n", opts, "stores.options: the memory stores take no options"},
		{"unregistered kind", "stores: {kind: redis, options: {url: x}}\n", LoadOptions{}, `stores.kind: unknown store kind "redis" (this program registers: memory)`},
		{"misspelled kind", "stores: {kind: sharred}\n", opts, `unknown store kind "sharred" (this program registers: memory, shared)`},
		{"factory error", "stores: {kind: shared, options: {fail: redis URL is required}}\n", opts, `stores.kind "shared": redis URL is required`},
		{"unknown key", "stores: {kind: shared, url: x}\n", opts, "stores.url"},
		{"registered", "stores:\n  kind: shared\n  options: {url: \"${URL}\"}\n", opts, ""},
		// reviewops: a password is never written in the file.
		{"literal password", "stores: {kind: shared, options: {url: \"redis://:hunter2@127.0.0.1:6379/0\"}}\n", opts, "stores.options.url: holds a password"},
		{"literal user and password", "stores: {kind: shared, options: {url: \"rediss://app:hunter2@r.internal:6380\"}}\n", opts, "stores.options.url: holds a password"},
		{"unparseable credentials", "stores: {kind: shared, options: {url: \"redis://:hun%zzter2@h:6379\"}}\n", opts, "stores.options.url: holds a password"},
		{"password in an unregistered kind", "stores: {kind: redis, options: {url: \"redis://:hunter2@h:6379\"}}\n", LoadOptions{}, "stores.options.url: holds a password"},
		{"literal sentinel password", "stores: {kind: shared, options: {sentinel: {master: m, addrs: [\"s:26379\"], password: hunter2}}}\n", opts, "stores.options.sentinel.password: holds a password"},
		{"literal data password", "stores: {kind: shared, options: {cluster: {addrs: [\"n:6379\"]}, password: hunter2}}\n", opts, "stores.options.password: holds a password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, c, err := loadConfig(context.Background(), []byte(storesDoc+tc.stores), t.TempDir(), tc.opts, env)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalidConfig) {
					t.Fatalf("err = %v, want %q", err, tc.want)
				}
				if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "hun%zz") {
					t.Fatalf("err = %v repeats the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := New(cfg); err != nil {
				t.Fatalf("New: %v", err)
			}
			shared := tc.name == "registered"
			if got := cfg.ReplayStore != nil && cfg.Broker.ConsentStore != nil && cfg.Registration.Store != nil; got != shared {
				t.Fatalf("stores installed = %v, want %v", got, shared)
			}
			if shared && (seen["url"] != "x://y" || cfg.Broker.MaxConsents != 0) {
				t.Fatalf("factory saw %v, max_consents %d", seen, cfg.Broker.MaxConsents)
			}
			if err := c.Close(); err != nil || shared && closed != 1 {
				t.Fatalf("close: %v, %d", err, closed)
			}
		})
	}
}

// ParseConfig has no registry: only the memory stores parse.
func TestParseConfigRefusesSharedStores(t *testing.T) {
	t.Parallel()
	_, err := parseConfig([]byte(storesDoc+"stores: {kind: redis}\n"), "", func(string) (string, bool) { return "", false })
	if err == nil || !strings.Contains(err.Error(), `"redis" needs a program that registers it`) {
		t.Fatalf("err = %v", err)
	}
	if _, err := parseConfig([]byte(storesDoc+"stores: {kind: memory}\n"), "", func(string) (string, bool) { return "", false }); err != nil {
		t.Fatal(err)
	}
}

func TestLastForwardedFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		xff  []string
		want string
	}{
		{"no header", nil, "192.0.2.1"},
		{"one", []string{"198.51.100.7"}, "198.51.100.7"},
		{"client-set first", []string{"203.0.113.9, 198.51.100.7"}, "198.51.100.7"},
		{"last header wins", []string{"203.0.113.9", "10.0.0.1,198.51.100.8"}, "198.51.100.8"},
		{"empty last", []string{"198.51.100.7,"}, "192.0.2.1"},
		{"oversized", []string{strings.Repeat("9", 65)}, "192.0.2.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/token", nil)
			r.RemoteAddr = "192.0.2.1:4321"
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := LastForwardedFor(r); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
	// behind_proxy alone is refused (ops-5: it trusted every peer's header);
	// trusting every peer must be written out.
	if _, err := parseConfig([]byte(storesDoc+"behind_proxy: true\n"), "", func(string) (string, bool) { return "", false }); err == nil ||
		!strings.Contains(err.Error(), "behind_proxy: needs trusted_proxies") {
		t.Fatalf("behind_proxy alone: %v", err)
	}
	cfg, err := parseConfig([]byte(storesDoc+"behind_proxy: true\ntrusted_proxies: [0.0.0.0/0, \"::/0\"]\n"), "", func(string) (string, bool) { return "", false })
	if err != nil || cfg.ClientAddress == nil {
		t.Fatalf("behind_proxy, every peer trusted: %v", err)
	}
	for _, peer := range []string{"203.0.113.50:4000", "[2001:db8::5]:4000"} {
		r := httptest.NewRequest("POST", "/token", nil)
		r.RemoteAddr = peer
		r.Header.Set("X-Forwarded-For", "198.51.100.7")
		if got := cfg.ClientAddress(r); got != "198.51.100.7" {
			t.Fatalf("every peer trusted, peer %s: %q", peer, got)
		}
	}
}

// TestTrustedProxies (reviewops): with behind_proxy alone, a client that
// reaches the server directly (not through the load balancer) picks its
// per-source bucket with its own X-Forwarded-For, a new one per request,
// and so escapes the failed-authentication lockout and the /authorize and
// registration budgets. trusted_proxies honours the header only from the
// listed peers.
func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	noEnv := func(string) (string, bool) { return "", false }
	req := func(peer, xff string) *http.Request {
		r := httptest.NewRequest("POST", "/token", nil)
		r.RemoteAddr = peer
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		return r
	}
	cfg, err := parseConfig([]byte(storesDoc+"behind_proxy: true\ntrusted_proxies: [10.0.0.0/8, \"192.0.2.7\", \"2001:db8::/32\"]\n"), "", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, peer, xff, want string }{
		{"through the load balancer", "10.1.2.3:4000", "203.0.113.9, 198.51.100.7", "198.51.100.7"},
		{"single trusted address", "192.0.2.7:4000", "198.51.100.7", "198.51.100.7"},
		{"IPv6 load balancer", "[2001:db8::5]:4000", "198.51.100.7", "198.51.100.7"},
		{"IPv4-mapped trusted peer", "[::ffff:10.0.0.1]:4000", "198.51.100.7", "198.51.100.7"},
		{"direct client spoofing", "203.0.113.50:4000", "198.51.100.7", "203.0.113.50"},
		{"direct client, other spoof", "203.0.113.50:4000", "198.51.100.8", "203.0.113.50"},
		{"trusted peer, no header", "10.1.2.3:4000", "", "10.1.2.3"},
	} {
		if got := cfg.ClientAddress(req(tc.peer, tc.xff)); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	for _, tc := range []struct{ doc, want string }{
		{"trusted_proxies: [10.0.0.0/8]\n", "trusted_proxies: needs behind_proxy: true"},
		{"behind_proxy: true\ntrusted_proxies: [lb.internal]\n", "trusted_proxies[0]: must be an address or a network"},
		{"behind_proxy: true\ntrusted_proxies: [10.0.0.0/33]\n", "trusted_proxies[0]"},
	} {
		if _, err := parseConfig([]byte(storesDoc+tc.doc), "", noEnv); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.doc, err, tc.want)
		}
	}
}
