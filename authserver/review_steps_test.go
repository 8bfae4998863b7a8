package authserver

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// A request refused for the grant limit: its ID-JAG is not recorded (it can
// be redeemed once the limit allows), while its client assertion, consumed
// before the grant charge, is spent (a retry with it is a replay). The
// three store modes agree.
func TestLimitRefusalAndReplayOrder(t *testing.T) {
	stepModes(t, func(t *testing.T, mode func(*Config)) {
		e := newEnv(t, and(limited(RateLimit{PerSecond: 0.5, Burst: 1, FailedAuthBurst: 100}), mode))
		secret := [2]string{testSecretID, testSecret}
		jag := func() string { return mint(t, idpKey, TypeIDJAG, e.idjagClaims()) }
		if w := e.do(req{body: form("grant_type", GrantJWTBearer, "assertion", jag()), basic: secret}); w.Code != 200 {
			t.Fatalf("first grant: %d %s", w.Code, w.Body)
		}
		j2 := jag()
		if w := e.do(req{body: form("grant_type", GrantJWTBearer, "assertion", j2), basic: secret}); w.Code != 429 {
			t.Fatalf("over the limit: %d %s", w.Code, w.Body)
		}
		cc := func(a string) req {
			return req{body: form("grant_type", GrantClientCredentials, "client_assertion_type", AssertionTypeJWTBearer, "client_assertion", a)}
		}
		if w := e.do(cc(mint(t, clientKey, "", e.assertionClaims()))); w.Code != 200 {
			t.Fatalf("assertion client, first: %d %s", w.Code, w.Body)
		}
		a2 := mint(t, clientKey, "", e.assertionClaims())
		if w := e.do(cc(a2)); w.Code != 429 {
			t.Fatalf("assertion client over the limit: %d %s", w.Code, w.Body)
		}
		e.clock.Add(3 * time.Second) // both buckets refilled; j2 and a2 still valid
		if w := e.do(req{body: form("grant_type", GrantJWTBearer, "assertion", j2), basic: secret}); w.Code != 200 {
			t.Fatalf("ID-JAG refused for the limit, redeemed later: %d %s", w.Code, w.Body)
		}
		res := decodeResult(t, e.do(cc(a2)))
		if res.status != 401 || res.err != "invalid_client" {
			t.Fatalf("assertion refused for the limit, retried: %d %s", res.status, res.body)
		}
	})
}

// A client id and a jti at their maximum lengths (256 bytes each) make a
// replay key every store mode accepts: a valid assertion is granted, and
// its replay refused, rather than a 503 that no retry can cure.
func TestLongestAssertionKey(t *testing.T) {
	stepModes(t, func(t *testing.T, mode func(*Config)) {
		long := strings.Repeat("c", 256)
		e := newEnv(t, and(mode, func(c *Config) {
			c.Clients = append(c.Clients, Client{ID: long, JWKS: jwksOf(t, clientKey), GrantTypes: []string{GrantClientCredentials}, Scopes: []string{"mcp:tools"}})
		}))
		claims := e.assertionClaims()
		claims["iss"], claims["sub"], claims["jti"] = long, long, strings.Repeat("j", 256)
		a := mint(t, clientKey, "", claims)
		cc := req{body: form("grant_type", GrantClientCredentials, "client_assertion_type", AssertionTypeJWTBearer, "client_assertion", a)}
		if w := e.do(cc); w.Code != 200 {
			t.Fatalf("longest key: %d %s", w.Code, w.Body)
		}
		if w := e.do(cc); w.Code != 401 {
			t.Fatalf("replay of the longest key: %d %s", w.Code, w.Body)
		}
	})
}

// ctxSteps answers a batch only when the request's context ends.
type ctxSteps struct{ *seqSteps }

func (q ctxSteps) RunGrantSteps(ctx context.Context, _ []GrantStep) (GrantStepsResult, error) {
	<-ctx.Done()
	return GrantStepsResult{}, ctx.Err()
}

// A request cancelled while its batch is under way, with the token being
// signed meanwhile: 503, no token, and no goroutine left behind.
func TestSignWhileStoringCancelled(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		q := ctxSteps{newSeqSteps(c.Now)}
		c.RateLimiter, c.ReplayStore = q, q
		c.RateLimit = RateLimit{}
		c.SignWhileStoring = true
	})
	before := runtime.NumGoroutine()
	for i := 0; i < 20; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		jag := mint(t, idpKey, TypeIDJAG, e.idjagClaims())
		w := e.doWith(req{body: form("grant_type", GrantJWTBearer, "assertion", jag), basic: [2]string{testSecretID, testSecret}},
			func(r *http.Request) { *r = *r.WithContext(ctx) })
		cancel()
		if w.Code != 503 || strings.Contains(w.Body.String(), "access_token") {
			t.Fatalf("cancelled: %d %s", w.Code, w.Body)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
