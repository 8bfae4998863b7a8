package oidcprovider

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/verifier"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

// TestOPAsAuthorizationServer: oidc-provider issues RFC 9068 JWT access tokens
// (client_credentials + RFC 8707 resource); core/verifier, configured with the
// OP issuer only (live discovery + JWKS), accepts the one for our resource and
// refuses the one for another resource; a Guard in front of a go-sdk MCP
// server serves the first and answers 401 to the second.
func TestOPAsAuthorizationServer(t *testing.T) {
	t.Parallel()
	node := requireInterop(t)
	ctx := testContext(t)

	ln := testkit.Listen(t)
	base := "http://" + ln.Addr().String()
	resource := base + "/mcp"
	other := base + "/other/mcp"
	o := startOP(t, ctx, node, opArgs{Resource: resource, OtherResource: other, ASIssuer: base + "/as", ASClientID: "unused-as-client"})

	ccToken := func(res string) string {
		t.Helper()
		status, tr := tokenRequest(t, ctx, o.Meta.TokenEndpoint, url.Values{
			"grant_type": {"client_credentials"}, "resource": {res}, "scope": {scopeTools},
		}, "mcp-cc", "mcp-cc-secret")
		if status != http.StatusOK || tr.AccessToken == "" || !strings.EqualFold(tr.TokenType, "Bearer") {
			t.Fatalf("client_credentials for %s: status %d error=%q %q token_type=%q", res, status, tr.Error, tr.ErrorDesc, tr.TokenType)
		}
		h, c := jwtParts(t, tr.AccessToken)
		step(t, ctx, "OP  client_credentials resource=%s -> typ=%v alg=%v kid=%v iss=%v sub=%v client_id=%v aud=%v scope=%v jti=%v expires_in=%d",
			res, h["typ"], h["alg"], h["kid"], c["iss"], c["sub"], c["client_id"], c["aud"], c["scope"], c["jti"], tr.ExpiresIn)
		return tr.AccessToken
	}
	good := ccToken(resource)
	wrong := ccToken(other)

	// The OP refuses resources it does not serve (shape check of the peer).
	if status, tr := tokenRequest(t, ctx, o.Meta.TokenEndpoint, url.Values{
		"grant_type": {"client_credentials"}, "resource": {base + "/unknown"}, "scope": {scopeTools},
	}, "mcp-cc", "mcp-cc-secret"); status == http.StatusOK || tr.Error == "" {
		t.Fatalf("OP issued a token for an unknown resource: status %d", status)
	}

	// Verifier: issuer + discovery only, typ at+jwt, strict RFC 9068 claims.
	v, err := verifier.New(ctx, verifier.Config{
		Issuers: []verifier.IssuerConfig{{
			Issuer: o.Issuer, Types: []string{"at+jwt"}, RequiredClaims: verifier.RFC9068Claims(),
		}},
		Audience: []string{resource},
	})
	if err != nil {
		t.Fatalf("verifier.New: %v", err)
	}
	claims, err := v.Verify(ctx, good)
	if err != nil {
		t.Fatalf("Verify(token for our resource): %v", err)
	}
	step(t, ctx, "RS  verifier (discovery %s/.well-known/openid-configuration -> jwks_uri) accepted: iss=%s sub=%s client_id=%s aud=%v scopes=%v typ=%s alg=%s kid=%s jti=%s",
		o.Issuer, claims.Issuer, claims.Subject, claims.ClientID, claims.Audience, claims.Scopes, claims.Type, claims.Algorithm, claims.KeyID, claims.ID)
	checkCCClaims(t, o, claims, resource)

	if _, err := v.Verify(ctx, wrong); !errors.Is(err, core.ErrAudience) {
		t.Fatalf("Verify(token for other resource) = %v, want core.ErrAudience", err)
	}
	step(t, ctx, "RS  verifier refused the token minted for %s: ErrAudience", other)
	if _, err := v.Verify(ctx, tamper(good)); !errors.Is(err, core.ErrSignature) {
		t.Fatalf("Verify(tampered signature) = %v, want core.ErrSignature", err)
	}
	step(t, ctx, "RS  verifier refused the token with a corrupted signature: ErrSignature")

	// Guard + net/http adapter in front of a real go-sdk MCP server.
	mux := http.NewServeMux()
	mountMCP(t, mux, resource, v, nil, []string{o.Issuer})
	testkit.Serve(t, ln, mux)

	sess, err := connectMCP(ctx, resource, bearerClient(good))
	if err != nil {
		t.Fatalf("MCP connect with the OP token for our resource: %v", err)
	}
	defer sess.Close()
	out, err := callTool(ctx, sess, "whoami")
	if err != nil {
		t.Fatalf("tools/call whoami: %v", err)
	}
	step(t, ctx, "MCP tools/call whoami with OP token -> %q", out)
	want := "client:mcp-cc kind=client iss=" + o.Issuer + " client_id=mcp-cc scopes=" + scopeTools + " groups="
	if !strings.HasPrefix(out, want) {
		t.Fatalf("whoami = %q, want prefix %q", out, want)
	}
	if _, err := callTool(ctx, sess, "deploy"); err == nil {
		t.Fatalf("tools/call deploy by client mcp-cc succeeded; the policy allows only group:engineering")
	} else {
		step(t, ctx, "MCP tools/call deploy with OP token -> refused by policy: %v", err)
	}

	status, challenge := rawToolsCall(t, ctx, resource, wrong)
	if status != http.StatusUnauthorized || !strings.Contains(challenge, `error="invalid_token"`) ||
		!strings.Contains(challenge, `resource_metadata="`+base+`/.well-known/oauth-protected-resource/mcp"`) {
		t.Fatalf("tools/call with the other-resource token: status %d, WWW-Authenticate %q; want 401 invalid_token with resource_metadata", status, challenge)
	}
	step(t, ctx, "MCP tools/call with the other-resource token -> %d WWW-Authenticate: %s", status, challenge)
	if s, err := connectMCP(ctx, resource, bearerClient(wrong)); err == nil {
		s.Close()
		t.Fatalf("go-sdk client connected with the other-resource token")
	} else {
		step(t, ctx, "MCP go-sdk connect with the other-resource token -> %v", err)
	}

	// The PRM the Guard publishes names the OP as authorization server.
	st, body := httpDo(t, ctx, http.MethodGet, base+"/.well-known/oauth-protected-resource/mcp", nil, nil)
	var prm struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
	}
	if st != http.StatusOK || json.Unmarshal(body, &prm) != nil || prm.Resource != resource || !slices.Equal(prm.AuthorizationServers, []string{o.Issuer}) {
		t.Fatalf("protected resource metadata: status %d body %s", st, body)
	}
}

// checkCCClaims asserts the verified claims of the OP's client_credentials
// token for resource.
func checkCCClaims(t *testing.T, o *op, c *core.Claims, resource string) {
	t.Helper()
	if c.Issuer != o.Issuer || c.Subject != "mcp-cc" || c.ClientID != "mcp-cc" {
		t.Errorf("iss/sub/client_id = %q/%q/%q, want %q/mcp-cc/mcp-cc", c.Issuer, c.Subject, c.ClientID, o.Issuer)
	}
	if !slices.Equal(c.Audience, []string{resource}) {
		t.Errorf("aud = %v, want [%s]", c.Audience, resource)
	}
	if !slices.Equal(c.Scopes, []string{scopeTools}) {
		t.Errorf("scopes = %v, want [%s]", c.Scopes, scopeTools)
	}
	if c.Type != "at+jwt" || c.Algorithm != "ES256" || !strings.HasPrefix(c.KeyID, "es-") || c.ID == "" {
		t.Errorf("typ/alg/kid/jti = %q/%q/%q/%q, want at+jwt/ES256/es-*/non-empty", c.Type, c.Algorithm, c.KeyID, c.ID)
	}
	if life := c.Expiry.Sub(c.IssuedAt); life != 300*time.Second {
		t.Errorf("exp-iat = %v, want 5m (accessTokenTTL of op-server.mjs)", life)
	}
}

// tamper flips one character in the middle of the signature segment.
func tamper(tok string) string {
	i := strings.LastIndexByte(tok, '.') + (len(tok)-strings.LastIndexByte(tok, '.'))/2
	b := []byte(tok)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}
