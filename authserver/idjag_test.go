package authserver

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// A01: every ID-JAG rule, through the token endpoint.
func TestIDJAG(t *testing.T) {
	t.Parallel()
	testKeys(t)
	jb := GrantJWTBearer
	type tcase struct {
		name   string
		mutate func(*Config)
		claims func(e *env, c map[string]any)
		sign   func(e *env, c map[string]any) string // default: IdP key, typ oauth-id-jag+jwt
		extra  []string
		status int
		err    string
		aud    string
		scope  string
	}
	jag := func(k signerKey, typ string) func(e *env, c map[string]any) string {
		return func(e *env, c map[string]any) string { return mint(t, k, typ, c) }
	}
	tests := []tcase{
		{name: "valid", status: 200, aud: testMCP, scope: "mcp:tools mcp:resources:read"},
		{name: "valid, resource param equals claim", extra: []string{"resource", testMCP}, status: 200, aud: testMCP, scope: "mcp:tools mcp:resources:read"},
		{name: "valid, aud single-element array", claims: func(e *env, c map[string]any) { c["aud"] = []string{testIssuer} }, status: 200, aud: testMCP, scope: "mcp:tools mcp:resources:read"},
		{name: "valid, typ with application/ prefix", sign: jag(idpKey, "application/oauth-id-jag+jwt"), status: 200, aud: testMCP, scope: "mcp:tools mcp:resources:read"},
		{name: "requested scope narrows", extra: []string{"scope", "mcp:tools"}, status: 200, aud: testMCP, scope: "mcp:tools"},
		{name: "requested scope beyond ID-JAG is dropped", extra: []string{"scope", "mcp:tools mcp:admin"}, status: 200, aud: testMCP, scope: "mcp:tools"},
		{name: "requested scope beyond ID-JAG, strict", mutate: func(c *Config) { c.StrictScopes = true },
			extra: []string{"scope", "mcp:tools mcp:admin"}, status: 400, err: "invalid_scope"},
		{name: "requested scope disjoint", extra: []string{"scope", "mcp:admin"}, status: 400, err: "invalid_scope"},
		{name: "ID-JAG scope beyond client's scopes is dropped", claims: func(e *env, c map[string]any) { c["scope"] = "mcp:tools mcp:admin" },
			status: 200, aud: testMCP, scope: "mcp:tools"},
		{name: "ID-JAG scope of another resource is dropped", claims: func(e *env, c map[string]any) { c["scope"] = "mcp:tools other:read" },
			status: 200, aud: testMCP, scope: "mcp:tools"},
		{name: "ID-JAG without scope gives a scope-less token", claims: func(e *env, c map[string]any) { delete(c, "scope") },
			status: 200, aud: testMCP, scope: ""},
		{name: "ID-JAG scope not a string", claims: func(e *env, c map[string]any) { c["scope"] = []string{"mcp:tools"} }, status: 400, err: "invalid_grant"},
		{name: "resource array, param picks one", claims: func(e *env, c map[string]any) { c["resource"] = []string{testMCP, testOther} },
			extra: []string{"resource", testOther}, status: 200, aud: testOther, scope: ""},
		{name: "resource array, no param → default resource", claims: func(e *env, c map[string]any) { c["resource"] = []string{testOther, testMCP} },
			status: 200, aud: testMCP, scope: "mcp:tools mcp:resources:read"},
		{name: "resource array without default and no param", mutate: func(c *Config) {
			c.Resources = append(c.Resources, Resource{ID: "https://third.example.com/mcp"})
			c.DefaultResource = "https://third.example.com/mcp"
		}, claims: func(e *env, c map[string]any) { c["resource"] = []string{testOther, testMCP} }, status: 400, err: "invalid_target"},
		{name: "resource param not in ID-JAG", extra: []string{"resource", testOther}, status: 400, err: "invalid_target"},
		{name: "resource param unknown", extra: []string{"resource", "https://evil.example.com/mcp"}, status: 400, err: "invalid_target"},
		{name: "ID-JAG resource not served here", claims: func(e *env, c map[string]any) { c["resource"] = "https://evil.example.com/mcp" }, status: 400, err: "invalid_grant"},
		{name: "ID-JAG resource array with a foreign resource", claims: func(e *env, c map[string]any) { c["resource"] = []string{testMCP, "https://evil.example.com/mcp"} }, status: 400, err: "invalid_grant"},
		{name: "ID-JAG resource empty array", claims: func(e *env, c map[string]any) { c["resource"] = []string{} }, status: 400, err: "invalid_grant"},
		{name: "no resource claim, two resources configured", claims: func(e *env, c map[string]any) { delete(c, "resource") }, status: 400, err: "invalid_grant"},
		{name: "no resource claim, one resource configured", mutate: func(c *Config) { c.Resources = c.Resources[:1] },
			claims: func(e *env, c map[string]any) { delete(c, "resource") }, status: 200, aud: testMCP, scope: "mcp:tools mcp:resources:read"},
		{name: "no resource claim, one resource, other param", mutate: func(c *Config) { c.Resources = c.Resources[:1] },
			claims: func(e *env, c map[string]any) { delete(c, "resource") }, extra: []string{"resource", testOther}, status: 400, err: "invalid_target"},
		{name: "typ missing", sign: jag(idpKey, ""), status: 400, err: "invalid_grant"},
		{name: "typ JWT", sign: jag(idpKey, "JWT"), status: 400, err: "invalid_grant"},
		{name: "typ at+jwt", sign: jag(idpKey, "at+jwt"), status: 400, err: "invalid_grant"},
		{name: "aud another AS", claims: func(e *env, c map[string]any) { c["aud"] = "https://other-as.example.com" }, status: 400, err: "invalid_grant"},
		{name: "aud two-element array", claims: func(e *env, c map[string]any) { c["aud"] = []string{testIssuer, "https://other-as.example.com"} }, status: 400, err: "invalid_grant"},
		{name: "aud two-element array of ours", claims: func(e *env, c map[string]any) { c["aud"] = []string{testIssuer, testIssuer} }, status: 400, err: "invalid_grant"},
		{name: "aud token endpoint", claims: func(e *env, c map[string]any) { c["aud"] = testIssuer + "/token" }, status: 400, err: "invalid_grant"},
		{name: "aud with trailing slash", claims: func(e *env, c map[string]any) { c["aud"] = testIssuer + "/" }, status: 400, err: "invalid_grant"},
		{name: "aud the resource", claims: func(e *env, c map[string]any) { c["aud"] = testMCP }, status: 400, err: "invalid_grant"},
		{name: "aud missing", claims: func(e *env, c map[string]any) { delete(c, "aud") }, status: 400, err: "invalid_grant"},
		{name: "client_id claim is another client", claims: func(e *env, c map[string]any) { c["client_id"] = testJWTID }, status: 400, err: "invalid_grant"},
		{name: "client_id claim missing", claims: func(e *env, c map[string]any) { delete(c, "client_id") }, status: 400, err: "invalid_grant"},
		{name: "untrusted issuer", claims: func(e *env, c map[string]any) { c["iss"] = "https://evil-idp.example.com" }, status: 400, err: "invalid_grant"},
		{name: "issuer is this AS, signed with the AS key", claims: func(e *env, c map[string]any) { c["iss"] = testIssuer },
			sign: jag(asKey, TypeIDJAG), status: 400, err: "invalid_grant"},
		{name: "signed by another key with the same kid", sign: jag(otherIdPKey, TypeIDJAG), status: 400, err: "invalid_grant"},
		{name: "alg not allowed for the IdP", mutate: func(c *Config) {
			c.TrustedIdPs[0].Algorithms = []string{"RS256"}
			c.TrustedIdPs[0].JWKS = jwksOf(t, signerKey{key: idpKey.key, kid: testIdPKeyID})
		}, status: 400, err: "invalid_grant"},
		{name: "alg none", sign: func(e *env, c map[string]any) string {
			return mintRaw(`{"alg":"none","typ":"oauth-id-jag+jwt"}`, mustJSON(t, c), nil)
		}, status: 400, err: "invalid_grant"},
		{name: "HS256 with the IdP public key", sign: func(e *env, c map[string]any) string {
			return mintRaw(`{"alg":"HS256","typ":"oauth-id-jag+jwt","kid":"idp-2026-01"}`, mustJSON(t, c), hmacSigner(jwksOf(t, idpKey)))
		}, status: 400, err: "invalid_grant"},
		{name: "duplicate case-variant claim", sign: func(e *env, c map[string]any) string {
			p := mustJSON(t, c)
			p = p[:len(p)-1] + `,"ISS":"https://evil-idp.example.com"}`
			// Validly signed: only the strict JSON rules refuse it.
			return mintRaw(`{"alg":"ES256","typ":"oauth-id-jag+jwt","kid":"idp-2026-01"}`, p, func(in []byte) []byte {
				sig, err := jose.SignInput(idpKey.key, "ES256", in)
				if err != nil {
					t.Fatal(err)
				}
				return sig
			})
		}, status: 400, err: "invalid_grant"},
		{name: "expired", claims: func(e *env, c map[string]any) {
			c["iat"] = e.clock.Now().Add(-5 * time.Minute).Unix()
			c["exp"] = e.clock.Now().Add(-DefaultLeeway).Unix()
		}, status: 400, err: "invalid_grant"},
		{name: "iat in the future", claims: func(e *env, c map[string]any) {
			c["iat"] = e.clock.Now().Add(DefaultLeeway + time.Second).Unix()
			c["exp"] = e.clock.Now().Add(3 * time.Minute).Unix()
		}, status: 400, err: "invalid_grant"},
		{name: "iat in the future within leeway", claims: func(e *env, c map[string]any) {
			c["iat"] = e.clock.Now().Add(DefaultLeeway).Unix()
			c["exp"] = e.clock.Now().Add(3 * time.Minute).Unix()
		}, status: 200, aud: testMCP, scope: "mcp:tools mcp:resources:read"},
		{name: "lifetime longer than 5 min", claims: func(e *env, c map[string]any) {
			c["exp"] = c["iat"].(int64) + 301
		}, status: 400, err: "invalid_grant"},
		{name: "lifetime 1 h, configured max 1 h", mutate: func(c *Config) { c.MaxAssertionLifetime = time.Hour },
			claims: func(e *env, c map[string]any) { c["exp"] = c["iat"].(int64) + 3600 }, status: 200, aud: testMCP, scope: "mcp:tools mcp:resources:read"},
		{name: "iat missing", claims: func(e *env, c map[string]any) { delete(c, "iat") }, status: 400, err: "invalid_grant"},
		{name: "exp missing", claims: func(e *env, c map[string]any) { delete(c, "exp") }, status: 400, err: "invalid_grant"},
		{name: "exp before iat", claims: func(e *env, c map[string]any) { c["exp"] = c["iat"].(int64) - 1 }, status: 400, err: "invalid_grant"},
		{name: "nbf in the future", claims: func(e *env, c map[string]any) { c["nbf"] = e.clock.Now().Add(2 * time.Minute).Unix() }, status: 400, err: "invalid_grant"},
		{name: "cnf present", claims: func(e *env, c map[string]any) { c["cnf"] = map[string]any{"jkt": "abc"} }, status: 400, err: "invalid_grant"},
		{name: "sub missing", claims: func(e *env, c map[string]any) { delete(c, "sub") }, status: 400, err: "invalid_grant"},
		{name: "sub empty", claims: func(e *env, c map[string]any) { c["sub"] = "" }, status: 400, err: "invalid_grant"},
		{name: "sub equals the client id", claims: func(e *env, c map[string]any) { c["sub"] = testSecretID }, status: 400, err: "invalid_grant"},
		{name: "jti missing", claims: func(e *env, c map[string]any) { delete(c, "jti") }, status: 400, err: "invalid_grant"},
		{name: "jti too long", claims: func(e *env, c map[string]any) { c["jti"] = strings.Repeat("x", 257) }, status: 400, err: "invalid_grant"},
		{name: "assertion missing", sign: func(e *env, c map[string]any) string { return "" }, status: 400, err: "invalid_request"},
		{name: "assertion is garbage", sign: func(e *env, c map[string]any) string { return "a.b" }, status: 400, err: "invalid_grant"},
		{name: "client not registered for jwt-bearer", mutate: func(c *Config) { c.Clients[0].GrantTypes = []string{GrantClientCredentials} },
			status: 400, err: "unauthorized_client"},
		{name: "client restricted to another resource", mutate: func(c *Config) { c.Clients[0].Resources = []string{testOther} },
			status: 400, err: "invalid_target"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tc.mutate)
			c := e.idjagClaims()
			if tc.claims != nil {
				tc.claims(e, c)
			}
			sign := tc.sign
			if sign == nil {
				sign = jag(idpKey, TypeIDJAG)
			}
			kv := append([]string{"grant_type", jb, "assertion", sign(e, c)}, tc.extra...)
			res := decodeResult(t, e.do(req{body: form(kv...), basic: [2]string{testSecretID, testSecret}}))
			if res.status != tc.status || res.err != tc.err {
				t.Fatalf("got %d %q (%s), want %d %q", res.status, res.err, res.desc, tc.status, tc.err)
			}
			if tc.status != 200 {
				return
			}
			verifyIssued(t, e, res.tok.AccessToken)
			_, claims := claimsOf(t, res.tok.AccessToken)
			if claims["aud"] != tc.aud || claims["sub"] != testUser || claims["client_id"] != testSecretID || claims["idp_iss"] != testIdPIssuer {
				t.Errorf("claims %v", claims)
			}
			if got, _ := claims["scope"].(string); got != tc.scope || res.tok.Scope != tc.scope {
				t.Errorf("scope claim %q response %q, want %q", got, res.tok.Scope, tc.scope)
			}
		})
	}
}

// Every client authentication method works with the jwt-bearer grant
// (go-sdk's EnterpriseHandler uses client_secret_post, the conformance
// mock uses Basic).
func TestIDJAGClientAuthMethods(t *testing.T) {
	t.Parallel()
	for _, method := range []string{AuthClientSecretBasic, AuthClientSecretPost, AuthPrivateKeyJWT} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			c := e.idjagClaims()
			r := req{}
			kv := []string{"grant_type", GrantJWTBearer}
			switch method {
			case AuthClientSecretBasic:
				r.basic = [2]string{testSecretID, testSecret}
			case AuthClientSecretPost:
				kv = append(kv, "client_id", testSecretID, "client_secret", testSecret)
			case AuthPrivateKeyJWT:
				c["client_id"] = testJWTID
				kv = append(kv, "client_assertion_type", AssertionTypeJWTBearer, "client_assertion", mint(t, clientKey, "", e.assertionClaims()))
			}
			kv = append(kv, "assertion", mint(t, idpKey, TypeIDJAG, c))
			r.body = form(kv...)
			if res := decodeResult(t, e.do(r)); res.status != 200 {
				t.Fatalf("%d %s", res.status, res.body)
			}
		})
	}
}

// A02: the same ID-JAG twice; then the same jti from another IdP is fine.
func TestIDJAGReplay(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) {
		c.TrustedIdPs = append(c.TrustedIdPs, TrustedIdP{Issuer: "https://idp2.example.com", JWKS: jwksOf(t, otherIdPKey)})
	})
	c := e.idjagClaims()
	c["jti"] = "jti-1"
	a := mint(t, idpKey, TypeIDJAG, c)
	body := form("grant_type", GrantJWTBearer, "assertion", a)
	if res := decodeResult(t, e.do(req{body: body, basic: [2]string{testSecretID, testSecret}})); res.status != 200 {
		t.Fatalf("first: %d %s", res.status, res.body)
	}
	res := decodeResult(t, e.do(req{body: body, basic: [2]string{testSecretID, testSecret}}))
	if res.status != 400 || res.err != "invalid_grant" {
		t.Fatalf("replay: %d %s", res.status, res.body)
	}
	// A fresh token with the same jti from the same IdP is also a replay.
	c2 := e.idjagClaims()
	c2["jti"] = "jti-1"
	body = form("grant_type", GrantJWTBearer, "assertion", mint(t, idpKey, TypeIDJAG, c2))
	if res := decodeResult(t, e.do(req{body: body, basic: [2]string{testSecretID, testSecret}})); res.err != "invalid_grant" {
		t.Fatalf("same jti re-minted: %d %s", res.status, res.body)
	}
	// Replay keys are scoped by issuer.
	c3 := e.idjagClaims()
	c3["jti"], c3["iss"] = "jti-1", "https://idp2.example.com"
	body = form("grant_type", GrantJWTBearer, "assertion", mint(t, otherIdPKey, TypeIDJAG, c3))
	if res := decodeResult(t, e.do(req{body: body, basic: [2]string{testSecretID, testSecret}})); res.status != 200 {
		t.Fatalf("same jti, other IdP: %d %s", res.status, res.body)
	}
}

// Provenance and mapped claims are copied; nothing else from the ID-JAG is.
func TestIDJAGProvenance(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.idjagClaims()
	c["tenant"] = "acme"
	c["acr"] = "phr"
	c["amr"] = []string{"pwd", "mfa"}
	c["auth_time"] = e.clock.Now().Add(-time.Hour).Unix()
	c["department"] = "finance" // not mapped
	c["aud_sub"] = "local-42"   // not mapped
	body := form("grant_type", GrantJWTBearer, "assertion", mint(t, idpKey, TypeIDJAG, c))
	res := decodeResult(t, e.do(req{body: body, basic: [2]string{testSecretID, testSecret}}))
	if res.status != 200 {
		t.Fatalf("%d %s", res.status, res.body)
	}
	_, got := claimsOf(t, res.tok.AccessToken)
	want := map[string]any{
		"iss": testIssuer, "sub": testUser, "aud": testMCP, "client_id": testSecretID,
		"scope": "mcp:tools mcp:resources:read", "idp_iss": testIdPIssuer, "tenant": "acme",
		"acr": "phr", "amr": []any{"pwd", "mfa"}, "auth_time": json.Number(itoa(c["auth_time"].(int64))),
		"email": "user@example.com", "groups": []any{"eng", "sre"},
	}
	var names []string
	for k := range got {
		names = append(names, k)
	}
	slices.Sort(names)
	wantNames := []string{"acr", "amr", "aud", "auth_time", "client_id", "email", "exp", "groups", "iat", "idp_iss", "iss", "jti", "scope", "sub", "tenant"}
	if !slices.Equal(names, wantNames) {
		t.Fatalf("claim names %v, want %v", names, wantNames)
	}
	for k, v := range want {
		if mustJSON(t, got[k]) != mustJSON(t, v) {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if got["jti"] == c["jti"] {
		t.Error("access token reuses the ID-JAG jti")
	}
}
