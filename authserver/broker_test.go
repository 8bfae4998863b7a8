package authserver_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/authserver/replay"
	"github.com/mcpauthz/mcpauthz/authserver/storetest"
	"github.com/mcpauthz/mcpauthz/core/verifier"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

const (
	brPublic   = "native-app"
	brConfid   = "web-app"
	brSecret   = "web-app-secret-0123456789abcdef"
	brRedirect = "http://127.0.0.1/callback"
	brWebRedir = "https://app.example.com/cb"
	brUpClient = "mcp-as"
)

// brokerEnv is an AS with a broker on loopback, its upstream IdP, and a
// "browser" (cookie jar) that stops at the client's redirect URI.
type brokerEnv struct {
	as    *authserver.Server
	front atomic.Pointer[http.Handler] // what e.srv serves (as by default)
	cfg   authserver.Config
	srv   *httptest.Server
	up    *storetest.Upstream
	clock *testkit.Clock
}

func newBrokerEnv(t *testing.T, mutate func(*authserver.Config)) *brokerEnv {
	t.Helper()
	clock := testkit.NewClock(time.Now())
	up := storetest.NewUpstream(t, brUpClient, clock.Now)
	e := &brokerEnv{up: up, clock: clock}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*e.front.Load()).ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	hash, err := authserver.HashSecret(brSecret)
	if err != nil {
		t.Fatal(err)
	}
	code := []string{authserver.GrantAuthorizationCode, authserver.GrantRefreshToken}
	cfg := authserver.Config{
		Issuer: e.srv.URL,
		Resources: []authserver.Resource{
			{ID: e2eMCP, Scopes: []string{"mcp:tools", "mcp:admin"}},
			{ID: e2eOther, Scopes: []string{"other:read"}},
		},
		Clients: []authserver.Client{
			{ID: brPublic, Name: "Native App", AuthMethods: []string{authserver.AuthNone}, GrantTypes: code,
				RedirectURIs: []string{brRedirect}, Scopes: []string{"mcp:tools", "mcp:admin", "other:read"}},
			{ID: brConfid, SecretHash: hash, GrantTypes: []string{authserver.GrantAuthorizationCode},
				RedirectURIs: []string{brWebRedir, "http://127.0.0.1/web"}, Scopes: []string{"mcp:tools"}},
		},
		DevGenerateKey: true,
		RateLimit:      authserver.RateLimit{Disabled: true},
		Now:            clock.Now,
		Broker: &authserver.Broker{
			Upstream: authserver.Upstream{Issuer: up.URL(), ClientID: brUpClient, ClientSecret: "up-secret",
				Claims: map[string]string{"groups": "groups"}},
			Access: []authserver.AccessRule{
				{Group: "eng", Resource: e2eMCP, Scopes: []string{"mcp:tools"}},
				{Group: "admins", Resource: e2eMCP, Scopes: []string{"mcp:tools", "mcp:admin"}},
			},
		},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	as, err := authserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = as
	e.front.Store(&h)
	e.as = as
	e.cfg = cfg
	return e
}

// browser is a user agent with cookies that does not follow redirects to
// the client (any URL outside the AS and the upstream IdP).
func (e *brokerEnv) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if len(via) > 10 {
			return errors.New("too many redirects")
		}
		if strings.HasPrefix(r.URL.String(), e.srv.URL) || strings.HasPrefix(r.URL.String(), e.up.URL()) {
			return nil
		}
		return http.ErrUseLastResponse
	}}
}

func pkcePair() (verifier, challenge string) {
	verifier = base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef-" + time.Now().String()))
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func (e *brokerEnv) authzParams(client, redirect, challenge string) url.Values {
	return url.Values{
		"response_type": {"code"}, "client_id": {client}, "redirect_uri": {redirect},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {"st-123"}, "resource": {e2eMCP},
	}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// consent posts the consent form found in page.
func (e *brokerEnv) consent(t *testing.T, c *http.Client, page, decision string) *http.Response {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no consent form in page: %s", page)
	}
	resp, err := c.PostForm(e.srv.URL+"/consent", url.Values{"csrf": {m[1]}, "decision": {decision}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// login runs /authorize → upstream → callback and, when a consent page is
// shown, allows it. It returns the client's redirect.
func (e *brokerEnv) login(t *testing.T, c *http.Client, p url.Values) *url.URL {
	t.Helper()
	resp, body := get(t, c, e.srv.URL+"/authorize?"+p.Encode())
	if resp.StatusCode == http.StatusOK {
		resp = e.consent(t, c, body, "allow")
	}
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("authorize: %d %s", resp.StatusCode, body)
	}
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (e *brokerEnv) token(t *testing.T, form url.Values, basic bool) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.as.TokenEndpoint(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(brConfid, brSecret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, resp.Header
}

func codeForm(code, redirect, verifier string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect},
		"code_verifier": {verifier}, "client_id": {brPublic}, "resource": {e2eMCP}}
}

// TestBrokerEndToEnd: code → token → the core verifier accepts it for the
// MCP resource with the ID-JAG claim shape; refresh rotates; reuse revokes
// the family; consent is remembered and revocable.
// refreshFormat is handle.generation.secret.
var refreshFormat = regexp.MustCompile(`^[A-Za-z0-9_-]{22}\.[1-9][0-9]*\.[A-Za-z0-9_-]{43}$`)

func TestBrokerEndToEnd(t *testing.T) {
	e := newBrokerEnv(t, nil)
	c := e.browser()
	ver, ch := pkcePair()
	redirect := "http://127.0.0.1:49152/callback" // any loopback port (RFC 8252 §7.3)
	p := e.authzParams(brPublic, redirect, ch)
	p.Del("resource") // RFC 8707 resource omitted: the default resource

	resp, page := get(t, c, e.srv.URL+"/authorize?"+p.Encode())
	if resp.StatusCode != 200 || !strings.Contains(page, "Native App") || !strings.Contains(page, e2eMCP) ||
		!strings.Contains(page, "mcp:tools") || strings.Contains(page, "mcp:admin") || !strings.Contains(page, "dave@example.com") {
		t.Fatalf("consent page %d: %s", resp.StatusCode, page)
	}
	for h, want := range map[string]string{"X-Frame-Options": "DENY", "Cache-Control": "no-store"} {
		if resp.Header.Get(h) != want {
			t.Errorf("%s = %q", h, resp.Header.Get(h))
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'") ||
		!strings.Contains(csp, "form-action 'self' http://127.0.0.1:49152") {
		t.Errorf("CSP %q", csp)
	}
	resp = e.consent(t, c, page, "allow")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("consent: %d", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	if loc.Host != "127.0.0.1:49152" || q.Get("state") != "st-123" || q.Get("iss") != e.as.Issuer() || q.Get("code") == "" {
		t.Fatalf("authorization response %s", loc)
	}
	form := codeForm(q.Get("code"), redirect, ver)
	status, body, hdr := e.token(t, form, false)
	if status != 200 || hdr.Get("Cache-Control") != "no-store" {
		t.Fatalf("token: %d %v %v", status, body, hdr)
	}
	v, err := verifier.New(context.Background(), verifier.Config{
		Issuers: []verifier.IssuerConfig{{Issuer: e.as.Issuer()}}, Audience: []string{e2eMCP}, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := v.Verify(context.Background(), body["access_token"].(string))
	if err != nil {
		t.Fatalf("core verifier rejects the broker's token: %v", err)
	}
	if cl.Subject != "dave" || cl.ClientID != brPublic || strings.Join(cl.Scopes, " ") != "mcp:tools" {
		t.Fatalf("claims %+v", cl)
	}
	for name, want := range map[string]string{"idp_iss": e.up.URL(), "tenant": "acme", "acr": "mfa"} {
		if got, _ := cl.String(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if g := cl.Strings("groups", false); len(g) != 1 || g[0] != "eng" {
		t.Errorf("groups %v", g)
	}
	if a := cl.Strings("amr", false); len(a) != 2 {
		t.Errorf("amr %v", a)
	}
	if !cl.Raw.Has("auth_time") {
		t.Errorf("auth_time missing")
	}
	if cl.Raw.Has("email") {
		t.Errorf("email copied without a claim mapping")
	}
	// Code replay: refused, and the refresh family it started is revoked.
	rt1 := body["refresh_token"].(string)
	if status, body, _ := e.token(t, form, false); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("code replay: %d %v", status, body)
	}
	refresh := func(rt string) (int, map[string]any) {
		s, b, _ := e.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {brPublic}}, false)
		return s, b
	}
	if s, b := refresh(rt1); s != 400 || b["error"] != "invalid_grant" {
		t.Fatalf("refresh after code replay: %d %v", s, b)
	}

	// Second login: consent remembered, no page; rotation and reuse.
	ver2, ch2 := pkcePair()
	loc = e.login(t, c, e.authzParams(brPublic, brRedirect, ch2))
	resp2 := loc.Query()
	status, body, _ = e.token(t, codeForm(resp2.Get("code"), brRedirect, ver2), false)
	if status != 200 {
		t.Fatalf("second code: %d %v", status, body)
	}
	rtA := body["refresh_token"].(string)
	s, b := refresh(rtA)
	if s != 200 || b["refresh_token"] == rtA || b["refresh_token"] == nil {
		t.Fatalf("rotation: %d %v", s, b)
	}
	rtB := b["refresh_token"].(string)
	// handle.generation.secret: same handle, next generation
	if !refreshFormat.MatchString(rtA) || !refreshFormat.MatchString(rtB) || rtA[:23] != rtB[:23] ||
		rtA[22:25] != ".1." || rtB[22:25] != ".2." {
		t.Fatalf("refresh token format: %q then %q", rtA, rtB)
	}
	// Tokens of the earlier opaque format, a future generation or a wrong
	// secret are refused and revoke nothing.
	for _, bad := range []string{rtB[25:], rtB[:23] + "3" + rtB[24:], rtB[:len(rtB)-1] + "A", rtB[:len(rtB)-1] + "B"} {
		if bad == rtB {
			continue
		}
		if s, b := refresh(bad); s != 400 || b["error"] != "invalid_grant" {
			t.Fatalf("refresh with %q: %d %v", bad, s, b)
		}
	}
	if s, b := refresh(rtB); s != 200 {
		t.Fatalf("current token after refused guesses: %d %v", s, b)
	} else {
		rtB = b["refresh_token"].(string)
	}
	if s, b := refresh(rtA); s != 400 || b["error"] != "invalid_grant" {
		t.Fatalf("reuse of rotated token: %d %v", s, b)
	}
	if s, _ := refresh(rtB); s != 400 {
		t.Fatalf("family not revoked after reuse: %d", s)
	}

	// Revoked consent: the page comes back.
	if ok, err := e.as.RevokeConsent(context.Background(), "dave", brPublic); !ok || err != nil {
		t.Fatalf("no consent remembered: %v", err)
	}
	_, ch3 := pkcePair()
	resp, page = get(t, c, e.srv.URL+"/authorize?"+e.authzParams(brPublic, brRedirect, ch3).Encode())
	if resp.StatusCode != 200 || !csrfRE.MatchString(page) {
		t.Fatalf("after revocation: %d", resp.StatusCode)
	}
}

// TestAuthorizeRequestRules: what is shown as a page (never redirected)
// and what is redirected with which error.
func TestAuthorizeRequestRules(t *testing.T) {
	e := newBrokerEnv(t, nil)
	_, ch := pkcePair()
	tests := []struct {
		name   string
		edit   func(url.Values)
		raw    string // appended raw
		page   bool   // 400 page, no Location
		err    string // redirected error ("" = accepted: 302 to the IdP)
		client string
	}{
		{name: "valid", edit: func(url.Values) {}},
		{name: "loopback any port, public client", edit: func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1:61000/callback") }},
		{name: "loopback other path", edit: func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1:61000/other") }, page: true},
		{name: "loopback other host", edit: func(v url.Values) { v.Set("redirect_uri", "http://localhost:61000/callback") }, page: true},
		{name: "loopback port, confidential client", client: brConfid, edit: func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1:61000/web") }, page: true},
		{name: "confidential exact", client: brConfid, edit: func(v url.Values) { v.Set("redirect_uri", brWebRedir) }},
		{name: "https prefix attack", client: brConfid, edit: func(v url.Values) { v.Set("redirect_uri", brWebRedir+".evil.example") }, page: true},
		{name: "unknown client", edit: func(v url.Values) { v.Set("client_id", "nobody") }, page: true},
		{name: "missing client", edit: func(v url.Values) { v.Del("client_id") }, page: true},
		{name: "missing redirect_uri", edit: func(v url.Values) { v.Del("redirect_uri") }, page: true},
		{name: "unregistered redirect_uri", edit: func(v url.Values) { v.Set("redirect_uri", "https://evil.example/cb") }, page: true},
		{name: "duplicate parameter", edit: func(url.Values) {}, raw: "&state=again", page: true},
		{name: "plain PKCE", edit: func(v url.Values) { v.Set("code_challenge_method", "plain") }, err: "invalid_request"},
		{name: "missing method", edit: func(v url.Values) { v.Del("code_challenge_method") }, err: "invalid_request"},
		{name: "missing challenge", edit: func(v url.Values) { v.Del("code_challenge") }, err: "invalid_request"},
		{name: "short challenge", edit: func(v url.Values) { v.Set("code_challenge", "abc") }, err: "invalid_request"},
		{name: "token response type", edit: func(v url.Values) { v.Set("response_type", "token") }, err: "unsupported_response_type"},
		{name: "unknown resource", edit: func(v url.Values) { v.Set("resource", "https://evil.example/mcp") }, err: "invalid_target"},
		{name: "malformed scope", edit: func(v url.Values) { v.Set("scope", "a\"b") }, err: "invalid_scope"},
		{name: "request object", edit: func(v url.Values) { v.Set("request", "eyJ") }, err: "request_not_supported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cid := brPublic
			if tc.client != "" {
				cid = tc.client
			}
			p := e.authzParams(cid, brRedirect, ch)
			tc.edit(p)
			c := e.browser()
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			resp, body := get(t, c, e.srv.URL+"/authorize?"+p.Encode()+tc.raw)
			loc := resp.Header.Get("Location")
			switch {
			case tc.page:
				if resp.StatusCode != 400 || loc != "" || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
					t.Fatalf("want an error page, got %d Location=%q", resp.StatusCode, loc)
				}
				if resp.Header.Get("X-Frame-Options") != "DENY" {
					t.Fatal("error page without X-Frame-Options")
				}
			case tc.err != "":
				u, _ := url.Parse(loc)
				if resp.StatusCode != http.StatusSeeOther || u.Query().Get("error") != tc.err || u.Query().Get("iss") != e.as.Issuer() || u.Query().Get("state") != "st-123" {
					t.Fatalf("want redirect with %s, got %d %q %s", tc.err, resp.StatusCode, loc, body)
				}
			default:
				if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, e.up.URL()+"/authorize?") {
					t.Fatalf("want redirect to the IdP, got %d %q %s", resp.StatusCode, loc, body)
				}
				ck := resp.Header.Get("Set-Cookie")
				if !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Lax") || strings.Contains(ck, "; Secure") || len(ck) > 3900 {
					t.Fatalf("login cookie %q", ck)
				}
				if strings.Contains(loc, ch) {
					t.Fatal("client's PKCE challenge forwarded upstream")
				}
			}
		})
	}
}

// TestCodeRedemptionRules: a code is bound to client, redirect URI,
// verifier and resource, lives 60 s, and is single use.
func TestCodeRedemptionRules(t *testing.T) {
	e := newBrokerEnv(t, nil)
	tests := []struct {
		name   string
		edit   func(url.Values)
		before func()
		basic  bool
		status int
		err    string
	}{
		{name: "valid", edit: func(url.Values) {}, status: 200},
		{name: "wrong verifier", edit: func(v url.Values) { v.Set("code_verifier", strings.Repeat("a", 43)) }, status: 400, err: "invalid_grant"},
		{name: "missing verifier", edit: func(v url.Values) { v.Del("code_verifier") }, status: 400, err: "invalid_request"},
		{name: "other redirect_uri", edit: func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1:1/callback") }, status: 400, err: "invalid_grant"},
		{name: "other resource", edit: func(v url.Values) { v.Set("resource", e2eOther) }, status: 400, err: "invalid_target"},
		{name: "other client", edit: func(v url.Values) { v.Del("client_id") }, basic: true, status: 400, err: "invalid_grant"},
		{name: "public client sends a secret", edit: func(v url.Values) { v.Set("client_secret", "x") }, status: 401, err: "invalid_client"},
		{name: "tampered code", edit: func(v url.Values) { c := v.Get("code"); v.Set("code", c[:len(c)-2]+"AA") }, status: 400, err: "invalid_grant"},
		{name: "expired after 60s", edit: func(url.Values) {}, before: func() { e.clock.Add(61 * time.Second) }, status: 400, err: "invalid_grant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ver, ch := pkcePair()
			loc := e.login(t, e.browser(), e.authzParams(brPublic, brRedirect, ch))
			form := codeForm(loc.Query().Get("code"), brRedirect, ver)
			tc.edit(form)
			if tc.before != nil {
				tc.before()
			}
			status, body, _ := e.token(t, form, tc.basic)
			if status != tc.status || (tc.err != "" && body["error"] != tc.err) {
				t.Fatalf("got %d %v, want %d %s", status, body, tc.status, tc.err)
			}
		})
	}
}

// TestBrokerRefusals: access policy, tampered state, missing cookie, nonce
// mismatch, CSRF, denied consent, upstream down, idle refresh lifetime.
func TestBrokerRefusals(t *testing.T) {
	t.Run("user outside the access policy", func(t *testing.T) {
		e := newBrokerEnv(t, nil)
		e.up.SetUser(storetest.UpstreamUser{Subject: "mallory", Groups: []string{"sales"}})
		_, ch := pkcePair()
		resp, page := get(t, e.browser(), e.srv.URL+"/authorize?"+e.authzParams(brPublic, brRedirect, ch).Encode())
		if resp.StatusCode != 403 || resp.Header.Get("Location") != "" || !strings.Contains(page, "access policy") {
			t.Fatalf("%d %s", resp.StatusCode, page)
		}
	})
	t.Run("scope beyond the user's groups", func(t *testing.T) {
		e := newBrokerEnv(t, nil)
		_, ch := pkcePair()
		p := e.authzParams(brPublic, brRedirect, ch)
		p.Set("scope", "mcp:admin")
		if resp, _ := get(t, e.browser(), e.srv.URL+"/authorize?"+p.Encode()); resp.StatusCode != 403 {
			t.Fatalf("%d", resp.StatusCode)
		}
		e.up.SetUser(storetest.UpstreamUser{Subject: "ada", Groups: []string{"admins"}})
		if resp, page := get(t, e.browser(), e.srv.URL+"/authorize?"+p.Encode()); resp.StatusCode != 200 || !strings.Contains(page, "mcp:admin") {
			t.Fatalf("admin: %d", resp.StatusCode)
		}
	})
	t.Run("tampered state and missing cookie", func(t *testing.T) {
		e := newBrokerEnv(t, nil)
		_, ch := pkcePair()
		c := e.browser()
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, _ := get(t, c, e.srv.URL+"/authorize?"+e.authzParams(brPublic, brRedirect, ch).Encode())
		upURL := resp.Header.Get("Location")
		resp, _ = get(t, c, upURL) // IdP redirects to the AS callback
		cb, _ := url.Parse(resp.Header.Get("Location"))
		q := cb.Query()
		q.Set("state", "forged")
		bad := *cb
		bad.RawQuery = q.Encode()
		if resp, _ := get(t, c, bad.String()); resp.StatusCode != 400 || resp.Header.Get("Location") != "" {
			t.Fatalf("tampered state: %d", resp.StatusCode)
		}
		if resp, _ := get(t, e.browser(), cb.String()); resp.StatusCode != 400 {
			t.Fatalf("callback in another browser: %d", resp.StatusCode)
		}
		if resp, page := get(t, c, cb.String()); resp.StatusCode != 200 || !csrfRE.MatchString(page) {
			t.Fatalf("genuine callback: %d", resp.StatusCode)
		}
	})
	t.Run("nonce mismatch", func(t *testing.T) {
		e := newBrokerEnv(t, nil)
		e.up.WrongNonce.Store(true)
		_, ch := pkcePair()
		if resp, _ := get(t, e.browser(), e.srv.URL+"/authorize?"+e.authzParams(brPublic, brRedirect, ch).Encode()); resp.StatusCode != 502 {
			t.Fatalf("%d", resp.StatusCode)
		}
	})
	t.Run("ID token with a duplicated claim", func(t *testing.T) {
		e := newBrokerEnv(t, nil)
		e.up.DuplicateGroups.Store(true)
		_, ch := pkcePair()
		p := e.authzParams(brPublic, brRedirect, ch)
		p.Set("scope", "mcp:admin")
		if resp, page := get(t, e.browser(), e.srv.URL+"/authorize?"+p.Encode()); resp.StatusCode != 502 || csrfRE.MatchString(page) {
			t.Fatalf("%d %s", resp.StatusCode, page)
		}
	})
	t.Run("consent body over 9 KiB", func(t *testing.T) {
		e := newBrokerEnv(t, nil)
		_, ch := pkcePair()
		c := e.browser()
		_, page := get(t, c, e.srv.URL+"/authorize?"+e.authzParams(brPublic, brRedirect, ch).Encode())
		m := csrfRE.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no consent form: %s", page)
		}
		form := url.Values{"csrf": {m[1]}, "decision": {"allow"}}.Encode() + "&pad="
		big := form + strings.Repeat("a", 9<<10+1-len(form))
		for _, tt := range []struct {
			name string
			body io.Reader // a strings.Reader has a Content-Length, a plain io.Reader is chunked
		}{
			{"Content-Length", strings.NewReader(big)},
			{"chunked", io.MultiReader(strings.NewReader(big))},
		} {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/consent", tt.body)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.Header.Get("Location") != "" {
				t.Fatalf("%s: %d", tt.name, resp.StatusCode)
			}
		}
		// 9 KiB exactly is parsed: the form is genuine, so the login goes on.
		resp, err := c.Post(e.srv.URL+"/consent", "application/x-www-form-urlencoded", strings.NewReader(big[:9<<10]))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("9 KiB form: %d", resp.StatusCode)
		}
	})
	t.Run("CSRF token and denied consent", func(t *testing.T) {
		e := newBrokerEnv(t, nil)
		_, ch := pkcePair()
		c := e.browser()
		_, page := get(t, c, e.srv.URL+"/authorize?"+e.authzParams(brPublic, brRedirect, ch).Encode())
		resp, err := c.PostForm(e.srv.URL+"/consent", url.Values{"csrf": {"forged"}, "decision": {"allow"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 || resp.Header.Get("Location") != "" {
			t.Fatalf("forged CSRF: %d", resp.StatusCode)
		}
		m := csrfRE.FindStringSubmatch(page)
		resp, err = e.browser().PostForm(e.srv.URL+"/consent", url.Values{"csrf": {m[1]}, "decision": {"allow"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Fatalf("CSRF token without the login cookie: %d", resp.StatusCode)
		}
		resp = e.consent(t, c, page, "deny")
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != 303 || loc.Query().Get("error") != "access_denied" || loc.Query().Get("iss") != e.as.Issuer() || loc.Query().Get("code") != "" {
			t.Fatalf("deny: %d %s", resp.StatusCode, loc)
		}
		if resp := e.consent(t, c, page, "allow"); resp.StatusCode != 403 {
			t.Fatalf("consent form reused: %d", resp.StatusCode)
		}
	})
	t.Run("upstream down", func(t *testing.T) {
		e := newBrokerEnv(t, nil)
		e.up.Down.Store(true)
		_, ch := pkcePair()
		resp, _ := get(t, e.browser(), e.srv.URL+"/authorize?"+e.authzParams(brPublic, brRedirect, ch).Encode())
		if resp.StatusCode != 503 || resp.Header.Get("Location") != "" {
			t.Fatalf("%d", resp.StatusCode)
		}
		e.up.Down.Store(false) // discovery failure is not cached
		if resp, _ := get(t, e.browser(), e.srv.URL+"/authorize?"+e.authzParams(brPublic, brRedirect, ch).Encode()); resp.StatusCode != 200 {
			t.Fatalf("after recovery: %d", resp.StatusCode)
		}
	})
	t.Run("refresh idle and absolute lifetimes", func(t *testing.T) {
		e := newBrokerEnv(t, func(c *authserver.Config) {
			c.Broker.RefreshIdleLifetime = time.Hour
			c.Broker.RefreshAbsoluteLifetime = 3 * time.Hour
		})
		c := e.browser()
		newRT := func() string {
			ver, ch := pkcePair()
			loc := e.login(t, c, e.authzParams(brPublic, brRedirect, ch))
			_, b, _ := e.token(t, codeForm(loc.Query().Get("code"), brRedirect, ver), false)
			return b["refresh_token"].(string)
		}
		refresh := func(rt string) (int, string) {
			s, b, _ := e.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {brPublic}}, false)
			next, _ := b["refresh_token"].(string)
			return s, next
		}
		rt := newRT()
		e.clock.Add(61 * time.Minute)
		if s, _ := refresh(rt); s != 400 {
			t.Fatalf("idle token accepted: %d", s)
		}
		rt = newRT()
		for i := 0; i < 3; i++ { // 59, 118, 177 min: within 3 h
			e.clock.Add(59 * time.Minute)
			s, next := refresh(rt)
			if s != 200 {
				t.Fatalf("refresh %d: %d", i, s)
			}
			rt = next
		}
		e.clock.Add(59 * time.Minute)
		if s, _ := refresh(rt); s != 400 {
			t.Fatalf("token beyond the absolute lifetime accepted: %d", s)
		}
	})
}

// TestBrokerAcrossReplicas: three servers with one CodeKey and shared
// replay, consent and client stores behind round robin: every step of a
// login lands on another replica than the one before, and works; the
// callback and the consent form are single use across replicas.
func TestBrokerAcrossReplicas(t *testing.T) {
	rp, err := replay.NewMemory(replay.MemoryConfig{})
	if err != nil {
		t.Fatal(err)
	}
	consents, _ := authserver.NewMemoryConsentStore(0, 0)
	clients, _ := authserver.NewMemoryClientStore(authserver.MemoryClientStoreConfig{})
	e := newBrokerEnv(t, func(c *authserver.Config) {
		c.Broker.CodeKey = func() []byte { h := sha256.Sum256([]byte("code key")); return h[:] }()
		c.Broker.ConsentStore = consents
		c.ReplayStore = rp
		c.Registration = &authserver.Registration{LoopbackRedirects: true, Store: clients}
	})
	replicas := []http.Handler{e.as}
	for range 2 {
		as, err := authserver.New(e.cfg)
		if err != nil {
			t.Fatal(err)
		}
		replicas = append(replicas, as)
	}
	var next atomic.Uint64
	var rr http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		replicas[next.Add(1)%3].ServeHTTP(w, r)
	})
	e.front.Store(&rr)

	// Registration at one replica, then every step at the next.
	resp, err := http.Post(e.srv.URL+"/register", "application/json", strings.NewReader(`{"redirect_uris":["`+brRedirect+`"],"client_name":"Replica Agent"}`))
	if err != nil {
		t.Fatal(err)
	}
	var reg struct {
		ClientID string `json:"client_id"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&reg)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || reg.ClientID == "" {
		t.Fatalf("register: %d", resp.StatusCode)
	}
	c := e.browser()
	v, ch := pkcePair()
	resp, page := get(t, c, e.srv.URL+"/authorize?"+e.authzParams(reg.ClientID, brRedirect, ch).Encode())
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Replica Agent") || !strings.Contains(page, "registered itself") {
		t.Fatalf("consent page: %d %s", resp.StatusCode, page)
	}
	m := csrfRE.FindStringSubmatch(page)
	srvURL, _ := url.Parse(e.srv.URL)
	orig := c.Jar.Cookies(srvURL)
	if len(orig) != 1 {
		t.Fatalf("login cookies %v", orig)
	}
	resp = e.consent(t, c, page, "allow")
	u, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || u.Query().Get("code") == "" {
		t.Fatalf("consent: %d %s", resp.StatusCode, u)
	}
	form := codeForm(u.Query().Get("code"), brRedirect, v)
	form.Set("client_id", reg.ClientID)
	if s, body, _ := e.token(t, form, false); s != http.StatusOK {
		t.Fatalf("token: %d %v", s, body)
	}
	// The same consent form again at each replica, with its login's
	// cookie restored (already used) or another login's cookie (not its
	// login): refused.
	for i := range 6 {
		ck := orig[0]
		if i%2 == 1 {
			ck = lastLoginCookie(t, e, reg.ClientID, ch)
		}
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/consent", strings.NewReader(url.Values{"csrf": {m[1]}, "decision": {"allow"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(ck)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusForbidden || (i%2 == 0) != strings.Contains(string(b), "already used") {
			t.Fatalf("replayed consent form (%d): %d %s", i, r.StatusCode, b)
		}
	}
	// Remembered consent at the other replicas: no page, a code at once.
	for range 2 {
		_, ch := pkcePair()
		u := e.login(t, c, e.authzParams(reg.ClientID, brRedirect, ch))
		if u.Query().Get("code") == "" {
			t.Fatalf("second login: %s", u)
		}
	}
	// Revocation at one replica holds at all of them.
	if ok, err := e.as.RevokeConsent(context.Background(), "dave", reg.ClientID); !ok || err != nil {
		t.Fatalf("revoke: %v %v", ok, err)
	}
	for range 3 {
		_, ch := pkcePair()
		if resp, page := get(t, c, e.srv.URL+"/authorize?"+e.authzParams(reg.ClientID, brRedirect, ch).Encode()); resp.StatusCode != http.StatusOK || !csrfRE.MatchString(page) {
			t.Fatalf("after revocation: %d", resp.StatusCode)
		}
	}
}

// lastLoginCookie starts a login and returns its cookie (another login
// than any consent form made before).
func lastLoginCookie(t *testing.T, e *brokerEnv, client, challenge string) *http.Cookie {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ := get(t, c, e.srv.URL+"/authorize?"+e.authzParams(client, brRedirect, challenge).Encode())
	if len(resp.Cookies()) != 1 {
		t.Fatalf("no login cookie: %d", resp.StatusCode)
	}
	return resp.Cookies()[0]
}

// TestBrokerCallbackOnce: the upstream callback of a login is handled
// once; the same URL with the same cookie again is refused (the upstream
// code is spent), and so is a second upstream code for the same login
// (the replay mark, set once the first ID token was verified).
func TestBrokerCallbackOnce(t *testing.T) {
	e := newBrokerEnv(t, nil)
	_, ch := pkcePair()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ := get(t, c, e.srv.URL+"/authorize?"+e.authzParams(brPublic, brRedirect, ch).Encode())
	ck := resp.Cookies()
	upstream := resp.Header.Get("Location")
	resp, _ = get(t, c, upstream)
	cb := resp.Header.Get("Location")
	again, _ := get(t, c, upstream) // the upstream signs the same login in again: a fresh code
	for i, tc := range []struct {
		url, want string
		status    int
	}{
		{cb, "", http.StatusOK},
		{cb, "did not complete", http.StatusBadGateway},
		{again.Header.Get("Location"), "already used", http.StatusBadRequest},
	} {
		req, _ := http.NewRequest(http.MethodGet, tc.url, nil)
		req.AddCookie(ck[0])
		r, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != tc.status || !strings.Contains(string(b), tc.want) {
			t.Fatalf("callback %d: %d %s", i, r.StatusCode, b)
		}
	}
}

// TestBrokerLoginStateBound: a login in progress is a sealed cookie of at
// most 3,800 bytes and no server state; a request whose login state
// would not fit gets a 400 page, and a cookie that is not sealed by this
// issuer, or has expired, is refused at the callback.
func TestBrokerLoginStateBound(t *testing.T) {
	e := newBrokerEnv(t, nil)
	_, ch := pkcePair()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	p := e.authzParams(brPublic, brRedirect, ch)
	p.Set("state", strings.Repeat("s", 1024))
	p.Set("scope", strings.TrimSpace(strings.Repeat("mcp:tools ", 200)))
	resp, body := get(t, c, e.srv.URL+"/authorize?"+p.Encode())
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "too large") || len(resp.Cookies()) != 0 {
		t.Fatalf("oversized login state: %d %v %s", resp.StatusCode, resp.Cookies(), body)
	}
	p.Set("scope", "mcp:tools")
	resp, _ = get(t, c, e.srv.URL+"/authorize?"+p.Encode())
	if resp.StatusCode != http.StatusFound || len(resp.Cookies()) != 1 || len(resp.Cookies()[0].Value) > 3800 {
		t.Fatalf("login: %d %v", resp.StatusCode, resp.Cookies())
	}
	ck := resp.Cookies()[0]
	up, _ := url.Parse(resp.Header.Get("Location"))
	state := up.Query().Get("state")
	callback := func(value string) int {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/callback?code=x&state="+url.QueryEscape(state), nil)
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: value})
		r, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	tampered := []byte(ck.Value)
	tampered[len(tampered)/2] ^= 1
	if got := callback(string(tampered)); got != http.StatusBadRequest {
		t.Fatalf("tampered login cookie: %d", got)
	}
	e.clock.Add(authserver.DefaultLoginLifetime + time.Second)
	if got := callback(ck.Value); got != http.StatusBadRequest {
		t.Fatalf("expired login cookie: %d", got)
	}
}

// TestBrokerConfigRules: invalid broker and client configurations.
func TestBrokerConfigRules(t *testing.T) {
	tests := []struct {
		name string
		edit func(*authserver.Config)
		want string
	}{
		{"public client with a secret", func(c *authserver.Config) { c.Clients[0].SecretHash = c.Clients[1].SecretHash }, "auth_methods"},
		{"public client with client_credentials", func(c *authserver.Config) {
			c.Clients[0].GrantTypes = append(c.Clients[0].GrantTypes, authserver.GrantClientCredentials)
		}, "public client"},
		{"http redirect off loopback", func(c *authserver.Config) { c.Clients[1].RedirectURIs = []string{"http://app.example.com/cb"} }, "redirect_uris"},
		{"redirect with fragment", func(c *authserver.Config) { c.Clients[0].RedirectURIs = []string{brRedirect + "#x"} }, "redirect_uris"},
		{"code grant without redirect", func(c *authserver.Config) { c.Clients[0].RedirectURIs = nil }, "redirect_uris"},
		{"code grant without broker", func(c *authserver.Config) { c.Broker = nil }, "needs broker"},
		{"access rule for unknown resource", func(c *authserver.Config) { c.Broker.Access[0].Resource = "https://x.example" }, "access[0].resource"},
		{"access rule scope not of the resource", func(c *authserver.Config) { c.Broker.Access[0].Scopes = []string{"other:read"} }, "access[0].scopes"},
		{"short code key", func(c *authserver.Config) { c.Broker.CodeKey = []byte("short") }, "code_key"},
		{"idle beyond absolute", func(c *authserver.Config) { c.Broker.RefreshIdleLifetime = 30 * 24 * time.Hour }, "refresh_idle"},
		{"no authorization endpoint", func(c *authserver.Config) { c.OmitAuthorizationEndpoint = true }, "authorization endpoint"},
	}
	base := newBrokerEnv(t, nil)
	_ = base
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("panic: %v", r)
					}
				}()
				hash, _ := authserver.HashSecret(brSecret)
				code := []string{authserver.GrantAuthorizationCode, authserver.GrantRefreshToken}
				cfg := authserver.Config{
					Issuer:    "https://as.example.com",
					Resources: []authserver.Resource{{ID: e2eMCP, Scopes: []string{"mcp:tools"}}, {ID: e2eOther, Scopes: []string{"other:read"}}},
					Clients: []authserver.Client{
						{ID: brPublic, AuthMethods: []string{authserver.AuthNone}, GrantTypes: code, RedirectURIs: []string{brRedirect}},
						{ID: brConfid, SecretHash: hash, GrantTypes: code, RedirectURIs: []string{brWebRedir}},
					},
					DevGenerateKey: true,
					Broker: &authserver.Broker{
						Upstream: authserver.Upstream{Issuer: "https://idp.example.com", ClientID: "x"},
						Access:   []authserver.AccessRule{{Group: "eng", Resource: e2eMCP, Scopes: []string{"mcp:tools"}}},
					},
				}
				tc.edit(&cfg)
				_, err = authserver.New(cfg)
			}()
			if !errors.Is(err, authserver.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an ErrInvalidConfig naming %q", err, tc.want)
			}
		})
	}
}

// TestBrokerAuthorizeRateLimit: valid authorization requests are limited
// per source address (they take server-side state and reach the IdP).
func TestBrokerAuthorizeRateLimit(t *testing.T) {
	e := newBrokerEnv(t, func(c *authserver.Config) { c.RateLimit = authserver.RateLimit{PerSecond: 0.001, Burst: 2} })
	_, ch := pkcePair()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var codes []int
	for range 3 {
		resp, _ := get(t, c, e.srv.URL+"/authorize?"+e.authzParams(brPublic, brRedirect, ch).Encode())
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == 429 && (resp.Header.Get("Retry-After") == "" || resp.Header.Get("Location") != "") {
			t.Fatalf("429 without Retry-After or with a redirect: %v", resp.Header)
		}
	}
	if codes[0] != 302 || codes[1] != 302 || codes[2] != 429 {
		t.Fatalf("statuses %v, want 302 302 429", codes)
	}
}

// TestPublicClientGrantLimitNotDrainedByOthers: a public client does not
// authenticate, so anyone can send token requests in its name. Those must
// not use up the grant bucket of the client's legitimate users at other
// source addresses.
func TestPublicClientGrantLimitNotDrainedByOthers(t *testing.T) {
	e := newBrokerEnv(t, func(c *authserver.Config) {
		c.RateLimit = authserver.RateLimit{PerSecond: 0.001, Burst: 3}
		c.ClientAddress = func(r *http.Request) string {
			if v := r.Header.Get("X-Test-Source"); v != "" {
				return v
			}
			return "198.51.100.1"
		}
	})
	for i := range 5 {
		f := codeForm("garbage-code", brRedirect, strings.Repeat("v", 43))
		req, _ := http.NewRequest(http.MethodPost, e.as.TokenEndpoint(), strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Test-Source", "203.0.113.66")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if i >= 3 && resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("attacker request %d: %d, want 429 (its own bucket)", i, resp.StatusCode)
		}
	}
	ver, ch := pkcePair()
	loc := e.login(t, e.browser(), e.authzParams(brPublic, brRedirect, ch))
	status, body, _ := e.token(t, codeForm(loc.Query().Get("code"), brRedirect, ver), false)
	if status != http.StatusOK {
		t.Fatalf("legitimate user of the public client refused after another source's requests: %d %v", status, body)
	}
}

// TestCodeReplayRaceRevokesFamily: when one code is redeemed twice at the
// same time, the replay is detected and the refresh family the winning
// redemption starts must not stay usable, whichever request wins and
// however the two interleave.
func TestCodeReplayRaceRevokesFamily(t *testing.T) {
	e := newBrokerEnv(t, nil)
	c := e.browser()
	for i := range 10 {
		ver, ch := pkcePair()
		code := e.login(t, c, e.authzParams(brPublic, brRedirect, ch)).Query().Get("code")
		type result struct {
			status int
			body   map[string]any
		}
		out := make(chan result, 2)
		start := make(chan struct{})
		for range 2 {
			go func() {
				<-start
				req, _ := http.NewRequest(http.MethodPost, e.as.TokenEndpoint(), strings.NewReader(codeForm(code, brRedirect, ver).Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					out <- result{}
					return
				}
				defer resp.Body.Close()
				var b map[string]any
				_ = json.NewDecoder(resp.Body).Decode(&b)
				out <- result{resp.StatusCode, b}
			}()
		}
		close(start)
		rs := []result{<-out, <-out}
		if rs[0].status == 0 || rs[1].status == 0 || (rs[0].status != http.StatusBadRequest && rs[1].status != http.StatusBadRequest) {
			t.Fatalf("round %d: statuses %d %d, want at least one replay refused", i, rs[0].status, rs[1].status)
		}
		for _, r := range rs {
			rt, _ := r.body["refresh_token"].(string)
			if r.status != http.StatusOK || rt == "" {
				continue
			}
			if s, _, _ := e.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {brPublic}}, false); s == http.StatusOK {
				t.Fatalf("round %d: the refresh family of a replayed code is live", i)
			}
		}
	}
}

// TestRefreshRefusalKeepsToken: a refresh request refused for its own
// parameters (another resource, a scope outside the grant) does not spend
// the token, so the corrected retry succeeds and is not taken for reuse;
// a rotated token presented again still revokes the family.
func TestRefreshRefusalKeepsToken(t *testing.T) {
	e := newBrokerEnv(t, nil)
	ver, ch := pkcePair()
	loc := e.login(t, e.browser(), e.authzParams(brPublic, brRedirect, ch))
	status, body, _ := e.token(t, codeForm(loc.Query().Get("code"), brRedirect, ver), false)
	if status != 200 {
		t.Fatalf("code: %d %v", status, body)
	}
	rt := body["refresh_token"].(string)
	refresh := func(rt string, extra ...string) (int, map[string]any) {
		f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {brPublic}}
		for i := 0; i+1 < len(extra); i += 2 {
			f.Set(extra[i], extra[i+1])
		}
		s, b, _ := e.token(t, f, false)
		return s, b
	}
	for _, tc := range []struct {
		name  string
		extra []string
		code  string
	}{
		{"other resource", []string{"resource", e2eOther}, "invalid_target"},
		{"scope outside the grant", []string{"scope", "mcp:admin"}, "invalid_scope"},
		{"malformed scope", []string{"scope", "a  b"}, "invalid_scope"},
	} {
		if s, b := refresh(rt, tc.extra...); s != 400 || b["error"] != tc.code {
			t.Fatalf("%s: %d %v", tc.name, s, b)
		}
	}
	s, b := refresh(rt, "resource", e2eMCP, "scope", "mcp:tools")
	if s != 200 || b["refresh_token"] == nil {
		t.Fatalf("corrected retry after refusals: %d %v", s, b)
	}
	next := b["refresh_token"].(string)
	if s, b := refresh(rt); s != 400 || b["error"] != "invalid_grant" {
		t.Fatalf("reuse of the rotated token: %d %v", s, b)
	}
	if s, _ := refresh(next); s != 400 {
		t.Fatalf("family not revoked after reuse: %d", s)
	}
}

// TestRefreshPeekRaces: validation before the token is spent (Peek) keeps
// the theft signals. Parallel refreshes with one token, one of them
// invalid, leave exactly the valid one served; two valid ones: one wins
// and the family is revoked; a rotated token presented with invalid
// parameters, or a token presented by another client, still ends the
// family.
func TestRefreshPeekRaces(t *testing.T) {
	const other = "other-native"
	e := newBrokerEnv(t, func(c *authserver.Config) {
		c.Clients = append(c.Clients, authserver.Client{ID: other, AuthMethods: []string{authserver.AuthNone},
			GrantTypes: []string{authserver.GrantAuthorizationCode, authserver.GrantRefreshToken}, RedirectURIs: []string{brRedirect}})
	})
	fresh := func() string {
		ver, ch := pkcePair()
		loc := e.login(t, e.browser(), e.authzParams(brPublic, brRedirect, ch))
		status, body, _ := e.token(t, codeForm(loc.Query().Get("code"), brRedirect, ver), false)
		if status != 200 {
			t.Fatalf("code: %d %v", status, body)
		}
		return body["refresh_token"].(string)
	}
	refresh := func(client, rt string, extra ...string) (int, map[string]any) {
		f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {client}}
		for i := 0; i+1 < len(extra); i += 2 {
			f.Set(extra[i], extra[i+1])
		}
		s, b, _ := e.token(t, f, false)
		return s, b
	}
	parallel := func(rt string, extras ...[]string) []int {
		out := make([]int, len(extras))
		var wg sync.WaitGroup
		for i, ex := range extras {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out[i], _ = refresh(brPublic, rt, ex...)
			}()
		}
		wg.Wait()
		return out
	}

	for range 5 { // one valid, two invalid, at once: the valid one is served
		rt := fresh()
		got := parallel(rt, []string{"resource", e2eOther}, nil, []string{"scope", "mcp:nope"})
		if got[0] != 400 || got[1] != 200 || got[2] != 400 {
			t.Fatalf("valid among invalid: %v", got)
		}
	}
	rt := fresh() // two valid at once: one wins, the loser's reuse revokes the family
	got := parallel(rt, nil, nil)
	if got[0]+got[1] != 600 {
		t.Fatalf("two valid at once: %v, want one 200 and one 400", got)
	}

	rt = fresh() // a rotated token with invalid parameters is still reuse
	s, b := refresh(brPublic, rt)
	if s != 200 {
		t.Fatalf("rotate: %d %v", s, b)
	}
	next := b["refresh_token"].(string)
	if s, b := refresh(brPublic, rt, "resource", e2eOther); s != 400 || b["error"] != "invalid_grant" {
		t.Fatalf("reuse with a wrong resource: %d %v", s, b)
	}
	if s, _ := refresh(brPublic, next); s != 400 {
		t.Fatal("family survived the reuse of a rotated token with invalid parameters")
	}

	rt = fresh() // another client presenting the token ends the family; nothing of it is echoed
	if s, b := refresh(other, rt); s != 400 || b["error"] != "invalid_grant" || b["access_token"] != nil || b["scope"] != nil {
		t.Fatalf("other client: %d %v", s, b)
	}
	if s, _ := refresh(brPublic, rt); s != 400 {
		t.Fatal("family survived a presentation by another client")
	}
}
