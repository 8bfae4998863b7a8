package authserver

import (
	"net/http"
	"strings"
	"testing"
)

// TestClientSecretPostHostile: client_secret_post refuses a secret sent
// both in the body and in Authorization, a secret in the query string,
// and answers an unknown client, a wrong secret and a method the client
// is not registered for identically; no answer echoes the secret.
func TestClientSecretPostHostile(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		h, err := HashSecret(testSecret)
		if err != nil {
			t.Fatal(err)
		}
		c.Clients = append(c.Clients, Client{ID: "basic-only", SecretHash: h, AuthMethods: []string{AuthClientSecretBasic},
			GrantTypes: []string{GrantClientCredentials}, Scopes: []string{"mcp:tools"}})
	})
	const wrong = "wrong-secret-wrong-secret-0123"
	cc := func(id, secret string) string {
		return form("grant_type", "client_credentials", "client_id", id, "client_secret", secret, "resource", testMCP)
	}
	if w := e.do(req{body: cc(testRestrictID, testSecret)}); w.Code != http.StatusOK {
		t.Fatalf("control: %d %s", w.Code, w.Body)
	}
	for _, tc := range []struct {
		name   string
		r      req
		status int
		code   string
	}{
		{"body and Basic", req{body: cc(testRestrictID, testSecret), basic: [2]string{testRestrictID, testSecret}}, 400, "invalid_request"},
		{"body and Basic, other client", req{body: cc(testRestrictID, testSecret), basic: [2]string{testSecretID, testSecret}}, 400, "invalid_request"},
		{"secret in query", req{target: "/token?client_secret=" + testSecret, body: form("grant_type", "client_credentials", "client_id", testRestrictID)}, 400, "invalid_request"},
		{"empty secret", req{body: cc(testRestrictID, "")}, 401, "invalid_client"},
		{"no client_id", req{body: form("grant_type", "client_credentials", "client_secret", testSecret)}, 400, "invalid_request"},
	} {
		w := e.do(tc.r)
		res := decodeResult(t, w)
		if res.status != tc.status || res.err != tc.code {
			t.Errorf("%s: %d %s %s", tc.name, res.status, res.err, res.desc)
		}
		if strings.Contains(w.Body.String(), testSecret) {
			t.Errorf("%s: the answer echoes the secret", tc.name)
		}
	}
	var first string
	for _, tc := range []struct{ name, id, secret string }{
		{"unknown client", "no-such-client", wrong},
		{"unknown client, right secret", "no-such-client", testSecret},
		{"wrong secret", testRestrictID, wrong},
		{"basic-only client", "basic-only", testSecret}, // right secret, not registered for client_secret_post
		{"public-looking id", "dcr-unknown", wrong},
	} {
		before := e.s.secretChecks.Load()
		w := e.do(req{body: cc(tc.id, tc.secret)})
		sig := http.StatusText(w.Code) + "|" + w.Header().Get("WWW-Authenticate") + "|" + w.Body.String()
		if first == "" {
			first = sig
		}
		if w.Code != http.StatusUnauthorized || sig != first {
			t.Errorf("%s: answer %q differs from %q", tc.name, sig, first)
		}
		if n := e.s.secretChecks.Load() - before; n != 1 {
			t.Errorf("%s: %d secret comparisons, want 1", tc.name, n)
		}
		if strings.Contains(w.Body.String(), tc.secret) || strings.Contains(e.logs.String(), tc.secret) {
			t.Errorf("%s: the secret is echoed or logged", tc.name)
		}
	}
}
