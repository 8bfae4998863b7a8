package authserver

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/jose"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

const (
	testIssuer      = "https://as.example.com"
	testMCP         = "https://mcp.example.com/mcp"
	testOther       = "https://other.example.com/mcp"
	testIdPIssuer   = "https://idp.example.com"
	testSecretID    = "svc-secret"
	testSecret      = "s3cr3t-s3cr3t-s3cr3t-0123"
	testJWTID       = "svc-jwt"
	testCCOnlyID    = "cc-only"
	testRestrictID  = "restricted"
	testUser        = "U019488227"
	testIdPKeyID    = "idp-2026-01"
	testClientKeyID = "client-1"
)

// signerKey is a key with its kid and alg.
type signerKey struct {
	key crypto.Signer
	kid string
	alg string
}

// Keys generated once: RSA generation is slow.
var (
	keysOnce                                  sync.Once
	idpKey, otherIdPKey, clientKey, clientRSA signerKey
	asKey, asKey2, asKey3                     signerKey
)

func testKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		gen := func(alg, kid string) signerKey {
			k, err := jose.GenerateKey(alg)
			if err != nil {
				panic(err)
			}
			return signerKey{key: k, kid: kid, alg: alg}
		}
		idpKey = gen(jose.ES256, testIdPKeyID)
		otherIdPKey = gen(jose.ES256, testIdPKeyID) // same kid, different key
		clientKey = gen(jose.ES256, testClientKeyID)
		clientRSA = gen(jose.PS256, "client-rsa")
		asKey = gen(jose.ES256, "as-1")
		asKey2 = gen(jose.ES256, "as-2")
		asKey3 = gen(jose.EdDSA, "as-3")
	})
}

func jwksOf(t testing.TB, keys ...signerKey) []byte {
	t.Helper()
	var set jose.JWKS
	for _, k := range keys {
		j, err := jose.PublicJWK(k.key.Public(), k.kid, k.alg)
		if err != nil {
			t.Fatal(err)
		}
		set.Keys = append(set.Keys, j)
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mint signs claims with k. typ "" omits the header member.
func mint(t testing.TB, k signerKey, typ string, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jose.Sign(k.key, jose.Header{Alg: k.alg, Kid: k.kid, Typ: typ}, payload)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// mintRaw builds a compact JWS from raw header and payload JSON; sign
// computes the signature over the signing input (nil = empty signature
// segment replaced by "AA").
func mintRaw(header, payload string, sign func(input []byte) []byte) string {
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	sig := []byte{0}
	if sign != nil {
		sig = sign([]byte(input))
	}
	return input + "." + enc.EncodeToString(sig)
}

func hmacSigner(key []byte) func([]byte) []byte {
	return func(in []byte) []byte {
		m := hmac.New(sha256.New, key)
		m.Write(in)
		return m.Sum(nil)
	}
}

// env is a server under test with its clock and log.
type env struct {
	s     *Server
	clock *testkit.Clock
	logs  *testkit.Buffer
	cfg   Config
}

// testCodeKey returns a fixed 32-byte code key that passes weakKey, one
// per b.
func testCodeKey(b byte) []byte {
	h := sha256.Sum256([]byte{'k', b})
	return h[:]
}

func baseConfig(t testing.TB, clock *testkit.Clock) Config {
	t.Helper()
	testKeys(t)
	hash, err := HashSecret(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	scopes := []string{"mcp:tools", "mcp:resources:read", "other:read"}
	both := []string{GrantClientCredentials, GrantJWTBearer}
	return Config{
		Issuer: testIssuer,
		Resources: []Resource{
			{ID: testMCP, Scopes: []string{"mcp:tools", "mcp:resources:read", "mcp:admin"}},
			{ID: testOther, Scopes: []string{"other:read"}},
		},
		Clients: []Client{
			{ID: testSecretID, SecretHash: hash, GrantTypes: both, Scopes: scopes},
			{ID: testJWTID, JWKS: jwksOf(t, clientKey), GrantTypes: both, Scopes: scopes},
			{ID: testCCOnlyID, SecretHash: hash, GrantTypes: []string{GrantClientCredentials}, Scopes: scopes},
			{ID: testRestrictID, SecretHash: hash, GrantTypes: both, Scopes: scopes,
				AuthMethods: []string{AuthClientSecretPost}, Resources: []string{testMCP}},
		},
		TrustedIdPs: []TrustedIdP{{
			Issuer: testIdPIssuer,
			JWKS:   jwksOf(t, idpKey),
			Claims: map[string]string{"groups": "groups", "email": "email"},
		}},
		SigningKeys: []SigningKey{{Signer: asKey.key, KeyID: asKey.kid}},
		RateLimit:   RateLimit{Disabled: true},
		Now:         clock.Now,
	}
}

func newEnv(t testing.TB, mutate func(*Config)) *env {
	t.Helper()
	clock := testkit.NewClock(time.Unix(1_800_000_000, 0))
	cfg := baseConfig(t, clock)
	logs := &testkit.Buffer{}
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &env{s: s, clock: clock, logs: logs, cfg: cfg}
}

// idjagClaims returns valid ID-JAG claims for the secret client.
func (e *env) idjagClaims() map[string]any {
	now := e.clock.Now().Unix()
	return map[string]any{
		"iss":       testIdPIssuer,
		"sub":       testUser,
		"aud":       testIssuer,
		"resource":  testMCP,
		"client_id": testSecretID,
		"jti":       newTokenID(),
		"iat":       now,
		"exp":       now + 300,
		"scope":     "mcp:tools mcp:resources:read",
		"email":     "user@example.com",
		"groups":    []string{"eng", "sre"},
	}
}

// assertionClaims returns valid private_key_jwt claims for the jwt client.
func (e *env) assertionClaims() map[string]any {
	now := e.clock.Now().Unix()
	return map[string]any{
		"iss": testJWTID,
		"sub": testJWTID,
		"aud": testIssuer,
		"iat": now,
		"exp": now + 60,
		"jti": newTokenID(),
	}
}

func basicHeader(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

// req is one token request.
type req struct {
	method  string
	target  string
	body    string
	headers map[string]string
	basic   [2]string // id, secret; empty = none
}

type httptestRecorder = httptest.ResponseRecorder

func (e *env) do(r req) *httptest.ResponseRecorder { return e.doWith(r, nil) }

func (e *env) doWith(r req, edit func(*http.Request)) *httptest.ResponseRecorder {
	method := r.method
	if method == "" {
		method = http.MethodPost
	}
	target := r.target
	if target == "" {
		target = "/token"
	}
	hr := httptest.NewRequestWithContext(context.Background(), method, "https://as.example.com"+target, strings.NewReader(r.body))
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r.basic[0] != "" {
		hr.Header.Set("Authorization", basicHeader(r.basic[0], r.basic[1]))
	}
	for k, v := range r.headers {
		if v == "" {
			hr.Header.Del(k)
			continue
		}
		hr.Header.Set(k, v)
	}
	if edit != nil {
		edit(hr)
	}
	w := httptest.NewRecorder()
	e.s.ServeHTTP(w, hr)
	return w
}

// oauthResult is a decoded token endpoint response.
type oauthResult struct {
	status int
	err    string
	desc   string
	tok    *tokenResponse
	hdr    http.Header
	body   string
}

func decodeResult(t testing.TB, w *httptest.ResponseRecorder) oauthResult {
	t.Helper()
	res := oauthResult{status: w.Code, hdr: w.Header(), body: w.Body.String()}
	if w.Code == http.StatusOK {
		var tr tokenResponse
		if err := json.Unmarshal(w.Body.Bytes(), &tr); err != nil {
			t.Fatalf("decode success body %q: %v", w.Body.String(), err)
		}
		res.tok = &tr
		return res
	}
	var eb map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil {
		t.Fatalf("decode error body %q: %v", w.Body.String(), err)
	}
	for k := range eb {
		if k != "error" && k != "error_description" {
			t.Fatalf("unexpected member %q in error body", k)
		}
	}
	res.err, _ = eb["error"].(string)
	res.desc, _ = eb["error_description"].(string)
	return res
}

// claimsOf decodes an issued token without verifying it (tests verify
// separately).
func claimsOf(t testing.TB, tok string) (hdr, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	dec := func(s string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]any{}
		d := json.NewDecoder(strings.NewReader(string(b)))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	return dec(parts[0]), dec(parts[1])
}

// verifyIssued checks an issued token's signature against the server's
// published JWK Set.
func verifyIssued(t testing.TB, e *env, tok string) {
	t.Helper()
	w := httptest.NewRecorder()
	e.s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "https://as.example.com/jwks.json", nil))
	keys, err := jose.ParseJWKS(w.Body.Bytes(), jose.KeySetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := jose.ParseCompact(tok, jose.ParseOptions{Algorithms: allAlgorithms})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jose.VerifyToken(context.Background(), p, jose.NewStaticKeySet(keys...)); err != nil {
		t.Fatalf("issued token does not verify with the published JWKS: %v", err)
	}
}

func form(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv[i]))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(kv[i+1]))
	}
	return b.String()
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
