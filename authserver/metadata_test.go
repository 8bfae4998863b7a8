package authserver

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, got, "", "  "); err != nil {
		t.Fatalf("invalid JSON %q: %v", got, err)
	}
	pretty.WriteByte('\n')
	testkit.Golden(t, filepath.Join("testdata", name), pretty.Bytes(), *update)
}

func TestMetadata(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, issuer, golden string
		mutate               func(*Config)
		paths                []string // all must serve the document
	}{
		{name: "issuer without path", issuer: "https://as.example.com", golden: "metadata-root.json",
			paths: []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"}},
		{name: "issuer with path", issuer: "https://mcp.example.com/oauth", golden: "metadata-path.json",
			mutate: func(c *Config) { c.ClientAssertionAlgorithms = []string{"ES256"} },
			paths: []string{"/.well-known/oauth-authorization-server/oauth", "/.well-known/openid-configuration/oauth",
				"/oauth/.well-known/openid-configuration"}},
		{name: "loopback dev issuer without IdPs", issuer: "http://127.0.0.1:8080", golden: "metadata-cc-only.json",
			mutate: func(c *Config) { c.TrustedIdPs = nil; c.Resources = c.Resources[:1] },
			paths:  []string{"/.well-known/oauth-authorization-server"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *Config) {
				c.Issuer = tc.issuer
				if tc.mutate != nil {
					tc.mutate(c)
				}
			})
			var first []byte
			for _, p := range tc.paths {
				for _, m := range []string{http.MethodGet, http.MethodHead} {
					w := httptest.NewRecorder()
					e.s.ServeHTTP(w, httptest.NewRequest(m, "https://attacker.example"+p, nil))
					if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" {
						t.Fatalf("%s %s: %d %v", m, p, w.Code, w.Header())
					}
					if m == http.MethodHead {
						if w.Body.Len() != 0 {
							t.Fatalf("HEAD with a body")
						}
						continue
					}
					if first == nil {
						first = w.Body.Bytes()
					} else if !bytes.Equal(first, w.Body.Bytes()) {
						t.Fatalf("%s serves a different document", p)
					}
				}
			}
			golden(t, tc.golden, first)
			var doc map[string]any
			_ = json.Unmarshal(first, &doc)
			if doc["issuer"] != tc.issuer || doc["token_endpoint"] != e.s.TokenEndpoint() || doc["jwks_uri"] != e.s.JWKSURI() {
				t.Fatalf("issuer/endpoint mismatch: %v", doc)
			}
			if doc["authorization_endpoint"] != tc.issuer+"/authorize" {
				t.Errorf("authorization_endpoint = %v, want the refusing stub", doc["authorization_endpoint"])
			}
			for _, absent := range []string{"code_challenge_methods_supported", "registration_endpoint"} {
				if _, ok := doc[absent]; ok {
					t.Errorf("advertises unimplemented %s", absent)
				}
			}
		})
	}
}

func TestRouting(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.Issuer = "https://mcp.example.com/oauth" })
	wantRoutes := []string{
		"/.well-known/oauth-authorization-server/oauth",
		"/.well-known/openid-configuration/oauth",
		"/oauth/.well-known/openid-configuration",
		"/oauth/authorize",
		"/oauth/jwks.json",
		"/oauth/token",
	}
	if got := e.s.Routes(); !slices.Equal(got, wantRoutes) {
		t.Fatalf("Routes() = %v", got)
	}
	tests := []struct {
		method, path string
		status       int
	}{
		{"GET", "/.well-known/oauth-authorization-server", 404},
		{"GET", "/.well-known/oauth-authorization-server/oauth/", 404},
		{"GET", "/.well-known/oauth-authorization-server/OAUTH", 404},
		{"GET", "/oauth/.well-known/oauth-authorization-server", 404},
		{"GET", "/token", 404},
		{"GET", "/oauth/token/", 404},
		{"GET", "/oauth/jwks.json", 200},
		{"POST", "/oauth/jwks.json", 405},
		{"POST", "/.well-known/oauth-authorization-server/oauth", 405},
		{"DELETE", "/oauth/token", 405},
		{"GET", "/oauth/authorize", 400}, {"GET", "/oauth/register", 404},
	}
	for _, tc := range tests {
		w := httptest.NewRecorder()
		e.s.ServeHTTP(w, httptest.NewRequest(tc.method, "https://mcp.example.com"+tc.path, nil))
		if w.Code != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, w.Code, tc.status)
		}
	}
	// Mounted on a shared mux through Routes().
	mux := http.NewServeMux()
	for _, p := range e.s.Routes() {
		mux.Handle(p, e.s)
	}
	hr := httptest.NewRequest(http.MethodPost, "https://mcp.example.com/oauth/token",
		bytes.NewReader([]byte(form("grant_type", "client_credentials"))))
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hr.SetBasicAuth(testSecretID, testSecret)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, hr)
	if w.Code != 200 {
		t.Fatalf("token via mux: %d %s", w.Code, w.Body)
	}
	_, c := claimsOf(t, decodeResult(t, w).tok.AccessToken)
	if c["iss"] != "https://mcp.example.com/oauth" {
		t.Fatalf("iss %v", c["iss"])
	}
}
