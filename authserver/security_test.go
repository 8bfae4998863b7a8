package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver/replay"
)

// A04: wrong secrets of any shape and unknown clients get byte-identical
// answers and cost exactly one salted-hash comparison each.
func TestSecretComparisonUniform(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	cases := []struct{ name, id, secret string }{
		{"wrong, same length", testSecretID, strings.Repeat("x", len(testSecret))},
		{"correct prefix", testSecretID, testSecret[:len(testSecret)-1] + "!"},
		{"longer", testSecretID, testSecret + "x"},
		{"shorter", testSecretID, testSecret[:3]},
		{"empty", testSecretID, ""},
		{"unknown client", "nobody", testSecret},
		{"jwt-only client", testJWTID, testSecret},
		{"client restricted to post", testRestrictID, testSecret},
	}
	var first string
	for _, c := range cases {
		before := e.s.secretChecks.Load()
		w := e.do(req{body: form("grant_type", "client_credentials"), basic: [2]string{c.id, c.secret}})
		if n := e.s.secretChecks.Load() - before; n != 1 {
			t.Errorf("%s: %d secret comparisons, want 1", c.name, n)
		}
		got := w.Body.String() + "|" + w.Header().Get("WWW-Authenticate") + "|" + itoa(int64(w.Code))
		if first == "" {
			first = got
		} else if got != first {
			t.Errorf("%s: response %q differs from %q", c.name, got, first)
		}
	}
	if !strings.Contains(first, `"invalid_client"`) || !strings.HasSuffix(first, "|401") {
		t.Fatalf("unexpected response %q", first)
	}
}

func TestHashSecret(t *testing.T) {
	t.Parallel()
	h1, err := HashSecret(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashSecret(testSecret)
	if h1 == h2 {
		t.Fatal("hashes are not salted")
	}
	p, err := parseSecretHash(h1)
	if err != nil {
		t.Fatal(err)
	}
	if !p.matches(testSecret) || p.matches(testSecret+" ") || p.matches("") {
		t.Fatal("matches is wrong")
	}
	if strings.Contains(h1, testSecret) {
		t.Fatal("hash contains the secret")
	}
	if _, err := HashSecret("short"); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("short secret: %v", err)
	}
	for _, bad := range []string{"", "plain", "sha256$", "sha256$abc", "sha256$!!$abc", "sha256$c2FsdHNhbHQ$c2hvcnQ", "md5$a$b"} {
		if _, err := parseSecretHash(bad); err == nil {
			t.Errorf("parseSecretHash(%q) accepted", bad)
		}
	}
}

// A06: the JWK Set has public members only, and rotation keeps the previous
// key published.
func TestJWKS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) {
		c.SigningKeys = []SigningKey{{Signer: asKey.key}, {Signer: asKey3.key, KeyID: asKey3.kid}}
	})
	get := func() (map[string]any, http.Header) {
		w := httptest.NewRecorder()
		e.s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "https://as.example.com/jwks.json", nil))
		if w.Code != 200 {
			t.Fatalf("jwks status %d", w.Code)
		}
		var doc map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		return doc, w.Header()
	}
	doc, hdr := get()
	if hdr.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type %q", hdr.Get("Content-Type"))
	}
	kids := func(doc map[string]any) []string {
		var out []string
		for _, k := range doc["keys"].([]any) {
			m := k.(map[string]any)
			for _, priv := range []string{"d", "p", "q", "dp", "dq", "qi", "k", "oth"} {
				if _, ok := m[priv]; ok {
					t.Fatalf("JWKS key has private member %q", priv)
				}
			}
			if m["use"] != "sig" || m["alg"] == nil || m["kid"] == nil {
				t.Fatalf("key %v lacks use/alg/kid", m)
			}
			out = append(out, m["kid"].(string))
		}
		return out
	}
	got := kids(doc)
	if len(got) != 2 || got[1] != asKey3.kid || len(got[0]) != 43 {
		t.Fatalf("kids %v: want [thumbprint, %s]", got, asKey3.kid)
	}
	if err := e.s.RotateSigningKey(SigningKey{Signer: asKey2.key, KeyID: asKey2.kid}); err != nil {
		t.Fatal(err)
	}
	doc, _ = get()
	if after := kids(doc); len(after) != 2 || after[0] != asKey2.kid || after[1] != got[0] {
		t.Fatalf("after rotation kids %v, want [%s %s]", after, asKey2.kid, got[0])
	}
	res := decodeResult(t, e.do(req{body: form("grant_type", "client_credentials"), basic: [2]string{testSecretID, testSecret}}))
	hdr2, _ := claimsOf(t, res.tok.AccessToken)
	if hdr2["kid"] != asKey2.kid {
		t.Fatalf("token kid %v after rotation", hdr2["kid"])
	}
	verifyIssued(t, e, res.tok.AccessToken)
	if err := e.s.RotateSigningKey(SigningKey{Signer: asKey2.key, KeyID: asKey2.kid}); err == nil {
		t.Fatal("rotating to the current kid must fail (duplicate kid)")
	}
	if err := e.s.RotateSigningKey(SigningKey{}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("nil signer: %v", err)
	}
}

// A06: issued tokens are unique and cannot be used as an ID-JAG or a client
// assertion.
func TestIssuedTokenNotReusableAsAssertion(t *testing.T) {
	t.Parallel()
	// Trust our own keys under another issuer name so that only typ stops it.
	e := newEnv(t, func(c *Config) {
		c.TrustedIdPs = append(c.TrustedIdPs, TrustedIdP{Issuer: "https://self.example.com", JWKS: jwksOf(t, asKey)})
		c.Clients[1].JWKS = jwksOf(t, clientKey, asKey)
	})
	seen := map[string]bool{}
	var tok string
	for range 20 {
		res := decodeResult(t, e.do(req{body: form("grant_type", "client_credentials"), basic: [2]string{testSecretID, testSecret}}))
		_, c := claimsOf(t, res.tok.AccessToken)
		jti := c["jti"].(string)
		if seen[jti] {
			t.Fatalf("jti %s repeated", jti)
		}
		seen[jti] = true
		tok = res.tok.AccessToken
	}
	res := decodeResult(t, e.do(req{body: form("grant_type", GrantJWTBearer, "assertion", tok), basic: [2]string{testSecretID, testSecret}}))
	if res.err != "invalid_grant" {
		t.Fatalf("access token as ID-JAG: %d %s", res.status, res.body)
	}
	res = decodeResult(t, e.do(req{body: form("grant_type", "client_credentials", "client_assertion_type", AssertionTypeJWTBearer, "client_assertion", tok)}))
	if res.err != "invalid_client" {
		t.Fatalf("access token as client assertion: %d %s", res.status, res.body)
	}
}

// A07: a full replay store fails closed with 503 temporarily_unavailable.
func TestReplayStoreFullFailsClosed(t *testing.T) {
	t.Parallel()
	var store *replay.Memory
	e := newEnv(t, func(c *Config) {
		var err error
		store, err = replay.NewMemory(replay.MemoryConfig{MaxEntries: 2, MaxEntriesPerPartition: 2, MaxKeyLength: 2048, Now: c.Now})
		if err != nil {
			t.Fatal(err)
		}
		c.ReplayStore = store
	})
	send := func() oauthResult {
		body := form("grant_type", GrantJWTBearer, "assertion", mint(t, idpKey, TypeIDJAG, e.idjagClaims()))
		return decodeResult(t, e.do(req{body: body, basic: [2]string{testSecretID, testSecret}}))
	}
	for i := range 2 {
		if res := send(); res.status != 200 {
			t.Fatalf("grant %d: %d %s", i, res.status, res.body)
		}
	}
	res := send()
	if res.status != 503 || res.err != "temporarily_unavailable" || res.hdr.Get("Retry-After") == "" {
		t.Fatalf("full store: %d %s %v", res.status, res.body, res.hdr)
	}
	e.clock.Add(6 * time.Minute) // entries expire (exp 5 min + leeway)
	if res := send(); res.status != 200 {
		t.Fatalf("after expiry: %d %s", res.status, res.body)
	}
}

type failingStore struct{}

func (failingStore) CheckAndStore(context.Context, string, time.Time) error {
	return errors.New("backend down")
}

func TestReplayStoreErrorFailsClosed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.ReplayStore = failingStore{} })
	body := form("grant_type", GrantJWTBearer, "assertion", mint(t, idpKey, TypeIDJAG, e.idjagClaims()))
	res := decodeResult(t, e.do(req{body: body, basic: [2]string{testSecretID, testSecret}}))
	if res.status != 503 || res.err != "temporarily_unavailable" {
		t.Fatalf("%d %s", res.status, res.body)
	}
	body = form("grant_type", "client_credentials", "client_assertion_type", AssertionTypeJWTBearer, "client_assertion", mint(t, clientKey, "", e.assertionClaims()))
	if res := decodeResult(t, e.do(req{body: body})); res.status != 503 {
		t.Fatalf("client assertion: %d %s", res.status, res.body)
	}
}

// The same ID-JAG, or the same client assertion, submitted 1,000 times in
// parallel yields exactly one token.
func TestConcurrentReplay(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	run := func(name string, r req, wantErr string) {
		var ok, rejected atomic.Int32
		var wg sync.WaitGroup
		for range 1000 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w := e.do(r)
				if w.Code == 200 {
					ok.Add(1)
				} else if strings.Contains(w.Body.String(), wantErr) {
					rejected.Add(1)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 1 || rejected.Load() != 999 {
			t.Errorf("%s: %d successes, %d %s; want 1 and 999", name, ok.Load(), rejected.Load(), wantErr)
		}
	}
	jag := mint(t, idpKey, TypeIDJAG, e.idjagClaims())
	run("ID-JAG", req{body: form("grant_type", GrantJWTBearer, "assertion", jag), basic: [2]string{testSecretID, testSecret}}, "invalid_grant")
	ca := mint(t, clientKey, "", e.assertionClaims())
	run("client assertion", req{body: form("grant_type", "client_credentials", "client_assertion_type", AssertionTypeJWTBearer, "client_assertion", ca)}, "invalid_client")
}

// Audit: one event per decision with identifiers, never token material.
func TestAuditLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	jag := mint(t, idpKey, TypeIDJAG, e.idjagClaims())
	ca := mint(t, clientKey, "", e.assertionClaims())
	var issued []string
	for _, r := range []req{
		{body: form("grant_type", GrantJWTBearer, "assertion", jag), basic: [2]string{testSecretID, testSecret}},
		{body: form("grant_type", GrantJWTBearer, "assertion", jag), basic: [2]string{testSecretID, testSecret}},
		{body: form("grant_type", "client_credentials", "client_assertion_type", AssertionTypeJWTBearer, "client_assertion", ca)},
		{body: form("grant_type", "client_credentials", "client_id", testSecretID, "client_secret", testSecret+"x")},
	} {
		w := e.do(r)
		if w.Code == 200 {
			var tr tokenResponse
			_ = json.Unmarshal(w.Body.Bytes(), &tr)
			issued = append(issued, tr.AccessToken)
		}
	}
	logs := e.logs.String()
	for _, secret := range append([]string{jag, ca, testSecret, strings.Split(jag, ".")[2], strings.Split(ca, ".")[1]}, issued...) {
		if strings.Contains(logs, secret) {
			t.Fatalf("log contains token material: %q", secret[:min(20, len(secret))])
		}
	}
	var events []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		if m["msg"] == "authserver.grant" {
			events = append(events, m)
		}
	}
	if len(events) != 4 {
		t.Fatalf("%d audit events, want 4:\n%s", len(events), logs)
	}
	want := []map[string]any{
		{"outcome": "granted", "grant_type": GrantJWTBearer, "client_id": testSecretID, "iss": testIdPIssuer, "sub": testUser, "resource": testMCP, "auth_method": AuthClientSecretBasic},
		{"outcome": "denied", "error": "invalid_grant", "iss": testIdPIssuer, "sub": testUser},
		{"outcome": "granted", "grant_type": "client_credentials", "client_id": testJWTID, "sub": testJWTID, "auth_method": AuthPrivateKeyJWT},
		{"outcome": "denied", "error": "invalid_client", "client_id": testSecretID, "auth_method": AuthClientSecretPost},
	}
	for i, w := range want {
		for k, v := range w {
			if events[i][k] != v {
				t.Errorf("event %d: %s = %v, want %v", i, k, events[i][k], v)
			}
		}
	}
	if events[0]["jti"] == nil || events[0]["token_jti"] == nil || events[2]["client_assertion_jti"] == nil {
		t.Errorf("missing jti fields: %v / %v", events[0], events[2])
	}
}
