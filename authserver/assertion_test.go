package authserver

import (
	"strings"
	"testing"
	"time"
)

// A03: every private_key_jwt rule.
func TestPrivateKeyJWT(t *testing.T) {
	t.Parallel()
	testKeys(t)
	cc := "client_credentials"
	type tcase struct {
		name   string
		mutate func(*Config)
		// claims edits valid claims; sign produces the assertion.
		claims func(e *env, c map[string]any)
		sign   func(e *env, c map[string]any) string
		extra  []string // extra form parameters
		atype  string   // client_assertion_type; "" = the right one
		basic  bool
		status int
		err    string
	}
	es := func(typ string) func(e *env, c map[string]any) string {
		return func(e *env, c map[string]any) string { return mint(t, clientKey, typ, c) }
	}
	tests := []tcase{
		{name: "valid, no typ", status: 200},
		{name: "valid, typ JWT", sign: es("JWT"), status: 200},
		{name: "valid, typ client-authentication+jwt", sign: es("client-authentication+jwt"), status: 200},
		{name: "valid, typ application/client-authentication+jwt", sign: es("application/client-authentication+jwt"), status: 200},
		{name: "valid, aud single-element array", claims: func(e *env, c map[string]any) { c["aud"] = []string{testIssuer} }, status: 200},
		{name: "valid, aud issuer with one trailing slash", claims: func(e *env, c map[string]any) { c["aud"] = testIssuer + "/" }, status: 200},
		{name: "valid, matching client_id param", extra: []string{"client_id", testJWTID}, status: 200},
		{name: "valid, no iat", claims: func(e *env, c map[string]any) { delete(c, "iat") }, status: 200},
		{name: "typ at+jwt", sign: es("at+jwt"), status: 401, err: "invalid_client"},
		{name: "typ oauth-id-jag+jwt", sign: es("oauth-id-jag+jwt"), status: 401, err: "invalid_client"},
		{name: "typ dpop+jwt", sign: es("dpop+jwt"), status: 401, err: "invalid_client"},
		{name: "iss differs from sub", claims: func(e *env, c map[string]any) { c["iss"] = testSecretID }, status: 401, err: "invalid_client"},
		{name: "iss missing", claims: func(e *env, c map[string]any) { delete(c, "iss") }, status: 401, err: "invalid_client"},
		{name: "iss not a string", claims: func(e *env, c map[string]any) { c["iss"] = 7 }, status: 401, err: "invalid_client"},
		{name: "unknown client", claims: func(e *env, c map[string]any) { c["iss"], c["sub"] = "nobody", "nobody" }, status: 401, err: "invalid_client"},
		{name: "secret-only client", claims: func(e *env, c map[string]any) { c["iss"], c["sub"] = testSecretID, testSecretID }, status: 401, err: "invalid_client"},
		{name: "client_id param mismatch", extra: []string{"client_id", testSecretID}, status: 401, err: "invalid_client"},
		{name: "aud token endpoint", claims: func(e *env, c map[string]any) { c["aud"] = testIssuer + "/token" }, status: 401, err: "invalid_client"},
		{name: "aud token endpoint with legacy switch", mutate: func(c *Config) { c.AllowTokenEndpointAudience = true },
			claims: func(e *env, c map[string]any) { c["aud"] = testIssuer + "/token" }, status: 200},
		{name: "aud two-element array", claims: func(e *env, c map[string]any) { c["aud"] = []string{testIssuer, "https://other-as.example.com"} }, status: 401, err: "invalid_client"},
		{name: "aud two trailing slashes", claims: func(e *env, c map[string]any) { c["aud"] = testIssuer + "//" }, status: 401, err: "invalid_client"},
		{name: "aud another AS", claims: func(e *env, c map[string]any) { c["aud"] = "https://other-as.example.com" }, status: 401, err: "invalid_client"},
		{name: "aud empty array", claims: func(e *env, c map[string]any) { c["aud"] = []string{} }, status: 401, err: "invalid_client"},
		{name: "aud missing", claims: func(e *env, c map[string]any) { delete(c, "aud") }, status: 401, err: "invalid_client"},
		{name: "no exp", claims: func(e *env, c map[string]any) { delete(c, "exp") }, status: 401, err: "invalid_client"},
		{name: "exp +1 day", claims: func(e *env, c map[string]any) {
			c["exp"] = e.clock.Now().Add(24 * time.Hour).Unix()
			delete(c, "iat")
		}, status: 401, err: "invalid_client"},
		{name: "exp - iat above max lifetime", claims: func(e *env, c map[string]any) {
			c["iat"] = e.clock.Now().Add(-5 * time.Minute).Unix()
			c["exp"] = e.clock.Now().Add(time.Minute).Unix()
		}, status: 401, err: "invalid_client"},
		{name: "expired beyond leeway", claims: func(e *env, c map[string]any) {
			c["iat"] = e.clock.Now().Add(-2 * time.Minute).Unix()
			c["exp"] = e.clock.Now().Add(-DefaultLeeway).Unix()
		}, status: 401, err: "invalid_client"},
		{name: "expired within leeway", claims: func(e *env, c map[string]any) {
			c["iat"] = e.clock.Now().Add(-2 * time.Minute).Unix()
			c["exp"] = e.clock.Now().Add(-DefaultLeeway + time.Second).Unix()
		}, status: 200},
		{name: "iat in the future", claims: func(e *env, c map[string]any) {
			c["iat"] = e.clock.Now().Add(DefaultLeeway + time.Second).Unix()
			c["exp"] = e.clock.Now().Add(2 * time.Minute).Unix()
		}, status: 401, err: "invalid_client"},
		{name: "nbf in the future", claims: func(e *env, c map[string]any) { c["nbf"] = e.clock.Now().Add(time.Minute).Unix() }, status: 401, err: "invalid_client"},
		{name: "exp is a string", claims: func(e *env, c map[string]any) { c["exp"] = "2030-01-01" }, status: 401, err: "invalid_client"},
		{name: "exp negative", claims: func(e *env, c map[string]any) { c["exp"] = -1 }, status: 401, err: "invalid_client"},
		{name: "exp 1e300", claims: func(e *env, c map[string]any) { c["exp"] = 1e300 }, status: 401, err: "invalid_client"},
		{name: "no jti", claims: func(e *env, c map[string]any) { delete(c, "jti") }, status: 401, err: "invalid_client"},
		{name: "jti too long", claims: func(e *env, c map[string]any) { c["jti"] = strings.Repeat("j", 257) }, status: 401, err: "invalid_client"},
		{name: "signed by an unregistered key", sign: func(e *env, c map[string]any) string {
			return mint(t, signerKey{key: otherIdPKey.key, kid: testClientKeyID, alg: "ES256"}, "", c)
		}, status: 401, err: "invalid_client"},
		{name: "alg not the registered key's (PS256 with unknown RSA key)", sign: func(e *env, c map[string]any) string {
			return mint(t, signerKey{key: clientRSA.key, kid: testClientKeyID, alg: "PS256"}, "", c)
		}, status: 401, err: "invalid_client"},
		{name: "alg not allowed for assertions", mutate: func(c *Config) {
			c.ClientAssertionAlgorithms = []string{"PS256"}
			c.Clients[1].JWKS = jwksOf(t, signerKey{key: clientKey.key, kid: testClientKeyID}) // no JWK alg
		},
			status: 401, err: "invalid_client"},
		{name: "HS256 with the public key bytes", sign: func(e *env, c map[string]any) string {
			return mintRaw(`{"alg":"HS256","kid":"client-1"}`, mustJSON(t, c), hmacSigner(jwksOf(t, clientKey)))
		}, status: 401, err: "invalid_client"},
		{name: "alg none", sign: func(e *env, c map[string]any) string {
			return mintRaw(`{"alg":"none"}`, mustJSON(t, c), nil)
		}, status: 401, err: "invalid_client"},
		{name: "wrong assertion type", atype: "urn:ietf:params:oauth:client-assertion-type:saml2-bearer", status: 401, err: "invalid_client"},
		{name: "assertion type without assertion", sign: func(e *env, c map[string]any) string { return "" }, status: 400, err: "invalid_request"},
		{name: "secret plus assertion", extra: []string{"client_id", testJWTID, "client_secret", testSecret}, status: 400, err: "invalid_request"},
		{name: "basic plus assertion", basic: true, status: 400, err: "invalid_request"},
		{name: "garbage assertion", sign: func(e *env, c map[string]any) string { return "not.a.jwt" }, status: 401, err: "invalid_client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tc.mutate)
			c := e.assertionClaims()
			if tc.claims != nil {
				tc.claims(e, c)
			}
			sign := tc.sign
			if sign == nil {
				sign = es("")
			}
			atype := tc.atype
			if atype == "" {
				atype = AssertionTypeJWTBearer
			}
			kv := append([]string{"grant_type", cc, "client_assertion_type", atype, "client_assertion", sign(e, c)}, tc.extra...)
			r := req{body: form(kv...)}
			if tc.basic {
				r.basic = [2]string{testSecretID, testSecret}
			}
			res := decodeResult(t, e.do(r))
			if res.status != tc.status || res.err != tc.err {
				t.Fatalf("got %d %q (%s), want %d %q", res.status, res.err, res.desc, tc.status, tc.err)
			}
		})
	}
}

// A03: a client assertion is one-time.
func TestPrivateKeyJWTReplay(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a := mint(t, clientKey, "", e.assertionClaims())
	body := form("grant_type", "client_credentials", "client_assertion_type", AssertionTypeJWTBearer, "client_assertion", a)
	if res := decodeResult(t, e.do(req{body: body})); res.status != 200 {
		t.Fatalf("first use: %d %s", res.status, res.body)
	}
	res := decodeResult(t, e.do(req{body: body}))
	if res.status != 401 || res.err != "invalid_client" {
		t.Fatalf("replay: %d %s", res.status, res.body)
	}
	// The same jti from another client is a different key.
	e2 := newEnv(t, func(c *Config) { c.Clients[0].JWKS = jwksOf(t, clientKey); c.Clients[0].SecretHash = "" })
	c := e2.assertionClaims()
	c["iss"], c["sub"] = testSecretID, testSecretID
	c["jti"] = "shared"
	body = form("grant_type", "client_credentials", "client_assertion_type", AssertionTypeJWTBearer, "client_assertion", mint(t, clientKey, "", c))
	if res := decodeResult(t, e2.do(req{body: body})); res.status != 200 {
		t.Fatalf("client A: %d %s", res.status, res.body)
	}
	c = e2.assertionClaims()
	c["jti"] = "shared"
	body = form("grant_type", "client_credentials", "client_assertion_type", AssertionTypeJWTBearer, "client_assertion", mint(t, clientKey, "", c))
	if res := decodeResult(t, e2.do(req{body: body})); res.status != 200 {
		t.Fatalf("client B with the same jti: %d %s", res.status, res.body)
	}
}
