package core

import (
	"bytes"
	"encoding/json"
	"github.com/mcpauthz/mcpauthz/core/mcpext"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

func TestMetadataGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"minimal", func(c *Config) {
			c.Metadata = ProtectedResourceMetadata{AuthorizationServers: []string{"https://idp.example"}}
		}},
		{"full", func(c *Config) {
			c.Metadata = ProtectedResourceMetadata{
				AuthorizationServers:  []string{"https://mcp.example.com/oauth", "https://idp.example"},
				ScopesSupported:       []string{"mcp:tools", "mcp:resources:read"},
				ResourceName:          "Example MCP Server",
				ResourceDocumentation: "https://docs.example.com/mcp",
				MCPExtensions: map[string]any{
					mcpext.EnterpriseManagedAuthorization: map[string]any{},
					mcpext.OAuthClientCredentials:         map[string]any{},
				},
				Extensions: map[string]any{"z_custom": true, "a_custom": []int{1}},
			}
		}},
		{"root_resource", func(c *Config) {
			c.Resource = "https://mcp.example.com"
			c.Metadata = ProtectedResourceMetadata{AuthorizationServers: []string{"https://idp.example"}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := newGuard(t, tt.mod)
			rec := httptest.NewRecorder()
			g.MetadataHandler().ServeHTTP(rec, httptest.NewRequest("GET", g.MetadataPath(), nil))
			var indented bytes.Buffer
			if err := json.Indent(&indented, rec.Body.Bytes(), "", "  "); err != nil {
				t.Fatal(err)
			}
			indented.WriteString("\n")
			golden(t, filepath.Join("testdata", "metadata", tt.name+".json"), indented.Bytes())
			var doc map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if doc["resource"] != g.Resource() {
				t.Errorf("resource = %v, want %s", doc["resource"], g.Resource())
			}
		})
	}
}

func TestMetadataPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		resource, path, url string
	}{
		{"https://mcp.example.com/mcp", "/.well-known/oauth-protected-resource/mcp", "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"},
		{"https://mcp.example.com/public/mcp", "/.well-known/oauth-protected-resource/public/mcp", "https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp"},
		{"https://mcp.example.com", "/.well-known/oauth-protected-resource", "https://mcp.example.com/.well-known/oauth-protected-resource"},
		{"https://mcp.example.com/", "/.well-known/oauth-protected-resource", "https://mcp.example.com/.well-known/oauth-protected-resource"},
		{"https://mcp.example.com/mcp/", "/.well-known/oauth-protected-resource/mcp/", "https://mcp.example.com/.well-known/oauth-protected-resource/mcp/"},
		{"https://mcp.example.com:8443/api/v1/mcp", "/.well-known/oauth-protected-resource/api/v1/mcp", "https://mcp.example.com:8443/.well-known/oauth-protected-resource/api/v1/mcp"},
		{"https://mcp.example.com/mcp?tenant=a", "/.well-known/oauth-protected-resource/mcp", "https://mcp.example.com/.well-known/oauth-protected-resource/mcp?tenant=a"},
		{"http://127.0.0.1:8080/mcp", "/.well-known/oauth-protected-resource/mcp", "http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp"},
		{"http://localhost/mcp", "/.well-known/oauth-protected-resource/mcp", "http://localhost/.well-known/oauth-protected-resource/mcp"},
	}
	for _, tt := range tests {
		g := newGuard(t, func(c *Config) { c.Resource = tt.resource })
		if g.MetadataPath() != tt.path || g.MetadataURL() != tt.url {
			t.Errorf("%s: path %q url %q; want %q %q", tt.resource, g.MetadataPath(), g.MetadataURL(), tt.path, tt.url)
		}
	}
	g := newGuard(t, func(c *Config) { c.Metadata.ServeRoot = true })
	if got := g.MetadataPaths(); len(got) != 2 || got[1] != WellKnownPath {
		t.Errorf("MetadataPaths with ServeRoot = %q", got)
	}
	g = newGuard(t, func(c *Config) { c.Resource = "https://mcp.example.com"; c.Metadata.ServeRoot = true })
	if got := g.MetadataPaths(); len(got) != 1 {
		t.Errorf("MetadataPaths for a root resource = %q", got)
	}
}

// TestMetadataHandler is H03: the document is static whatever Host,
// X-Forwarded-* or Forwarded say; plus the method handling.
func TestMetadataHandler(t *testing.T) {
	t.Parallel()
	g := newGuard(t)
	h := g.MetadataHandler()
	get := func(mod func(*http.Request)) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "https://mcp.example.com"+g.MetadataPath(), nil)
		if mod != nil {
			mod(r)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	base := get(nil)
	if base.Code != 200 || base.Header().Get("Content-Type") != "application/json" || base.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("GET: %d %v", base.Code, base.Header())
	}
	spoofs := []func(*http.Request){
		func(r *http.Request) { r.Host = "evil.example" },
		func(r *http.Request) {
			r.Header.Set("X-Forwarded-Host", "evil.example")
			r.Header.Set("X-Forwarded-Proto", "http")
		},
		func(r *http.Request) { r.Header.Set("Forwarded", "host=evil.example;proto=http") },
		func(r *http.Request) { r.URL.Path = "/.well-known/oauth-protected-resource/other" },
	}
	for i, s := range spoofs {
		if got := get(s); !bytes.Equal(got.Body.Bytes(), base.Body.Bytes()) {
			t.Errorf("spoof %d changed the document: %s", i, got.Body)
		}
	}
	if strings.Contains(base.Body.String(), "evil") {
		t.Error("document mentions the spoofed host")
	}
	for _, tt := range []struct {
		method string
		code   int
		body   bool
	}{{"HEAD", 200, false}, {"OPTIONS", 204, false}, {"POST", 405, false}, {"DELETE", 405, false}} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, g.MetadataPath(), nil))
		if rec.Code != tt.code || (rec.Body.Len() > 0) != tt.body || rec.Header().Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: %d body=%q %v", tt.method, rec.Code, rec.Body, rec.Header())
		}
		if tt.code == 405 && rec.Header().Get("Allow") != "GET, HEAD, OPTIONS" {
			t.Errorf("%s: Allow = %q", tt.method, rec.Header().Get("Allow"))
		}
	}
	// The served bytes are a copy: mutating MetadataJSON does not change them.
	b := g.MetadataJSON()
	b[0] = 'X'
	if get(nil).Body.Bytes()[0] != '{' {
		t.Error("MetadataJSON aliases the served document")
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"no resource", func(c *Config) { c.Resource = "" }},
		{"relative resource", func(c *Config) { c.Resource = "/mcp" }},
		{"http non-loopback", func(c *Config) { c.Resource = "http://mcp.example.com/mcp" }},
		{"fragment", func(c *Config) { c.Resource = "https://mcp.example.com/mcp#x" }},
		{"userinfo", func(c *Config) { c.Resource = "https://u:p@mcp.example.com/mcp" }},
		{"ftp", func(c *Config) { c.Resource = "ftp://mcp.example.com/mcp" }},
		{"no verifier", func(c *Config) { c.Verifier = nil }},
		{"nil authorizer without AuthenticateOnly", func(c *Config) { c.Authorizer = nil }},
		{"authorizer with AuthenticateOnly", func(c *Config) { c.AuthenticateOnly = true }},
		{"no authorization servers", func(c *Config) { c.Metadata.AuthorizationServers = nil }},
		{"relative authorization server", func(c *Config) { c.Metadata.AuthorizationServers = []string{"idp"} }},
		{"metadata resource differs", func(c *Config) { c.Metadata.Resource = "https://other.example/mcp" }},
		{"offline_access", func(c *Config) { c.Metadata.ScopesSupported = []string{"offline_access"} }},
		{"bad scope", func(c *Config) { c.Metadata.ScopesSupported = []string{"a b"} }},
		{"bad challenge scope", func(c *Config) { c.ChallengeScopes = []string{`a"`} }},
		{"colliding extension", func(c *Config) { c.Metadata.Extensions = map[string]any{"resource": "x"} }},
		{"unmarshalable extension", func(c *Config) { c.Metadata.Extensions = map[string]any{"x": func() {}} }},
		{"negative body limit", func(c *Config) { c.MaxBodyBytes = -1 }},
		{"bad origin", func(c *Config) { c.AllowedOrigins = []string{"app.example.com"} }},
		{"origin with path", func(c *Config) { c.AllowedOrigins = []string{"https://app.example.com/x"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig()
			tt.mod(&cfg)
			if g, err := New(cfg); err == nil || g != nil {
				t.Fatalf("New accepted: %v", err)
			}
		})
	}
	cfg := testConfig()
	cfg.Authorizer, cfg.AuthenticateOnly = nil, true
	if _, err := New(cfg); err != nil {
		t.Errorf("AuthenticateOnly: %v", err)
	}
}
