package authserver

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver/replay"
)

// TestSharedCodeKeyPerProcessStores: a careless operator gives two replicas
// the same code key (so codes seal across replicas) but keeps the default
// per-process replay store. Each replica then redeems the same code once,
// giving two token families for one authorization code. New says so at
// start-up; the shared-store configuration is quiet.
func TestSharedCodeKeyPerProcessStores(t *testing.T) {
	t.Parallel()
	key := testCodeKey(1)
	shared, err := replay.NewMemory(replay.MemoryConfig{})
	if err != nil {
		t.Fatal(err)
	}
	sharedRefresh := NewMemoryRefreshStore(10)
	tests := []struct {
		name        string
		mutate      func(*Config)
		wantReplay  bool
		wantRefresh bool
		twoFamilies bool
	}{
		{"no code key (single instance)", func(c *Config) { brokerConfig(c) }, false, false, false},
		{"shared key, per-process stores", func(c *Config) { brokerConfig(c); c.Broker.CodeKey = key }, true, true, true},
		{"shared key, shared replay store", func(c *Config) {
			brokerConfig(c)
			c.Broker.CodeKey = key
			c.ReplayStore = shared
		}, false, true, false},
		{"shared key, shared stores", func(c *Config) {
			brokerConfig(c)
			c.Broker.CodeKey = key
			c.ReplayStore = shared
			c.Broker.RefreshStore = sharedRefresh
		}, false, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newEnv(t, tc.mutate), newEnv(t, tc.mutate)
			logs := a.logs.String()
			if got := strings.Contains(logs, "Config.ReplayStore is per process"); got != tc.wantReplay {
				t.Errorf("replay-store warning logged: %v, want %v", got, tc.wantReplay)
			}
			if got := strings.Contains(logs, "Broker.RefreshStore is per process"); got != tc.wantRefresh {
				t.Errorf("refresh-store warning logged: %v, want %v", got, tc.wantRefresh)
			}
			if got := strings.Contains(logs, "Broker.ConsentStore is per process"); got != (a.cfg.Broker.CodeKey != nil) {
				t.Errorf("consent-store warning logged: %v", got)
			}
			if a.cfg.Broker.CodeKey == nil {
				return
			}
			// What the warning is about: one code, redeemed at each replica.
			verifier := strings.Repeat("v", 43)
			code, err := a.s.broker.codes.seal(&codeData{
				ID: "c-" + strings.ReplaceAll(tc.name, " ", ""), Exp: a.clock.Now().Add(time.Minute).Unix(), ClientID: "native",
				Redirect: "http://127.0.0.1/cb", Challenge: pkceS256(verifier), Resource: testMCP,
				Scopes: []string{"mcp:tools"}, Subject: "dave",
			})
			if err != nil {
				t.Fatal(err)
			}
			body := form("grant_type", "authorization_code", "code", code, "redirect_uri", "http://127.0.0.1/cb",
				"code_verifier", verifier, "client_id", "native")
			ok := 0
			for _, e := range []*env{a, b} {
				r := decodeResult(t, e.do(req{method: "POST", target: "/token", body: body,
					headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}))
				if r.status == 200 {
					ok++
				}
			}
			if got := ok == 2; got != tc.twoFamilies {
				t.Errorf("code redeemed %d times across two replicas", ok)
			}
		})
	}
}

// TestProxyWithoutClientAddress: behind a reverse proxy every request has
// the proxy's peer address, so without Config.ClientAddress the per-source
// buckets are shared by all clients: a dozen wrong secrets from one
// attacker lock the client out for its legitimate caller behind the same
// proxy. The server cannot fix that by itself (trusting X-Forwarded-For
// blindly would let anyone pick their bucket), so it warns, once, when
// requests carry Forwarded or X-Forwarded-For and ClientAddress is unset.
func TestProxyWithoutClientAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		header    string // proxy header carrying the client address; "" = direct
		custom    bool
		wantWarn  int
		wantLegit int // the legitimate client's status after the attack
	}{
		{"direct", "", false, 0, http.StatusTooManyRequests},
		{"x-forwarded-for", "X-Forwarded-For", false, 1, http.StatusTooManyRequests},
		{"forwarded", "Forwarded", false, 1, http.StatusTooManyRequests},
		{"x-forwarded-for, ClientAddress set", "X-Forwarded-For", true, 0, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *Config) {
				c.RateLimit = RateLimit{}
				if tc.custom {
					c.ClientAddress = func(r *http.Request) string { return r.Header.Get("X-Forwarded-For") }
				}
			})
			send := func(addr, secret string) int {
				h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
				if tc.header != "" {
					h[tc.header] = addr
				}
				return e.do(req{method: http.MethodPost, target: "/token", body: form("grant_type", "client_credentials"),
					headers: h, basic: [2]string{testSecretID, secret}}).Code
			}
			for i := range 12 {
				if got := send("203.0.113.7", "wrong"); got != http.StatusUnauthorized && got != http.StatusTooManyRequests {
					t.Fatalf("attack request %d: status %d", i, got)
				}
			}
			if got := send("198.51.100.1", testSecret); got != tc.wantLegit {
				t.Errorf("legitimate client after the attack: %d, want %d", got, tc.wantLegit)
			}
			if got := strings.Count(e.logs.String(), "Config.ClientAddress is not set"); got != tc.wantWarn {
				t.Errorf("warning logged %d times, want %d", got, tc.wantWarn)
			}
		})
	}
}

// TestSharedStoresWithoutCodeKey: shared stores without a code key mean
// replicas whose codes and logins work only where they were made: New
// says so; a single instance with default stores is quiet.
func TestSharedStoresWithoutCodeKey(t *testing.T) {
	t.Parallel()
	consents, _ := NewMemoryConsentStore(0, 0)
	quiet := newEnv(t, brokerConfig)
	loud := newEnv(t, func(c *Config) { brokerConfig(c); c.Broker.ConsentStore = consents })
	const msg = "broker.code_key is unset but stores are shared"
	if strings.Contains(quiet.logs.String(), msg) || !strings.Contains(loud.logs.String(), msg) {
		t.Fatalf("warnings: quiet %q, loud %q", quiet.logs.String(), loud.logs.String())
	}
}
