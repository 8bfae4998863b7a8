package authserver_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
)

// TestPendingLoginsLockout: one unauthenticated source, within the default
// /authorize rate limit (10/s, burst 20), fills the default 4 MiB pending
// store and keeps every other user's login at 503.
func TestPendingLoginsLockout(t *testing.T) {
	e := newBrokerEnv(t, func(c *authserver.Config) { c.RateLimit = authserver.RateLimit{} })
	_, ch := pkcePair()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	p := e.authzParams(brPublic, brRedirect, ch)
	p.Set("state", strings.Repeat("s", 1024))
	n := 0
	for ; n < 6000; n++ {
		resp, _ := get(t, c, e.srv.URL+"/authorize?"+p.Encode())
		if resp.StatusCode == http.StatusServiceUnavailable {
			if p.Get("state") == "x" {
				break
			}
			p.Set("state", "x") // top off with the smallest login
			continue
		}
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("request %d: %d", n, resp.StatusCode)
		}
		e.clock.Add(150 * time.Millisecond) // 6.7 req/s, under the 10/s limit
	}
	t.Logf("store full after %d logins from one source in %v of attacker time", n, time.Duration(n)*150*time.Millisecond)
	victim := e.authzParams(brPublic, brRedirect, ch)
	if resp, _ := get(t, c, e.srv.URL+"/authorize?"+victim.Encode()); resp.StatusCode == http.StatusServiceUnavailable {
		t.Errorf("a legitimate login is refused 503 while one source holds the pending store (lockout for DefaultLoginLifetime)")
	}
}
