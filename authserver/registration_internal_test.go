package authserver

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/internal/httpx"
)

// FuzzRegistrationRequest: the registration parser never panics; what it
// accepts encoding/json decodes to the same members (differential: the
// strict scanner accepts nothing the standard decoder reads otherwise); a
// client the policy accepts has only policy-conforming redirect URIs,
// grants and scopes.
func FuzzRegistrationRequest(f *testing.F) {
	for _, s := range []string{
		`{"redirect_uris":["http://127.0.0.1/cb"]}`,
		`{"redirect_uris":["https://a.apps.example.com/cb","http://[::1]:5/x"],"client_name":"A","scope":"mcp:tools","grant_types":["authorization_code","refresh_token"],"response_types":["code"],"token_endpoint_auth_method":"none"}`,
		`{"redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"client_secret_post"}`,
		`{"redirect_uris":["http://evil.example/cb"]}`,
		`{"redirect_uris":["https://evilapps.example.com/"],"Redirect_uris":[]}`,
		`{"redirect_uris":null,"client_name":"\u0000"}`,
		`{"redirect_uris":["com.example:/cb"],"scope":"root"}`,
		`[]`, `{`, `{"a":1}{}`,
	} {
		f.Add([]byte(s))
	}
	e := newEnv(f, func(c *Config) {
		brokerConfig(c)
		c.Registration = &Registration{LoopbackRedirects: true, RedirectHosts: []string{"*.apps.example.com"}, Scopes: []string{"mcp:tools"}}
	})
	rg := e.s.registrar
	f.Fuzz(func(t *testing.T, body []byte) {
		req, oe := parseRegistrationRequest(body)
		if oe != nil {
			return
		}
		var ref struct {
			RedirectURIs []string `json:"redirect_uris"`
			AuthMethod   string   `json:"token_endpoint_auth_method"`
			ClientName   string   `json:"client_name"`
		}
		if err := json.Unmarshal(body, &ref); err != nil {
			t.Fatalf("accepted what encoding/json refuses: %v", err)
		}
		if ref.AuthMethod != req.AuthMethod || ref.ClientName != req.ClientName || !slices.Equal(dedupe(ref.RedirectURIs), req.RedirectURIs) {
			t.Fatalf("differs from encoding/json: %+v vs %+v", req, ref)
		}
		if len(req.RedirectURIs) == 0 || len(req.RedirectURIs) > maxRegisteredRedirects {
			t.Fatalf("redirects %v", req.RedirectURIs)
		}
		rc, oe := rg.apply(e.s, req, "dcr-x", "")
		if oe != nil {
			return
		}
		c := rg.client(rc)
		if c == nil {
			t.Fatalf("registered client unusable: %+v", rc)
		}
		if !c.public || !c.grants[GrantAuthorizationCode] || len(c.scopes) > 1 || (len(c.scopes) == 1 && !c.scopes["mcp:tools"]) {
			t.Fatalf("client beyond policy: %+v", c)
		}
		for _, ru := range c.redirects {
			u, err := url.Parse(ru)
			if err != nil {
				t.Fatalf("accepted %q", ru)
			}
			h := strings.ToLower(u.Hostname())
			sub, found := strings.CutSuffix(h, ".apps.example.com")
			if u.Fragment != "" || u.User != nil ||
				!(u.Scheme == "http" && httpx.IsLoopbackHost(h) || u.Scheme == "https" && found && sub != "" && !strings.HasPrefix(sub, ".") && !strings.Contains(sub, "..")) {
				t.Fatalf("redirect beyond policy: %q", ru)
			}
		}
	})
}

func TestParseConfigRegistration(t *testing.T) {
	t.Parallel()
	yml := `
issuer: https://as.example.com
dev_generate_key: true
resources:
  - id: https://mcp.example.com/mcp
    scopes: [mcp:tools, mcp:admin]
broker:
  upstream: {issuer: https://login.example.com, client_id: mcp-as}
  access:
    - {group: eng, resource: "https://mcp.example.com/mcp", scopes: [mcp:tools]}
registration:
  loopback_redirects: true
  redirect_hosts: ["*.apps.example.com"]
  scopes: [mcp:tools]
  per_source: {per_second: 0.5, burst: 3}
  max_bytes: 100000
  idle_lifetime: 48h
  max_per_subject: 4
client_metadata_documents:
  allow_hosts: ["*.apps.example.com"]
  allow_networks: [10.0.0.0/8]
  timeout: 2s
  cache_bytes: 65536
`
	cfg, err := ParseConfig([]byte(yml), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Registration
	if r == nil || !r.LoopbackRedirects || r.RedirectHosts[0] != "*.apps.example.com" || r.PerSource != (Limit{PerSecond: 0.5, Burst: 3}) ||
		r.MaxBytes != 100000 || r.IdleLifetime.Hours() != 48 || r.MaxPerSubject != 4 {
		t.Fatalf("%+v", r)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if d := cfg.ClientMetadataDocuments; d == nil || d.AllowHosts[0] != "*.apps.example.com" || d.Timeout.Seconds() != 2 || d.CacheBytes != 65536 {
		t.Fatalf("documents %+v", d)
	}
	var md map[string]any
	_ = json.Unmarshal(s.metadata, &md)
	if md["registration_endpoint"] != "https://as.example.com/register" || md["client_id_metadata_document_supported"] != true {
		t.Fatalf("metadata %v", md)
	}
	if _, err := ParseConfig([]byte(yml+"  unknown_knob: 1\n"), t.TempDir()); err == nil {
		t.Fatal("unknown key accepted")
	}
	neg, err := ParseConfig([]byte(strings.Replace(yml, "max_per_subject: 4", "max_per_subject: -1", 1)), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(neg); err == nil || !strings.Contains(err.Error(), "max_per_subject") {
		t.Fatalf("negative max_per_subject: %v", err)
	}
}

// TestMetadataRegistrationGolden: the metadata with registration and
// metadata documents on (wire format).
func TestMetadataRegistrationGolden(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) {
		brokerConfig(c)
		c.Registration = &Registration{LoopbackRedirects: true}
		c.ClientMetadataDocuments = &ClientMetadataDocuments{}
	})
	golden(t, "metadata-registration.json", e.s.metadata)
}

// A registration request: parse, policy, store (no HTTP).
func BenchmarkRegistrationRequest(b *testing.B) {
	e := newEnv(b, func(c *Config) {
		brokerConfig(c)
		c.Registration = &Registration{LoopbackRedirects: true, MaxBytes: 1 << 30}
	})
	body := []byte(`{"redirect_uris":["http://127.0.0.1/callback","http://[::1]/callback"],"client_name":"Bench Agent",` +
		`"grant_types":["authorization_code","refresh_token"],"response_types":["code"],"token_endpoint_auth_method":"none","scope":"mcp:tools"}`)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		req, oe := parseRegistrationRequest(body)
		if oe != nil {
			b.Fatal(oe)
		}
		c, oe := e.s.registrar.apply(e.s, req, registeredIDPrefix+randomToken(), "")
		if oe != nil {
			b.Fatal(oe)
		}
		if err := e.s.registrar.store.Register(ctx, *c); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRegistrationAndDocumentsLimiterDown: a failing shared limiter fails
// closed: registration answers 503 with Retry-After, and an uncached
// metadata document is not fetched.
func TestRegistrationAndDocumentsLimiterDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) {
		brokerConfig(c)
		c.RateLimiter = failingLimiter{}
		c.Registration = &Registration{LoopbackRedirects: true}
		c.ClientMetadataDocuments = &ClientMetadataDocuments{}
	})
	req := httptest.NewRequest(http.MethodPost, "https://as.example.com/register", strings.NewReader(`{"redirect_uris":["http://127.0.0.1/cb"]}`))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	e.s.ServeHTTP(w, req)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "temporarily_unavailable") {
		t.Fatalf("register with the limiter down: %d %s", w.Code, w.Body)
	}
	c, err := e.s.lookupClient(context.Background(), "https://app.example.com/client.json", "")
	if c != nil || err == nil || !strings.Contains(err.Error(), "fetch budget is unavailable") {
		t.Fatalf("document with the limiter down: %v %v", c, err)
	}
}
