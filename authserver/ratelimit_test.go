package authserver

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

func from(addr string) func(*http.Request) {
	return func(r *http.Request) { r.RemoteAddr = addr + ":4711" }
}

func limited(rl RateLimit) func(*Config) { return func(c *Config) { c.RateLimit = rl } }

// The grant limit is charged only after authentication: wrong secrets for a
// client id do not use up its tokens.
func TestGrantLimitAfterAuthentication(t *testing.T) {
	stepModes(t, func(t *testing.T, mode func(*Config)) {
		e := newEnv(t, and(limited(RateLimit{PerSecond: 1, Burst: 2, FailedAuthBurst: 100}), mode))
		good := req{body: form("grant_type", "client_credentials"), basic: [2]string{testSecretID, testSecret}}
		bad := good
		bad.basic[1] = "wrong"
		for i := range 20 {
			if w := e.doWith(bad, from("198.51.100.7")); w.Code != 401 {
				t.Fatalf("wrong secret %d: %d", i, w.Code)
			}
		}
		for i := range 2 {
			if w := e.do(good); w.Code != 200 {
				t.Fatalf("request %d after 20 wrong secrets: %d %s", i, w.Code, w.Body)
			}
		}
		res := decodeResult(t, e.do(good))
		if res.status != 429 || res.err != "temporarily_unavailable" || res.hdr.Get("Retry-After") != "1" {
			t.Fatalf("over the limit: %d %s Retry-After=%q", res.status, res.body, res.hdr.Get("Retry-After"))
		}
		// Over its grant limit, a wrong secret is still 401 (not 429): the
		// limit is not observable without the credential.
		if w := e.do(bad); w.Code != 401 {
			t.Fatalf("wrong secret over the grant limit: %d", w.Code)
		}
		if w := e.do(req{body: form("grant_type", "client_credentials", "client_id", testRestrictID, "client_secret", testSecret)}); w.Code != 200 {
			t.Fatalf("other client: %d", w.Code)
		}
		e.clock.Add(time.Second)
		if w := e.do(good); w.Code != 200 {
			t.Fatalf("after refill: %d", w.Code)
		}
	})
}

// Failed authentication is throttled per client id and source address: the
// flooding source is refused, the same client from elsewhere is not, and a
// registered and an unregistered id get byte-identical answers.
func TestFailedAuthThrottle(t *testing.T) {
	stepModes(t, func(t *testing.T, mode func(*Config)) {
		e := newEnv(t, and(limited(RateLimit{FailedAuthPerSecond: 1, FailedAuthBurst: 3}), mode))
		type answer struct {
			status int
			body   string
			retry  string
		}
		seq := func(id, addr string) []answer {
			var out []answer
			for range 5 {
				w := e.doWith(req{body: form("grant_type", "client_credentials"), basic: [2]string{id, "wrong"}}, from(addr))
				out = append(out, answer{w.Code, w.Body.String(), w.Header().Get("Retry-After")})
			}
			return out
		}
		known, unknown := seq(testSecretID, "203.0.113.1"), seq("nobody", "203.0.113.1")
		for i := range known {
			if known[i] != unknown[i] {
				t.Errorf("answer %d differs: registered %+v, unregistered %+v", i, known[i], unknown[i])
			}
			want := 401
			if i >= 3 {
				want = 429
			}
			if known[i].status != want {
				t.Errorf("answer %d: %d, want %d", i, known[i].status, want)
			}
		}
		good := req{body: form("grant_type", "client_credentials"), basic: [2]string{testSecretID, testSecret}}
		if w := e.doWith(good, from("203.0.113.1")); w.Code != 429 {
			t.Errorf("right secret from the throttled source: %d, want 429 (no credential check while throttled)", w.Code)
		}
		if w := e.doWith(good, from("192.0.2.50")); w.Code != 200 {
			t.Errorf("right secret from another source: %d %s", w.Code, w.Body)
		}
		e.clock.Add(time.Second)
		if w := e.doWith(good, from("203.0.113.1")); w.Code != 200 {
			t.Errorf("after one failure refilled: %d", w.Code)
		}
	})
}

// Many sources exhaust the global failure bucket: pairs with a recent
// failure are refused, a pair with none is served.
func TestFailedAuthGlobalCap(t *testing.T) {
	stepModes(t, func(t *testing.T, mode func(*Config)) {
		e := newEnv(t, and(limited(RateLimit{FailedAuthBurst: 5, FailedAuthGlobalPerSecond: 1, FailedAuthGlobalBurst: 10}), mode))
		bad := req{body: form("grant_type", "client_credentials"), basic: [2]string{testSecretID, "wrong"}}
		for i := range 10 {
			if w := e.doWith(bad, from("198.51.100."+string(rune('0'+i)))); w.Code != 401 {
				t.Fatalf("failure %d: %d", i, w.Code)
			}
		}
		// 198.51.100.0 has one failure (4 left in its own bucket) but the
		// global bucket is empty.
		if w := e.doWith(bad, from("198.51.100.0")); w.Code != 429 {
			t.Fatalf("recently failed pair under global cap: %d, want 429", w.Code)
		}
		good := req{body: form("grant_type", "client_credentials"), basic: [2]string{testSecretID, testSecret}}
		if w := e.doWith(good, from("192.0.2.99")); w.Code != 200 {
			t.Fatalf("clean pair under global cap: %d %s", w.Code, w.Body)
		}
	})
}

// A private_key_jwt assertion naming an unregistered client and one with a
// bad signature for a registered client get the same answer.
func TestAssertionUnknownClientIndistinguishable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	cl := e.assertionClaims()
	forged := mint(t, otherIdPKey, "", cl) // registered client, wrong key
	cl2 := e.assertionClaims()
	cl2["iss"], cl2["sub"] = "nobody", "nobody"
	unknown := mint(t, clientKey, "", cl2)
	var bodies []string
	for _, a := range []string{forged, unknown} {
		w := e.do(req{body: form("grant_type", "client_credentials", "client_assertion_type", AssertionTypeJWTBearer, "client_assertion", a)})
		if w.Code != 401 {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		bodies = append(bodies, w.Body.String())
	}
	if bodies[0] != bodies[1] {
		t.Fatalf("answers differ:\n%s\n%s", bodies[0], bodies[1])
	}
}

func TestBasicSchemeSpaces(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	h := basicHeader(testSecretID, testSecret)
	for _, tc := range []struct {
		name, header string
		status       int
	}{
		{"one space", h, 200},
		{"three spaces", "Basic   " + h[len("Basic "):], 200},
		{"tab", "Basic\t" + h[len("Basic "):], 401},
		{"trailing space", h + " ", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do(req{body: form("grant_type", "client_credentials"), headers: map[string]string{"Authorization": tc.header}})
			if w.Code != tc.status {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
		})
	}
}

type failingLimiter struct{}

var errLimiterDown = errors.New("limiter backend down")

func (failingLimiter) Allow(context.Context, string, Limit) (LimitDecision, error) {
	return LimitDecision{}, errLimiterDown
}
func (failingLimiter) Peek(context.Context, string, Limit) (LimitDecision, error) {
	return LimitDecision{}, errLimiterDown
}

// A limiter that fails makes token requests fail closed with 503.
func TestLimiterFailureFailsClosed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.RateLimit = RateLimit{}; c.RateLimiter = failingLimiter{} })
	res := decodeResult(t, e.do(req{body: form("grant_type", "client_credentials"), basic: [2]string{testSecretID, testSecret}}))
	if res.status != 503 || res.err != "temporarily_unavailable" || res.hdr.Get("Retry-After") == "" {
		t.Fatalf("%d %s", res.status, res.body)
	}
}

func TestMemoryLimiterBounded(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	m, err := NewMemoryLimiter(MemoryLimiterConfig{MaxKeys: 100, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	l := Limit{PerSecond: 1, Burst: 1}
	ctx := context.Background()
	for i := range 1000 {
		if _, err := m.Allow(ctx, "k"+string(rune(i+0x100)), l); err != nil {
			t.Fatal(err)
		}
	}
	if m.Len() != 100 {
		t.Fatalf("Len = %d, want 100", m.Len())
	}
	d, _ := m.Allow(ctx, "hot", l)
	if !d.Allowed {
		t.Fatal("first event refused")
	}
	if d, _ = m.Allow(ctx, "hot", l); d.Allowed || d.RetryAfter != time.Second {
		t.Fatalf("second event: %+v", d)
	}
	if p, _ := m.Peek(ctx, "absent", l); !p.Allowed || !p.Idle {
		t.Fatalf("peek absent: %+v", p)
	}
	if _, err := m.Allow(ctx, string(make([]byte, 2000)), l); err == nil {
		t.Fatal("oversized key accepted")
	}
}
