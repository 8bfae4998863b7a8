package authserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver/replay"
)

// brokerConfig adds a broker and a public client to the base test config.
func brokerConfig(c *Config) {
	c.Clients = append(c.Clients, Client{
		ID: "native", AuthMethods: []string{AuthNone}, GrantTypes: []string{GrantAuthorizationCode, GrantRefreshToken},
		RedirectURIs: []string{"http://127.0.0.1/cb", "https://app.example.com/cb"}, Scopes: []string{"mcp:tools"},
	})
	c.Broker = &Broker{
		Upstream: Upstream{Issuer: "https://login.example.com", ClientID: "as"},
		Access:   []AccessRule{{Group: "eng", Resource: testMCP, Scopes: []string{"mcp:tools"}}},
	}
}

func TestMetadataBroker(t *testing.T) {
	t.Parallel()
	e := newEnv(t, brokerConfig)
	w := httptest.NewRecorder()
	e.s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "https://as.example.com/.well-known/oauth-authorization-server", nil))
	golden(t, "metadata-broker.json", w.Body.Bytes())
	var doc map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &doc)
	for _, absent := range []string{"registration_endpoint", "client_id_metadata_document_supported"} {
		if _, ok := doc[absent]; ok {
			t.Errorf("advertises unimplemented %s", absent)
		}
	}
	paths := strings.Join(e.s.Routes(), " ")
	if !strings.Contains(paths, "/callback") || !strings.Contains(paths, "/consent") {
		t.Errorf("routes %s", paths)
	}
}

// FuzzAuthorizeRequest: the authorization request parser never panics; an
// accepted request satisfies every rule; an error that redirects only
// ever redirects to a registered URI.
func FuzzAuthorizeRequest(f *testing.F) {
	ch := strings.Repeat("A", 43)
	for _, s := range []string{
		"response_type=code&client_id=native&redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fcb&code_challenge=" + ch + "&code_challenge_method=S256",
		"response_type=code&client_id=native&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&code_challenge=" + ch + "&code_challenge_method=plain&state=x",
		"client_id=native&redirect_uri=http%3A%2F%2F127.0.0.1%3A0%2Fcb",
		"client_id=native&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb%23x&resource=https%3A%2F%2Fmcp.example.com%2Fmcp&scope=mcp%3Atools",
		"a=b&a=c", "%zz", "",
	} {
		f.Add(s)
	}
	e := newEnv(f, brokerConfig)
	f.Fuzz(func(t *testing.T, raw string) {
		req, c, ae := e.s.parseAuthorizeRequest(context.Background(), raw, "")
		if ae != nil {
			if ae.redirect && (req == nil || c == nil || !redirectAllowed(c, req.RedirectURI)) {
				t.Fatalf("redirecting error to an unvalidated URI: %+v", req)
			}
			return
		}
		u, err := url.Parse(req.RedirectURI)
		if err != nil || u.Fragment != "" || !redirectAllowed(c, req.RedirectURI) {
			t.Fatalf("accepted redirect %q", req.RedirectURI)
		}
		if len(req.Challenge) != 43 || e.s.resources[req.Resource] == nil || !c.grants[GrantAuthorizationCode] {
			t.Fatalf("accepted %+v", req)
		}
	})
}

func TestMemoryRefreshStoreBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := NewMemoryRefreshStore(3)
	now := time.Unix(1_800_000_000, 0)
	var first []RefreshToken
	for i := range 5 {
		id := string(rune('a' + i))
		_, tok := newRefreshToken()
		first = append(first, tok)
		if err := m.Save(ctx, tok, RefreshFamily{ID: id, Subject: "u", ClientID: "c", Created: now}); err != nil {
			t.Fatal(err)
		}
	}
	if m.Len() != 3 {
		t.Fatalf("len %d", m.Len())
	}
	if _, err := m.Rotate(ctx, first[0], "x", now); !errors.Is(err, ErrRefreshUnknown) {
		t.Fatalf("evicted family still usable: %v", err)
	}
	// A long rotation chain: the last RefreshReuseGenerations generations,
	// with their secrets, are a reuse; older ones are only unknown.
	cur := first[4]
	var chain []RefreshToken
	for range 20 {
		_, next := cur.next()
		if _, err := m.Rotate(ctx, cur, next.SecretHash, now); err != nil {
			t.Fatal(err)
		}
		chain = append(chain, cur)
		cur = next
	}
	if _, err := m.Peek(ctx, first[4]); !errors.Is(err, ErrRefreshUnknown) {
		t.Fatalf("generation 1 after 20 rotations: %v", err)
	}
	if _, err := m.Peek(ctx, chain[len(chain)-RefreshReuseGenerations-1]); !errors.Is(err, ErrRefreshUnknown) {
		t.Fatalf("generation just out of memory: %v", err)
	}
	if _, err := m.Rotate(ctx, chain[len(chain)-RefreshReuseGenerations], "y", now); !errors.Is(err, ErrRefreshReused) {
		t.Fatalf("oldest remembered generation: %v", err)
	}
	if _, err := m.Rotate(ctx, cur, "z", now); !errors.Is(err, ErrRefreshUnknown) {
		t.Fatalf("family survived reuse: %v", err)
	}
	if err := m.RevokeSubject(ctx, "u", "c"); err != nil || m.Len() != 0 {
		t.Fatalf("revoke subject: %v %d", err, m.Len())
	}
}

func TestMemoryConsentStoreBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, err := NewMemoryConsentStore(2, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"u1", "u2", "u3"} {
		_ = c.Remember(ctx, Consent{Subject: sub, ClientID: "c", Resource: "r", Scopes: map[string][]string{"u1": {"a"}}[sub]})
	}
	covers := func(sub, res string, scopes ...string) bool {
		ok, err := c.Covers(ctx, Consent{Subject: sub, ClientID: "c", Resource: res, Scopes: scopes})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if covers("u1", "r") || !covers("u3", "r") || covers("u3", "r", "a") || covers("u2", "other") || c.Len() != 2 {
		t.Fatal("consent store rules")
	}
	// bytes: one consent of many long scopes fills a small store, which
	// forgets the oldest.
	small, _ := NewMemoryConsentStore(100, 4<<10)
	long := make([]string, 40)
	for i := range long {
		long[i] = strings.Repeat("s", 60) + strconv.Itoa(i)
	}
	for i := range 10 {
		_ = small.Remember(ctx, Consent{Subject: "u" + strconv.Itoa(i), ClientID: "c", Resource: "r", Scopes: long})
		if small.Bytes() > 4<<10 {
			t.Fatalf("%d bytes held over a bound of 4 KiB", small.Bytes())
		}
	}
	// one entry keeps at most MaxConsentGrants grants
	one, _ := NewMemoryConsentStore(1, 1<<30)
	for i := range 3 * MaxConsentGrants {
		_ = one.Remember(ctx, Consent{Subject: "u", ClientID: "c", Resource: "r", Scopes: []string{strconv.Itoa(i)}})
	}
	if one.Bytes() > int64(MaxConsentGrants*64+256) {
		t.Fatalf("one entry holds %d bytes", one.Bytes())
	}
}

func TestParseConfigBroker(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "up.secret"), []byte("upstream-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "code.key"), []byte(base64.StdEncoding.EncodeToString(testCodeKey(1))), 0o600); err != nil {
		t.Fatal(err)
	}
	yml := `
issuer: https://as.example.com
dev_generate_key: true
resources:
  - id: https://mcp.example.com/mcp
    scopes: [mcp:tools]
clients:
  - client_id: vscode
    name: VS Code
    auth_methods: [none]
    grant_types: [authorization_code, refresh_token]
    redirect_uris: ["http://127.0.0.1/callback"]
    scopes: [mcp:tools]
broker:
  upstream:
    issuer: https://login.example.com
    client_id: mcp-as
    client_secret_file: up.secret
    claims: {groups: groups}
  access:
    - group: eng
      resource: https://mcp.example.com/mcp
      scopes: [mcp:tools]
  code_key_file: code.key
  refresh_idle_lifetime: 12h
`
	cfg, err := ParseConfig([]byte(yml), dir)
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Broker
	if b == nil || b.Upstream.ClientSecret != "upstream-secret" || len(b.CodeKey) != 32 || b.RefreshIdleLifetime != 12*time.Hour ||
		cfg.Clients[0].RedirectURIs[0] != "http://127.0.0.1/callback" || cfg.Clients[0].Name != "VS Code" {
		t.Fatalf("%+v", cfg)
	}
	if _, err := New(cfg); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		strings.Replace(yml, "client_secret_file: up.secret", "client_secret: inline", 1),
		strings.Replace(yml, "code_key_file: code.key", "code_key_file: up.secret", 1),
	} {
		if _, err := ParseConfig([]byte(bad), dir); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("accepted: %v", err)
		}
	}
}

// TestCodeSharedAcrossReplicas: two servers with the same code key and one
// replay store (as replicas with stores/redis): a code sealed by one is
// redeemed at the other, and exactly once across both.
func TestCodeSharedAcrossReplicas(t *testing.T) {
	t.Parallel()
	key := testCodeKey(1)
	store, err := replay.NewMemory(replay.MemoryConfig{})
	if err != nil {
		t.Fatal(err)
	}
	shared := func(c *Config) {
		brokerConfig(c)
		c.Broker.CodeKey = key
		c.ReplayStore = store
	}
	a, b := newEnv(t, shared), newEnv(t, shared)
	other := newEnv(t, func(c *Config) { brokerConfig(c); c.Broker.CodeKey = testCodeKey(2) })
	verifier := strings.Repeat("v", 43)
	code, err := a.s.broker.codes.seal(&codeData{
		ID: "c1", Exp: a.clock.Now().Add(time.Minute).Unix(), ClientID: "native", Redirect: "http://127.0.0.1/cb",
		Challenge: pkceS256(verifier), Resource: testMCP, Scopes: []string{"mcp:tools"}, Subject: "dave",
	})
	if err != nil {
		t.Fatal(err)
	}
	body := form("grant_type", "authorization_code", "code", code, "redirect_uri", "http://127.0.0.1/cb",
		"code_verifier", verifier, "client_id", "native")
	post := func(e *env) oauthResult {
		return decodeResult(t, e.do(req{method: http.MethodPost, target: "/token", body: body,
			headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}))
	}
	if r := post(other); r.status != 400 || r.err != codeInvalidGrant {
		t.Fatalf("code accepted under another key: %+v", r)
	}
	rb := post(b)
	if rb.status != 200 || rb.tok == nil || rb.tok.RefreshToken == "" {
		t.Fatalf("replica b: %+v", rb)
	}
	if r := post(a); r.status != 400 || r.err != codeInvalidGrant {
		t.Fatalf("replayed at replica a: %+v", r)
	}
	// The audit log never holds the code, the verifier or a token.
	for _, e := range []*env{a, b} {
		logs := e.logs.String()
		for _, secret := range []string{code, verifier, rb.tok.AccessToken, rb.tok.RefreshToken} {
			if strings.Contains(logs, secret) {
				t.Fatal("secret material in the log")
			}
		}
		if !strings.Contains(logs, "authorization_code") {
			t.Fatal("no audit record for the grant")
		}
	}
}

// BenchmarkAuthorizationCodeGrant: one code redemption by a public client
// (AES-GCM open, PKCE, replay store, ES256 sign, refresh family), codes
// sealed before the timer starts. Compare with BenchmarkBaselineSign and
// BenchmarkClientCredentialsBasic in the same run.
func BenchmarkAuthorizationCodeGrant(b *testing.B) {
	e := newEnv(b, func(c *Config) { brokerConfig(c); c.Broker.MaxRefreshFamilies = 1 << 20 })
	verifier := strings.Repeat("v", 43)
	bodies := make([]string, b.N)
	for i := range bodies {
		code, err := e.s.broker.codes.seal(&codeData{
			ID: newTokenID(), Exp: e.clock.Now().Add(time.Minute).Unix(), ClientID: "native", Redirect: "http://127.0.0.1/cb",
			Challenge: pkceS256(verifier), Resource: testMCP, Scopes: []string{"mcp:tools"}, Subject: "dave",
			Extra: map[string]any{"idp_iss": "https://login.example.com", "groups": []any{"eng"}},
		})
		if err != nil {
			b.Fatal(err)
		}
		bodies[i] = form("grant_type", "authorization_code", "code", code, "redirect_uri", "http://127.0.0.1/cb",
			"code_verifier", verifier, "client_id", "native")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if w := e.do(req{body: bodies[i]}); w.Code != 200 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}

// TestLoginCookieAttributes: Secure with the __Host- prefix on an https
// issuer; plain name without Secure only on the loopback http issuer.
func TestLoginCookieAttributes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		issuer, prefix string
		secure         bool
	}{
		{"https://as.example.com", "__Host-mcpauthz-login=", true},
		{"http://127.0.0.1:8080", "mcpauthz-login=", false},
	} {
		e := newEnv(t, func(c *Config) { brokerConfig(c); c.Issuer = tc.issuer })
		w := httptest.NewRecorder()
		e.s.broker.setLoginCookie(w, randomToken(), time.Minute)
		ck := w.Header().Get("Set-Cookie")
		if !strings.HasPrefix(ck, tc.prefix) || strings.Contains(ck, "; Secure") != tc.secure ||
			!strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Lax") || !strings.Contains(ck, "Path=/") ||
			strings.Contains(ck, "; Domain=") || len(ck) > 160 {
			t.Errorf("%s: %s", tc.issuer, ck)
		}
	}
}

// TestMemoryRefreshStorePeek: Peek changes nothing: a current token stays
// current, a rotated one answers ErrRefreshReused without revoking.
func TestMemoryRefreshStorePeek(t *testing.T) {
	ctx := context.Background()
	m := NewMemoryRefreshStore(4)
	now := time.Now()
	_, t1 := newRefreshToken()
	if err := m.Save(ctx, t1, RefreshFamily{ID: "f", ClientID: "c", Created: now, LastUsed: now}); err != nil {
		t.Fatal(err)
	}
	if f, err := m.Peek(ctx, t1); err != nil || f.ID != "f" {
		t.Fatalf("peek current: %v %v", f, err)
	}
	_, t2 := t1.next()
	if _, err := m.Rotate(ctx, t1, t2.SecretHash, now); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Peek(ctx, t1); !errors.Is(err, ErrRefreshReused) {
		t.Fatalf("peek rotated: %v", err)
	}
	if f, err := m.Peek(ctx, t2); err != nil || f.ID != "f" {
		t.Fatalf("peek revoked the family: %v %v", f, err)
	}
	_, other := newRefreshToken()
	if _, err := m.Peek(ctx, other); !errors.Is(err, ErrRefreshUnknown) {
		t.Fatalf("peek unknown: %v", err)
	}
}

// Sealing and opening a typical login cookie (what /authorize and the
// callback add to a login instead of server-side state).
func BenchmarkLoginState(b *testing.B) {
	var br broker
	if err := br.setKeys(randomKey()); err != nil {
		b.Fatal(err)
	}
	t := &loginState{ID: randomToken(), UpState: randomToken(), Nonce: randomToken(), Verifier: randomToken(), Exp: time.Now().Add(time.Hour).Unix(),
		Req: authzRequest{ClientID: registeredIDPrefix + randomToken(), RedirectURI: "http://127.0.0.1:53124/callback", State: randomToken(),
			Challenge: randomToken(), Resource: "https://mcp.example.com/mcp", Scope: "mcp:tools"}}
	b.ReportAllocs()
	for b.Loop() {
		v, err := br.logins.seal(t)
		if err != nil {
			b.Fatal(err)
		}
		var got loginState
		if err := br.logins.open(v, &got); err != nil || got.ID != t.ID {
			b.Fatal(err)
		}
	}
}
