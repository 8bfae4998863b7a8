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
		checks := e.s.secretChecks.Load()
		known := seq(testSecretID, "203.0.113.1")
		knownChecks := e.s.secretChecks.Load() - checks
		unknown := seq("nobody", "203.0.113.1")
		unknownChecks := e.s.secretChecks.Load() - checks - knownChecks
		// Comparable work: one secret check per answered 401, none while
		// the pair is locked out (in every mode, batched included).
		if knownChecks != 3 || unknownChecks != 3 {
			t.Errorf("secret checks for 3 failures and 2 lockouts: registered %d, unregistered %d, want 3 each", knownChecks, unknownChecks)
		}
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
		checks = e.s.secretChecks.Load()
		if w := e.doWith(good, from("203.0.113.1")); w.Code != 429 {
			t.Errorf("right secret from the throttled source: %d, want 429 (no credential check while throttled)", w.Code)
		}
		if n := e.s.secretChecks.Load() - checks; n != 0 {
			t.Errorf("the throttled source's secret was checked %d times", n)
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

// A locked-out pair's client assertion is not verified before the 429, in
// every mode, and a registered and an unregistered client id cost the same
// verifications and get the same answers.
func TestLockedOutAssertionNotVerified(t *testing.T) {
	stepModes(t, func(t *testing.T, mode func(*Config)) {
		e := newEnv(t, and(limited(RateLimit{FailedAuthPerSecond: 1, FailedAuthBurst: 2}), mode))
		seq := func(id string) (codes []int, bodies []string, checks int64) {
			before := e.s.assertionChecks.Load()
			for range 4 {
				cl := e.assertionClaims()
				cl["iss"], cl["sub"] = id, id
				a := mint(t, otherIdPKey, "", cl) // wrong key
				w := e.doWith(req{body: form("grant_type", "client_credentials", "client_assertion_type", AssertionTypeJWTBearer, "client_assertion", a)}, from("203.0.113.9"))
				codes, bodies = append(codes, w.Code), append(bodies, w.Body.String())
			}
			return codes, bodies, e.s.assertionChecks.Load() - before
		}
		kc, kb, kn := seq(testJWTID)
		uc, ub, un := seq("nobody")
		for i, want := range []int{401, 401, 429, 429} {
			if kc[i] != want || uc[i] != want || kb[i] != ub[i] {
				t.Errorf("answer %d: registered %d %s, unregistered %d %s, want %d and equal bodies", i, kc[i], kb[i], uc[i], ub[i], want)
			}
		}
		if kn != 2 || un != 2 {
			t.Errorf("verifications for 2 failures and 2 lockouts: registered %d, unregistered %d, want 2 each", kn, un)
		}
		good := e.assertionClaims()
		before := e.s.assertionChecks.Load()
		w := e.doWith(req{body: form("grant_type", "client_credentials", "client_assertion_type", AssertionTypeJWTBearer, "client_assertion", mint(t, clientKey, "", good))}, from("203.0.113.9"))
		if w.Code != 429 || e.s.assertionChecks.Load() != before {
			t.Errorf("valid assertion from the locked-out source: %d, %d verifications; want 429 and none", w.Code, e.s.assertionChecks.Load()-before)
		}
		if w := e.doWith(req{body: form("grant_type", "client_credentials", "client_assertion_type", AssertionTypeJWTBearer, "client_assertion", mint(t, clientKey, "", e.assertionClaims()))}, from("192.0.2.50")); w.Code != 200 {
			t.Errorf("valid assertion from another source: %d %s", w.Code, w.Body)
		}
	})
}

// With a shared GrantSteps store, a pair locked out through one replica
// costs another replica at most one credential check: that replica learns
// the lockout from its batch and checks the pair first from then on.
func TestLockoutLearnedAcrossReplicas(t *testing.T) {
	t.Parallel()
	var q *seqSteps
	rl := RateLimit{FailedAuthPerSecond: 1, FailedAuthBurst: 3}
	a := newEnv(t, func(c *Config) {
		c.RateLimit = rl
		batched(c)
		q = c.ReplayStore.(*seqSteps)
	})
	b := newEnv(t, func(c *Config) { c.RateLimit, c.RateLimiter, c.ReplayStore = rl, q, q })
	bad := req{body: form("grant_type", "client_credentials"), basic: [2]string{testSecretID, "wrong"}}
	for i, want := range []int{401, 401, 401, 429} {
		if w := a.doWith(bad, from("203.0.113.7")); w.Code != want {
			t.Fatalf("replica A, attempt %d: %d, want %d", i, w.Code, want)
		}
	}
	before := b.s.secretChecks.Load()
	for i := range 5 {
		if w := b.doWith(bad, from("203.0.113.7")); w.Code != 429 {
			t.Fatalf("replica B, attempt %d: %d, want 429", i, w.Code)
		}
	}
	if n := b.s.secretChecks.Load() - before; n != 1 {
		t.Fatalf("replica B checked the locked-out pair's secret %d times, want 1 (before it learned the lockout)", n)
	}
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
