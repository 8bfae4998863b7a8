package authserver

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A private_key_jwt client whose jwks_uri is down gets the answer an
// unknown client id gets (it used to be 503 "client keys unavailable",
// which told an unauthenticated caller that the id exists and that its key
// endpoint is down): same status, same body, same failure throttling. The
// outage is logged for the operator.
func TestAssertionClientKeysDownIndistinguishable(t *testing.T) {
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	t.Cleanup(jwks.Close)
	stepModes(t, func(t *testing.T, mode func(*Config)) {
		e := newEnv(t, and(limited(RateLimit{FailedAuthPerSecond: 1, FailedAuthBurst: 3}), mode, func(c *Config) {
			c.Clients = append(c.Clients, Client{ID: "remote-keys", JWKSURL: jwks.URL + "/jwks", GrantTypes: []string{GrantClientCredentials}, Scopes: []string{"mcp:tools"}})
		}))
		type answer struct {
			status      int
			body, retry string
		}
		seq := func(id string) []answer {
			var out []answer
			for range 5 {
				cl := e.assertionClaims()
				cl["iss"], cl["sub"] = id, id
				a := mint(t, clientKey, "", cl)
				w := e.doWith(req{body: form("grant_type", "client_credentials", "client_assertion_type", AssertionTypeJWTBearer, "client_assertion", a)}, from("203.0.113.7"))
				out = append(out, answer{w.Code, w.Body.String(), w.Header().Get("Retry-After")})
			}
			return out
		}
		down, unknown := seq("remote-keys"), seq("nobody-at-all")
		for i := range down {
			if down[i] != unknown[i] {
				t.Errorf("answer %d differs: keys down %+v, unknown id %+v", i, down[i], unknown[i])
			}
		}
		if down[0].status != http.StatusUnauthorized || down[4].status != http.StatusTooManyRequests {
			t.Errorf("answers %+v", down)
		}
		if !strings.Contains(e.logs.String(), "client key set unavailable") {
			t.Error("the key set outage was not logged")
		}
	})
}
