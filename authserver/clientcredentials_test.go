package authserver

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestClientCredentials(t *testing.T) {
	t.Parallel()
	cc := "client_credentials"
	tests := []struct {
		name      string
		mutate    func(*Config)
		req       func(e *env) req
		status    int
		err       string
		aud       string
		scope     string
		basicChal bool
	}{
		{name: "basic, no resource → default resource, all client∩resource scopes",
			req: func(e *env) req {
				return req{body: form("grant_type", cc), basic: [2]string{testSecretID, testSecret}}
			}, status: 200, aud: testMCP, scope: "mcp:tools mcp:resources:read"},
		{name: "post with resource and scope",
			req: func(e *env) req {
				return req{body: form("grant_type", cc, "client_id", testSecretID, "client_secret", testSecret, "resource", testMCP, "scope", "mcp:tools")}
			}, status: 200, aud: testMCP, scope: "mcp:tools"},
		{name: "other resource gets its own scopes",
			req: func(e *env) req {
				return req{body: form("grant_type", cc, "resource", testOther), basic: [2]string{testSecretID, testSecret}}
			}, status: 200, aud: testOther, scope: "other:read"},
		{name: "default resource configured",
			mutate: func(c *Config) { c.DefaultResource = testOther },
			req: func(e *env) req {
				return req{body: form("grant_type", cc), basic: [2]string{testSecretID, testSecret}}
			}, status: 200, aud: testOther, scope: "other:read"},
		{name: "basic with url-encoded credentials",
			req: func(e *env) req {
				return req{body: form("grant_type", cc), headers: map[string]string{
					"Authorization": basicHeader("svc%2Dsecret", strings.ReplaceAll(testSecret, "-", "%2D"))}}
			}, status: 200, aud: testMCP, scope: "mcp:tools mcp:resources:read"},
		{name: "basic with matching client_id in body",
			req: func(e *env) req {
				return req{body: form("grant_type", cc, "client_id", testSecretID), basic: [2]string{testSecretID, testSecret}}
			}, status: 200, aud: testMCP, scope: "mcp:tools mcp:resources:read"},
		{name: "basic with other client_id in body",
			req: func(e *env) req {
				return req{body: form("grant_type", cc, "client_id", testJWTID), basic: [2]string{testSecretID, testSecret}}
			}, status: 400, err: "invalid_request"},
		{name: "private_key_jwt",
			req: func(e *env) req {
				return req{body: form("grant_type", cc, "client_assertion_type", AssertionTypeJWTBearer,
					"client_assertion", mint(t, clientKey, "", e.assertionClaims()), "scope", "mcp:tools")}
			}, status: 200, aud: testMCP, scope: "mcp:tools"},
		{name: "unknown resource",
			req: func(e *env) req {
				return req{body: form("grant_type", cc, "resource", "https://evil.example.com/mcp"), basic: [2]string{testSecretID, testSecret}}
			}, status: 400, err: "invalid_target"},
		{name: "resource with trailing slash is another resource",
			req: func(e *env) req {
				return req{body: form("grant_type", cc, "resource", testMCP+"/"), basic: [2]string{testSecretID, testSecret}}
			}, status: 400, err: "invalid_target"},
		{name: "client restricted to one resource",
			req: func(e *env) req {
				return req{body: form("grant_type", cc, "client_id", testRestrictID, "client_secret", testSecret, "resource", testOther)}
			}, status: 400, err: "invalid_target"},
		{name: "client restricted to post cannot use basic",
			req: func(e *env) req {
				return req{body: form("grant_type", cc), basic: [2]string{testRestrictID, testSecret}}
			}, status: 401, err: "invalid_client", basicChal: true},
		{name: "scope partially grantable is narrowed",
			req: func(e *env) req {
				return req{body: form("grant_type", cc, "scope", "mcp:tools mcp:admin"), basic: [2]string{testSecretID, testSecret}}
			}, status: 200, aud: testMCP, scope: "mcp:tools"},
		{name: "scope partially grantable, strict",
			mutate: func(c *Config) { c.StrictScopes = true },
			req: func(e *env) req {
				return req{body: form("grant_type", cc, "scope", "mcp:tools mcp:admin"), basic: [2]string{testSecretID, testSecret}}
			}, status: 400, err: "invalid_scope"},
		{name: "no grantable scope",
			req: func(e *env) req {
				return req{body: form("grant_type", cc, "scope", "mcp:admin"), basic: [2]string{testSecretID, testSecret}}
			}, status: 400, err: "invalid_scope"},
		{name: "scope of another resource",
			req: func(e *env) req {
				return req{body: form("grant_type", cc, "scope", "other:read"), basic: [2]string{testSecretID, testSecret}}
			}, status: 400, err: "invalid_scope"},
		{name: "malformed scope",
			req: func(e *env) req {
				return req{body: form("grant_type", cc, "scope", "mcp:tools  x"), basic: [2]string{testSecretID, testSecret}}
			}, status: 400, err: "invalid_scope"},
		// A scope parameter is at most maxScopeTokens scope-tokens: a
		// 64 KiB body of distinct short tokens cost about 0.45 s of CPU
		// (the duplicate check compares each token with every earlier one).
		{name: "scope of maxScopeTokens tokens",
			req: func(e *env) req {
				return req{body: form("grant_type", cc, "scope", manyScopes(maxScopeTokens)), basic: [2]string{testSecretID, testSecret}}
			}, status: 200, aud: testMCP, scope: "mcp:tools"},
		{name: "scope of more than maxScopeTokens tokens",
			req: func(e *env) req {
				return req{body: form("grant_type", cc, "scope", manyScopes(maxScopeTokens+1)), basic: [2]string{testSecretID, testSecret}}
			}, status: 400, err: "invalid_scope"},
		{name: "empty scope parameter is omitted",
			req: func(e *env) req {
				return req{body: form("grant_type", cc, "scope", ""), basic: [2]string{testSecretID, testSecret}}
			}, status: 200, aud: testMCP, scope: "mcp:tools mcp:resources:read"},
		{name: "wrong secret",
			req: func(e *env) req {
				return req{body: form("grant_type", cc), basic: [2]string{testSecretID, "wrong"}}
			}, status: 401, err: "invalid_client", basicChal: true},
		{name: "wrong secret via post has no Basic challenge",
			req: func(e *env) req {
				return req{body: form("grant_type", cc, "client_id", testSecretID, "client_secret", "wrong")}
			}, status: 401, err: "invalid_client"},
		{name: "no client authentication",
			req:    func(e *env) req { return req{body: form("grant_type", cc, "client_id", testSecretID)} },
			status: 401, err: "invalid_client"},
		{name: "client_secret without client_id",
			req:    func(e *env) req { return req{body: form("grant_type", cc, "client_secret", testSecret)} },
			status: 400, err: "invalid_request"},
		{name: "jwt-only client with a secret",
			req: func(e *env) req {
				return req{body: form("grant_type", cc), basic: [2]string{testJWTID, testSecret}}
			}, status: 401, err: "invalid_client", basicChal: true},
		{name: "grant not registered for client",
			mutate: func(c *Config) { c.Clients[0].GrantTypes = []string{GrantJWTBearer} },
			req: func(e *env) req {
				return req{body: form("grant_type", cc), basic: [2]string{testSecretID, testSecret}}
			}, status: 400, err: "unauthorized_client"},
		{name: "client without scopes gets a scope-less token",
			mutate: func(c *Config) { c.Clients[0].Scopes = nil },
			req: func(e *env) req {
				return req{body: form("grant_type", cc), basic: [2]string{testSecretID, testSecret}}
			}, status: 200, aud: testMCP, scope: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tc.mutate)
			res := decodeResult(t, e.do(tc.req(e)))
			if res.status != tc.status || res.err != tc.err {
				t.Fatalf("got %d %q (%s), want %d %q", res.status, res.err, res.desc, tc.status, tc.err)
			}
			if got := res.hdr.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q", got)
			}
			if got := res.hdr.Get("Pragma"); got != "no-cache" {
				t.Errorf("Pragma = %q", got)
			}
			if chal := res.hdr.Get("WWW-Authenticate"); (chal != "") != tc.basicChal || (chal != "" && !strings.HasPrefix(chal, "Basic ")) {
				t.Errorf("WWW-Authenticate = %q, want Basic challenge: %v", chal, tc.basicChal)
			}
			if tc.status != http.StatusOK {
				return
			}
			if res.tok.TokenType != "Bearer" || res.tok.ExpiresIn != int64(DefaultAccessTokenLifetime.Seconds()) {
				t.Errorf("token_type %q expires_in %d", res.tok.TokenType, res.tok.ExpiresIn)
			}
			verifyIssued(t, e, res.tok.AccessToken)
			_, claims := claimsOf(t, res.tok.AccessToken)
			if claims["aud"] != tc.aud {
				t.Errorf("aud = %v, want %s", claims["aud"], tc.aud)
			}
			if tc.scope != "" || res.tok.Scope != "" {
				if res.tok.Scope != tc.scope || claims["scope"] != tc.scope {
					t.Errorf("scope response %q claim %v, want %q", res.tok.Scope, claims["scope"], tc.scope)
				}
			} else if _, ok := claims["scope"]; ok {
				t.Errorf("unexpected scope claim")
			}
			// RFC 9068 §2.2: the subject of a client-only grant is the client.
			if claims["sub"] != claims["client_id"] {
				t.Errorf("sub %v != client_id %v", claims["sub"], claims["client_id"])
			}
			for _, user := range []string{"idp_iss", "email", "groups", "tenant", "acr", "amr", "auth_time"} {
				if _, ok := claims[user]; ok {
					t.Errorf("client token carries user claim %q", user)
				}
			}
		})
	}
}

// An issued client_credentials token carries exactly the RFC 9068 claims.
func TestClientCredentialsTokenClaimSet(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	res := decodeResult(t, e.do(req{body: form("grant_type", "client_credentials"), basic: [2]string{testSecretID, testSecret}}))
	if res.status != 200 {
		t.Fatalf("status %d %s", res.status, res.body)
	}
	hdr, claims := claimsOf(t, res.tok.AccessToken)
	var names []string
	for k := range claims {
		names = append(names, k)
	}
	slices.Sort(names)
	want := []string{"aud", "client_id", "exp", "iat", "iss", "jti", "scope", "sub"}
	if !slices.Equal(names, want) {
		t.Fatalf("claims %v, want %v", names, want)
	}
	if hdr["typ"] != "at+jwt" || hdr["kid"] != asKey.kid || hdr["alg"] != "ES256" {
		t.Fatalf("header %v", hdr)
	}
	if claims["iss"] != testIssuer || claims["sub"] != testSecretID {
		t.Fatalf("claims %v", claims)
	}
}

// manyScopes returns "mcp:tools" followed by n-1 distinct unknown
// scope-tokens.
func manyScopes(n int) string {
	parts := []string{"mcp:tools"}
	for i := 1; i < n; i++ {
		parts = append(parts, "x"+strconv.Itoa(i))
	}
	return strings.Join(parts, " ")
}
