package authserver_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
)

// register posts body to the registration endpoint from source src.
func (e *brokerEnv) register(t *testing.T, src, ct, body string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/register", strings.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("X-Test-Source", src)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out, resp.Header
}

// withRegistration turns registration on with a loopback-only policy and
// takes the source address from X-Test-Source.
func withRegistration(mut func(*authserver.Registration)) func(*authserver.Config) {
	return func(c *authserver.Config) {
		r := &authserver.Registration{LoopbackRedirects: true, RedirectHosts: []string{"*.apps.example.com"}}
		if mut != nil {
			mut(r)
		}
		c.Registration = r
		c.ClientAddress = func(r *http.Request) string { return r.Header.Get("X-Test-Source") }
	}
}

func metadataOf(t *testing.T, e *brokerEnv) map[string]any {
	t.Helper()
	resp, body := get(t, http.DefaultClient, e.srv.URL+"/.well-known/oauth-authorization-server")
	if resp.StatusCode != 200 {
		t.Fatalf("metadata %d", resp.StatusCode)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// knownClient reports whether the authorization endpoint knows id (a
// redirected error) or not (a page), without following the redirect. The
// lookup is not a use: it does not keep a registered client.
func (e *brokerEnv) knownClient(t *testing.T, id string) bool {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	p := url.Values{"client_id": {id}, "redirect_uri": {brRedirect}, "response_type": {"token"}}
	resp, _ := get(t, c, e.srv.URL+"/authorize?"+p.Encode())
	return resp.StatusCode == http.StatusSeeOther
}

func TestRegistrationOffByDefault(t *testing.T) {
	e := newBrokerEnv(t, nil)
	if _, ok := metadataOf(t, e)["registration_endpoint"]; ok {
		t.Fatal("registration_endpoint advertised while registration is off")
	}
	if status, _, _ := e.register(t, "a", "application/json", `{"redirect_uris":["http://127.0.0.1/cb"]}`); status != http.StatusNotFound {
		t.Fatalf("register while off: %d", status)
	}
}

// TestRegistrationEndToEnd: a public client registers, logs a user in
// through the broker (any loopback port), redeems the code and refreshes.
func TestRegistrationEndToEnd(t *testing.T) {
	e := newBrokerEnv(t, withRegistration(nil))
	if got := metadataOf(t, e)["registration_endpoint"]; got != e.srv.URL+"/register" {
		t.Fatalf("registration_endpoint %v", got)
	}
	status, reg, hdr := e.register(t, "a", "application/json; charset=utf-8", `{
		"redirect_uris": ["http://127.0.0.1/callback"], "client_name": "Shiny Agent",
		"grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
		"token_endpoint_auth_method": "none", "scope": "mcp:tools offline_access", "logo_uri": "https://x.example/l.png",
		"software_statement": "ignored", "client_name#fr": "Agent brillant"}`)
	if status != http.StatusCreated || hdr.Get("Cache-Control") != "no-store" {
		t.Fatalf("register: %d %v", status, reg)
	}
	id, _ := reg["client_id"].(string)
	if !strings.HasPrefix(id, "dcr-") || reg["token_endpoint_auth_method"] != "none" || reg["client_secret"] != nil ||
		reg["scope"] != "mcp:tools" || reg["client_name"] != "Shiny Agent" || reg["client_id_issued_at"] == nil {
		t.Fatalf("registration response %v", reg)
	}
	c := e.browser()
	ver, ch := pkcePair()
	redirect := "http://127.0.0.1:51234/callback"
	resp, page := get(t, c, e.srv.URL+"/authorize?"+e.authzParams(id, redirect, ch).Encode())
	if resp.StatusCode != 200 || !strings.Contains(page, "Shiny Agent") || !strings.Contains(page, "registered itself") {
		t.Fatalf("consent page %d: %s", resp.StatusCode, page)
	}
	resp = e.consent(t, c, page, "allow")
	loc, _ := url.Parse(resp.Header.Get("Location"))
	form := codeForm(loc.Query().Get("code"), redirect, ver)
	form.Set("client_id", id)
	status, tok, _ := e.token(t, form, false)
	if status != 200 || tok["refresh_token"] == nil || tok["scope"] != "mcp:tools" {
		t.Fatalf("token: %d %v", status, tok)
	}
	s, b, _ := e.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {id}}, false)
	if s != 200 {
		t.Fatalf("refresh: %d %v", s, b)
	}
}

// TestRegistrationRequestRules: RFC 7591 §3.2.2 errors for what the policy
// or the strict parser refuses.
func TestRegistrationRequestRules(t *testing.T) {
	e := newBrokerEnv(t, withRegistration(func(r *authserver.Registration) {
		r.PerSource = authserver.Limit{PerSecond: 100, Burst: 1000}
		r.Global = authserver.Limit{PerSecond: 100, Burst: 1000}
	}))
	const ok = `"redirect_uris":["http://127.0.0.1/cb"]`
	for _, tc := range []struct {
		name, ct, body string
		status         int
		code           string
	}{
		{"minimal", "application/json", `{` + ok + `}`, 201, ""},
		{"https allowed host", "application/json", `{"redirect_uris":["https://a.apps.example.com/cb"]}`, 201, ""},
		{"ipv6 loopback", "application/json", `{"redirect_uris":["http://[::1]:8080/cb"]}`, 201, ""},
		{"wrong content type", "text/plain", `{` + ok + `}`, 400, "invalid_client_metadata"},
		{"form body", "application/x-www-form-urlencoded", `redirect_uris=x`, 400, "invalid_client_metadata"},
		{"not JSON", "application/json", `{` + ok, 400, "invalid_client_metadata"},
		{"array", "application/json", `[{` + ok + `}]`, 400, "invalid_client_metadata"},
		{"trailing data", "application/json", `{` + ok + `} {}`, 400, "invalid_client_metadata"},
		{"duplicate key", "application/json", `{` + ok + `,"redirect_uris":["http://127.0.0.1/x"]}`, 400, "invalid_client_metadata"},
		{"case variant key", "application/json", `{` + ok + `,"Redirect_uris":["http://127.0.0.1/x"]}`, 400, "invalid_client_metadata"},
		{"lone case variant key", "application/json", `{` + ok + `,"Client_Name":"x"}`, 400, "invalid_client_metadata"},
		{"too deep", "application/json", `{` + ok + `,"x":[[[[1]]]]}`, 400, "invalid_client_metadata"},
		{"no redirect", "application/json", `{"client_name":"x"}`, 400, "invalid_redirect_uri"},
		{"redirect not array", "application/json", `{"redirect_uris":"http://127.0.0.1/cb"}`, 400, "invalid_redirect_uri"},
		{"redirect number", "application/json", `{"redirect_uris":[1]}`, 400, "invalid_redirect_uri"},
		{"too many redirects", "application/json", `{"redirect_uris":["http://127.0.0.1/1","http://127.0.0.1/2","http://127.0.0.1/3","http://127.0.0.1/4","http://127.0.0.1/5","http://127.0.0.1/6","http://127.0.0.1/7","http://127.0.0.1/8","http://127.0.0.1/9"]}`, 400, "invalid_redirect_uri"},
		{"http non-loopback", "application/json", `{"redirect_uris":["http://evil.example/cb"]}`, 400, "invalid_redirect_uri"},
		{"https other host", "application/json", `{"redirect_uris":["https://evil.example/cb"]}`, 400, "invalid_redirect_uri"},
		{"https suffix trick", "application/json", `{"redirect_uris":["https://evilapps.example.com/cb"]}`, 400, "invalid_redirect_uri"},
		{"https bare domain of wildcard", "application/json", `{"redirect_uris":["https://apps.example.com/cb"]}`, 400, "invalid_redirect_uri"},
		{"empty label host", "application/json", `{"redirect_uris":["https://.apps.example.com/cb"]}`, 400, "invalid_redirect_uri"},
		{"private-use scheme", "application/json", `{"redirect_uris":["com.example.app:/cb"]}`, 400, "invalid_redirect_uri"},
		// hosts whose meaning differs between this check and a browser's
		// URL parser (IDNA mapping, forbidden host code points): only
		// ASCII letters, digits, '-' and '.' (IDNs as xn-- labels)
		{"fullwidth solidus host", "application/json", `{"redirect_uris":["https://evil.example%EF%BC%8F.apps.example.com/cb"]}`, 400, "invalid_redirect_uri"},
		{"ideographic full stop host", "application/json", `{"redirect_uris":["https://evil.example\u3002.apps.example.com/cb"]}`, 400, "invalid_redirect_uri"},
		{"forbidden code point host", "application/json", `{"redirect_uris":["https://evil.example<.apps.example.com/cb"]}`, 400, "invalid_redirect_uri"},
		{"quote in host", "application/json", `{"redirect_uris":["https://a\".apps.example.com/cb"]}`, 400, "invalid_redirect_uri"},
		{"fragment", "application/json", `{"redirect_uris":["http://127.0.0.1/cb#x"]}`, 400, "invalid_redirect_uri"},
		{"user info", "application/json", `{"redirect_uris":["http://u@127.0.0.1/cb"]}`, 400, "invalid_redirect_uri"},
		{"javascript", "application/json", `{"redirect_uris":["javascript:alert(1)"]}`, 400, "invalid_redirect_uri"},
		{"confidential refused", "application/json", `{` + ok + `,"token_endpoint_auth_method":"client_secret_basic"}`, 400, "invalid_client_metadata"},
		{"private_key_jwt", "application/json", `{` + ok + `,"token_endpoint_auth_method":"private_key_jwt"}`, 400, "invalid_client_metadata"},
		{"auth method not string", "application/json", `{` + ok + `,"token_endpoint_auth_method":["none"]}`, 400, "invalid_client_metadata"},
		{"client_credentials", "application/json", `{` + ok + `,"grant_types":["client_credentials"]}`, 400, "invalid_client_metadata"},
		{"refresh only", "application/json", `{` + ok + `,"grant_types":["refresh_token"]}`, 400, "invalid_client_metadata"},
		{"implicit", "application/json", `{` + ok + `,"response_types":["token"]}`, 400, "invalid_client_metadata"},
		{"scope partly outside policy", "application/json", `{` + ok + `,"scope":"mcp:tools offline_access"}`, 201, ""},
		{"scope wholly outside policy", "application/json", `{` + ok + `,"scope":"openid offline_access"}`, 400, "invalid_client_metadata"},
		{"scope malformed", "application/json", `{` + ok + `,"scope":"a  b"}`, 400, "invalid_client_metadata"},
		{"name control char", "application/json", `{` + ok + `,"client_name":"a\u0007b"}`, 400, "invalid_client_metadata"},
		// display spoofing on the consent page: bidi overrides reorder the
		// "(client id)" shown after the name; invisible and C1 characters
		{"name bidi override", "application/json", `{` + ok + `,"client_name":"Quickstart App\u202e)tratskciuq("}`, 400, "invalid_client_metadata"},
		{"name bidi isolate", "application/json", `{` + ok + `,"client_name":"a\u2067b"}`, 400, "invalid_client_metadata"},
		{"name zero width", "application/json", `{` + ok + `,"client_name":"Quick\u200bstart"}`, 400, "invalid_client_metadata"},
		{"name C1 control", "application/json", `{` + ok + `,"client_name":"a\u0085b"}`, 400, "invalid_client_metadata"},
		{"name line separator", "application/json", `{` + ok + `,"client_name":"a\u2028b"}`, 400, "invalid_client_metadata"},
		{"name BOM", "application/json", `{` + ok + `,"client_name":"\ufeffApp"}`, 400, "invalid_client_metadata"},
		{"name non-Latin accepted", "application/json", `{` + ok + `,"client_name":"Агент 代理 é"}`, 201, ""},
		{"name too long", "application/json", `{` + ok + `,"client_name":"` + strings.Repeat("é", 101) + `"}`, 400, "invalid_client_metadata"},
		{"null members are absent", "application/json", `{` + ok + `,"client_name":null,"scope":null,"grant_types":null}`, 201, ""},
		{"too large", "application/json", `{` + ok + `,"x":"` + strings.Repeat("a", 9000) + `"}`, 413, "invalid_client_metadata"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out, _ := e.register(t, "rules", tc.ct, tc.body)
			if status != tc.status || (tc.code != "" && out["error"] != tc.code) {
				t.Fatalf("got %d %v, want %d %s", status, out, tc.status, tc.code)
			}
		})
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/register", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Fatalf("GET /register: %d", resp.StatusCode)
	}
}

// TestRegistrationConfidential: with AllowConfidential a client gets a
// secret that authenticates it (client_secret_post); a wrong one does not.
func TestRegistrationConfidential(t *testing.T) {
	e := newBrokerEnv(t, withRegistration(func(r *authserver.Registration) { r.AllowConfidential = true }))
	status, reg, _ := e.register(t, "a", "application/json", `{"redirect_uris":["https://x.apps.example.com/cb"],"token_endpoint_auth_method":"client_secret_post"}`)
	if status != 201 || reg["client_secret"] == nil || reg["client_secret_expires_at"] != float64(0) {
		t.Fatalf("register: %d %v", status, reg)
	}
	id, secret := reg["client_id"].(string), reg["client_secret"].(string)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {"bogus"}, "redirect_uri": {"https://x.apps.example.com/cb"},
		"code_verifier": {strings.Repeat("v", 43)}, "client_id": {id}, "client_secret": {secret}}
	if s, b, _ := e.token(t, form, false); s != 400 || b["error"] != "invalid_grant" {
		t.Fatalf("authenticated client: %d %v", s, b)
	}
	form.Set("client_secret", secret+"x")
	if s, b, _ := e.token(t, form, false); s != 401 || b["error"] != "invalid_client" {
		t.Fatalf("wrong secret: %d %v", s, b)
	}
	// Without token_endpoint_auth_method a confidential policy defaults to Basic.
	if status, reg, _ := e.register(t, "a", "application/json", `{"redirect_uris":["http://127.0.0.1/cb"]}`); status != 201 ||
		reg["token_endpoint_auth_method"] != "client_secret_basic" || reg["client_secret"] == nil {
		t.Fatalf("default method: %d %v", status, reg)
	}
}

// TestRegistrationRateLimits: per source, then global; 429 with
// Retry-After, charged before the body is read.
func TestRegistrationRateLimits(t *testing.T) {
	e := newBrokerEnv(t, withRegistration(func(r *authserver.Registration) {
		r.PerSource = authserver.Limit{PerSecond: 0.001, Burst: 2}
		r.Global = authserver.Limit{PerSecond: 0.001, Burst: 3}
	}))
	body := `{"redirect_uris":["http://127.0.0.1/cb"]}`
	for i, want := range []struct {
		src    string
		status int
	}{{"a", 201}, {"a", 400}, {"a", 429}, {"b", 201}, {"c", 429}} {
		b := body
		if want.status == 400 {
			b = "garbage" // a refused request costs a registration too
		}
		status, out, hdr := e.register(t, want.src, "application/json", b)
		if status != want.status {
			t.Fatalf("request %d from %s: %d %v", i, want.src, status, out)
		}
		if status == 429 && (hdr.Get("Retry-After") == "" || out["error"] != "temporarily_unavailable") {
			t.Fatalf("429 without Retry-After: %v %v", hdr, out)
		}
	}
}

// TestRegistrationBoundedAndExpiry: the store is bounded in bytes (the
// oldest client that never completed a login goes first, however often it
// was named; 503 when all have) and a client unused for IdleLifetime is
// forgotten.
func TestRegistrationBoundedAndExpiry(t *testing.T) {
	e := newBrokerEnv(t, withRegistration(func(r *authserver.Registration) {
		r.MaxBytes = 2000 // two registrations of this size
		r.IdleLifetime = time.Hour
	}))
	reg := func(src string) (int, string) {
		status, out, _ := e.register(t, src, "application/json", `{"redirect_uris":["http://127.0.0.1/callback"],"client_name":"n"}`)
		id, _ := out["client_id"].(string)
		return status, id
	}
	loginWith := func(id string) {
		t.Helper()
		ver, ch := pkcePair()
		loc := e.login(t, e.browser(), e.authzParams(id, brRedirect, ch))
		form := codeForm(loc.Query().Get("code"), brRedirect, ver)
		form.Set("client_id", id)
		if status, body, _ := e.token(t, form, false); status != 200 {
			t.Fatalf("login with %s: %d %v", id, status, body)
		}
	}
	_, c1 := reg("a")
	_, c2 := reg("b")
	loginWith(c1)
	for i := 0; i < 3; i++ {
		_ = e.knownClient(t, c2) // named, never logged in with
	}
	status, c3 := reg("c")
	if status != 201 {
		t.Fatalf("third registration: %d", status)
	}
	if e.knownClient(t, c2) {
		t.Fatal("c2, which never completed a login, was not evicted")
	}
	if !e.knownClient(t, c1) || !e.knownClient(t, c3) {
		t.Fatal("c1 or c3 evicted")
	}
	loginWith(c3)
	if status, _ := reg("d"); status != http.StatusServiceUnavailable {
		t.Fatalf("full of used clients: %d", status)
	}
	e.clock.Add(time.Hour)
	if e.knownClient(t, c1) {
		t.Fatal("idle client not forgotten")
	}
	if status, _ := reg("e"); status != 201 {
		t.Fatalf("after expiry: %d", status)
	}
}

func TestRegistrationConfigRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		mut  func(*authserver.Config)
	}{
		{"no broker", func(c *authserver.Config) { c.Broker = nil; c.Clients = nil }},
		{"no redirect policy", func(c *authserver.Config) {
			c.Registration.LoopbackRedirects = false
			c.Registration.RedirectHosts = nil
		}},
		{"bad host", func(c *authserver.Config) { c.Registration.RedirectHosts = []string{"*"} }},
		{"host with path", func(c *authserver.Config) { c.Registration.RedirectHosts = []string{"a.example.com/x"} }},
		{"client_credentials", func(c *authserver.Config) { c.Registration.GrantTypes = []string{"client_credentials"} }},
		{"refresh only", func(c *authserver.Config) { c.Registration.GrantTypes = []string{"refresh_token"} }},
		{"unknown scope", func(c *authserver.Config) { c.Registration.Scopes = []string{"root"} }},
		{"unknown resource", func(c *authserver.Config) { c.Registration.Resources = []string{"https://nope.example/mcp"} }},
		{"negative bytes", func(c *authserver.Config) { c.Registration.MaxBytes = -1 }},
		{"negative limit", func(c *authserver.Config) { c.Registration.PerSource = authserver.Limit{PerSecond: -1, Burst: 1} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := authserver.Config{
				Issuer:         "https://as.example.com",
				Resources:      []authserver.Resource{{ID: e2eMCP, Scopes: []string{"mcp:tools"}}},
				DevGenerateKey: true,
				Clients:        []authserver.Client{{ID: "x", AuthMethods: []string{"none"}, GrantTypes: []string{"authorization_code"}, RedirectURIs: []string{brRedirect}}},
				Broker: &authserver.Broker{Upstream: authserver.Upstream{Issuer: "https://login.example.com", ClientID: "as"},
					Access: []authserver.AccessRule{{Group: "g", Resource: e2eMCP}}},
				Registration: &authserver.Registration{LoopbackRedirects: true},
			}
			if _, err := authserver.New(cfg); err != nil {
				t.Fatalf("base config: %v", err)
			}
			tc.mut(&cfg)
			if _, err := authserver.New(cfg); !errors.Is(err, authserver.ErrInvalidConfig) || !strings.Contains(err.Error(), "registration") {
				t.Fatalf("accepted or refused for another reason: %v", err)
			}
		})
	}
}

// TestRegistrationErrorTextQuoted: a refused value that a client sent comes
// back in error_description quoted, control characters escaped, and within
// core.MaxLogField bytes after escaping.
func TestRegistrationErrorTextQuoted(t *testing.T) {
	e := newBrokerEnv(t, withRegistration(nil))
	const ok = `"redirect_uris":["http://127.0.0.1/cb"]`
	for _, tc := range []struct{ name, value string }{
		{"control characters", strings.Repeat(`\u0001`, 120)},
		{"C1 controls", strings.Repeat(`\u0085`, 60)},
		{"plain", "password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out, _ := e.register(t, "quoted-"+tc.name, "application/json", `{`+ok+`,"grant_types":["`+tc.value+`"]}`)
			desc, _ := out["error_description"].(string)
			if status != 400 || out["error"] != "invalid_client_metadata" || !strings.Contains(desc, `grant type not allowed: "`) {
				t.Fatalf("got %d %v", status, out)
			}
			if len(desc) > len("grant type not allowed: ")+256 {
				t.Fatalf("error_description is %d bytes", len(desc))
			}
			if strings.ContainsFunc(desc, func(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) }) {
				t.Fatalf("error_description holds control characters: %q", desc)
			}
		})
	}
}
