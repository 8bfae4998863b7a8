package oidcprovider

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/client"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/mapper"
	"github.com/mcpauthz/mcpauthz/core/verifier"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

// Clients registered at our authorization server. The OP puts asClientID in
// every ID-JAG it issues (op-server.mjs argument).
const (
	asClientID          = "mcp-ema-client"
	asClientSecret      = "mcp-ema-client-secret-0123456789"
	otherASClientID     = "other-ema-client"
	otherASClientSecret = "other-ema-client-secret-0123456789"
)

// TestOPAsEnterpriseIdP: oidc-provider is the enterprise IdP. A user logs in
// (authorization code + PKCE), the OP exchanges the ID token for an ID-JAG
// (RFC 8693), our authserver (trusting the OP issuer and its jwks_uri)
// accepts the ID-JAG on the jwt-bearer grant, and the MCP server serves the
// call: all driven by client.EnterpriseManaged + client.Authorizer under the
// go-sdk streamable transport. Replays, ID-JAGs presented by another client
// and IdP tokens used as bearer tokens are refused.
func TestOPAsEnterpriseIdP(t *testing.T) {
	t.Parallel()
	node := requireInterop(t)
	ctx := testContext(t)

	ln := testkit.Listen(t)
	base := "http://" + ln.Addr().String()
	resource := base + "/mcp"
	asIssuer := base + "/as"
	o := startOP(t, ctx, node, opArgs{Resource: resource, OtherResource: base + "/other/mcp", ASIssuer: asIssuer, ASClientID: asClientID})

	as := newAuthServer(t, asIssuer, resource, o)
	v, err := verifier.New(ctx, verifier.Config{
		Issuers:  []verifier.IssuerConfig{{Issuer: asIssuer, JWKSURL: as.JWKSURI(), RequiredClaims: verifier.RFC9068Claims()}},
		Audience: []string{resource},
	})
	if err != nil {
		t.Fatalf("verifier.New: %v", err)
	}
	m, err := mapper.Standard(mapper.Config{AttributeClaims: map[string]string{"email": "email"}})
	if err != nil {
		t.Fatalf("mapper.Standard: %v", err)
	}
	mux := http.NewServeMux()
	for _, p := range as.Routes() {
		mux.Handle(p, as)
	}
	mountMCP(t, mux, resource, v, m, []string{asIssuer})
	testkit.Serve(t, ln, mux)
	step(t, ctx, "AS  authserver issuer=%s trusts IdP %s (jwks_uri %s); MCP resource %s", asIssuer, o.Issuer, o.Meta.JWKSURI, resource)

	// 1. alice (engineering): whoami and deploy through our client.
	aliceIDT := loginIDToken(t, ctx, o, "alice")
	alice := newEMAAuthorizer(t, o, resource, asIssuer, aliceIDT, asClientID, asClientSecret)
	sess, err := connectMCP(ctx, resource, alice.HTTPClient(nil))
	if err != nil {
		t.Fatalf("MCP connect as alice (EMA): %v", err)
	}
	defer sess.Close()
	out, err := callTool(ctx, sess, "whoami")
	if err != nil {
		t.Fatalf("tools/call whoami as alice: %v", err)
	}
	d := alice.Discovery()
	if d == nil || d.AuthServer.Issuer != asIssuer || d.Resource != resource {
		t.Fatalf("client discovery = %+v, want AS %s and resource %s", d, asIssuer, resource)
	}
	step(t, ctx, "CLI discovery: PRM resource=%s -> AS %s (token_endpoint %s)", d.Resource, d.AuthServer.Issuer, d.AuthServer.TokenEndpoint)
	step(t, ctx, "MCP tools/call whoami as alice -> %q", out)
	want := "user:alice kind=user iss=" + asIssuer + " client_id=" + asClientID +
		" scopes=" + scopeDeploy + "," + scopeTools + " groups=engineering email=alice@example.com"
	if out != want {
		t.Fatalf("whoami = %q, want %q", out, want)
	}
	if out, err := callTool(ctx, sess, "deploy"); err != nil || out != "deployed for user:alice" {
		t.Fatalf("tools/call deploy as alice = %q, %v", out, err)
	}
	step(t, ctx, "MCP tools/call deploy as alice (group engineering from the ID-JAG) -> allowed")

	// 2. bob (marketing): authenticated, but the policy refuses deploy.
	bob := newEMAAuthorizer(t, o, resource, asIssuer, loginIDToken(t, ctx, o, "bob"), asClientID, asClientSecret)
	bsess, err := connectMCP(ctx, resource, bob.HTTPClient(nil))
	if err != nil {
		t.Fatalf("MCP connect as bob (EMA): %v", err)
	}
	defer bsess.Close()
	if out, err := callTool(ctx, bsess, "whoami"); err != nil || !strings.Contains(out, "user:bob ") || !strings.Contains(out, "groups=marketing ") {
		t.Fatalf("tools/call whoami as bob = %q, %v", out, err)
	}
	if _, err := callTool(ctx, bsess, "deploy"); err == nil {
		t.Fatalf("tools/call deploy as bob (marketing) succeeded")
	} else {
		step(t, ctx, "MCP tools/call deploy as bob (group marketing) -> refused: %v", err)
	}

	// 3. An ID-JAG presented by a client other than the one it names.
	other, err := client.NewEnterpriseManaged(emaConfig(o, aliceIDT, asIssuer, otherASClientID, otherASClientSecret))
	if err != nil {
		t.Fatalf("NewEnterpriseManaged: %v", err)
	}
	_, err = other.FetchToken(ctx, &client.TokenRequest{AuthServer: d.AuthServer, Resource: d.Resource, Scopes: []string{scopeTools}})
	var oe *client.OAuthError
	if !errors.As(err, &oe) || oe.Code != "invalid_grant" || oe.Endpoint != "jwt_bearer" {
		t.Fatalf("ID-JAG (client_id %s) presented by %s: err = %v, want invalid_grant from the jwt_bearer leg", asClientID, otherASClientID, err)
	}
	step(t, ctx, "AS  ID-JAG for client_id=%s presented by %s -> %d %s (%s)", asClientID, otherASClientID, oe.Status, oe.Code, oe.Description)

	// 4. One ID-JAG, presented twice: the second is a replay.
	jag := exchangeIDJAG(t, ctx, o, aliceIDT, asIssuer, resource)
	bearer := url.Values{"grant_type": {authserver.GrantJWTBearer}, "assertion": {jag}, "resource": {resource}, "scope": {scopeTools}}
	status, tr := tokenRequest(t, ctx, as.TokenEndpoint(), bearer, asClientID, asClientSecret)
	if status != http.StatusOK || tr.AccessToken == "" || tr.TokenType != "Bearer" || tr.Scope != scopeTools {
		t.Fatalf("jwt-bearer with the OP's ID-JAG: status %d error=%q %q scope=%q", status, tr.Error, tr.ErrorDesc, tr.Scope)
	}
	c, err := v.Verify(ctx, tr.AccessToken)
	if err != nil {
		t.Fatalf("verify the access token our AS issued: %v", err)
	}
	if c.Issuer != asIssuer || c.Subject != "alice" || c.ClientID != asClientID || !slices.Equal(c.Audience, []string{resource}) ||
		c.Raw.Map()["email"] != "alice@example.com" || !slices.Equal(c.Scopes, []string{scopeTools}) {
		t.Fatalf("access token claims: iss=%s sub=%s client_id=%s aud=%v scopes=%v email=%v", c.Issuer, c.Subject, c.ClientID, c.Audience, c.Scopes, c.Raw.Map()["email"])
	}
	step(t, ctx, "AS  jwt-bearer (client_secret_basic) -> access token iss=%s sub=%s client_id=%s aud=%v scopes=%v groups=%v jti=%s",
		c.Issuer, c.Subject, c.ClientID, c.Audience, c.Scopes, c.Raw.Map()["groups"], c.ID)
	status, tr = tokenRequest(t, ctx, as.TokenEndpoint(), bearer, asClientID, asClientSecret)
	if status != http.StatusBadRequest || tr.Error != "invalid_grant" || tr.AccessToken != "" {
		t.Fatalf("replayed ID-JAG: status %d error=%q, want 400 invalid_grant", status, tr.Error)
	}
	step(t, ctx, "AS  same ID-JAG again -> %d %s (%s)", status, tr.Error, tr.ErrorDesc)

	// 5. IdP tokens are not access tokens, even for a verifier that trusts
	// the OP, accepts typ "JWT" or none, and lists every audience involved.
	lax, err := verifier.New(ctx, verifier.Config{
		Issuers:  []verifier.IssuerConfig{{Issuer: o.Issuer, Types: []string{"at+jwt", "JWT", ""}}},
		Audience: []string{resource, asIssuer, idpClientID},
	})
	if err != nil {
		t.Fatalf("verifier.New (OP issuer): %v", err)
	}
	for name, tok := range map[string]string{"OP ID token": aliceIDT, "OP ID-JAG": jag} {
		if _, err := lax.Verify(ctx, tok); !errors.Is(err, core.ErrTokenType) {
			t.Fatalf("verifier trusting the OP accepted the %s as an access token: err = %v, want core.ErrTokenType", name, err)
		} else {
			step(t, ctx, "RS  verifier trusting the OP refused the %s: %v", name, err)
		}
	}
	// Our MCP server trusts only our AS: 401 for both.
	for name, tok := range map[string]string{"OP ID token": aliceIDT, "OP ID-JAG": jag} {
		if st, ch := rawToolsCall(t, ctx, resource, tok); st != http.StatusUnauthorized || !strings.Contains(ch, `error="invalid_token"`) {
			t.Fatalf("tools/call with the %s as bearer: status %d, WWW-Authenticate %q; want 401 invalid_token", name, st, ch)
		} else {
			step(t, ctx, "MCP tools/call with the %s as bearer -> %d %s", name, st, ch)
		}
	}
}

// newAuthServer is our embedded authorization server trusting the OP.
func newAuthServer(t *testing.T, issuer, resource string, o *op) *authserver.Server {
	t.Helper()
	scopes := []string{scopeTools, scopeDeploy}
	var clients []authserver.Client
	for _, c := range [][2]string{{asClientID, asClientSecret}, {otherASClientID, otherASClientSecret}} {
		h, err := authserver.HashSecret(c[1])
		if err != nil {
			t.Fatalf("HashSecret: %v", err)
		}
		clients = append(clients, authserver.Client{ID: c[0], SecretHash: h, GrantTypes: []string{authserver.GrantJWTBearer}, Scopes: scopes})
	}
	as, err := authserver.New(authserver.Config{
		Issuer:         issuer,
		Resources:      []authserver.Resource{{ID: resource, Scopes: scopes}},
		DevGenerateKey: true,
		Clients:        clients,
		TrustedIdPs: []authserver.TrustedIdP{{
			Issuer: o.Issuer, JWKSURL: o.Meta.JWKSURI,
			Claims: map[string]string{"groups": "groups", "email": "email"},
		}},
	})
	if err != nil {
		t.Fatalf("authserver.New: %v", err)
	}
	return as
}

// emaConfig: IdP = the OP (discovered from its issuer; idp-app with
// client_secret_post), credentials at our AS (client_secret_basic).
func emaConfig(o *op, idToken, asIssuer, id, secret string) client.EnterpriseManagedConfig {
	return client.EnterpriseManagedConfig{
		IDTokens: client.StaticIDToken(idToken),
		IdP: client.IdPConfig{Issuer: o.Issuer, Credentials: client.Credentials{
			ClientID: idpClientID, ClientSecret: idpClientSecret, Method: client.AuthClientSecretPost,
		}},
		Credentials: client.Credentials{ClientID: id, ClientSecret: secret, Method: client.AuthClientSecretBasic, Issuer: asIssuer},
	}
}

// newEMAAuthorizer is client.Authorizer with client.EnterpriseManaged for one
// user's ID token.
func newEMAAuthorizer(t *testing.T, o *op, resource, asIssuer, idToken, id, secret string) *client.Authorizer {
	t.Helper()
	g, err := client.NewEnterpriseManaged(emaConfig(o, idToken, asIssuer, id, secret))
	if err != nil {
		t.Fatalf("NewEnterpriseManaged: %v", err)
	}
	a, err := client.New(client.Config{ServerURL: resource, Grant: g, Scopes: []string{scopeTools, scopeDeploy}})
	if err != nil {
		t.Fatalf("client.New: %v", err)
	}
	return a
}

// exchangeIDJAG does the RFC 8693 token exchange at the OP by hand
// (client_secret_post) and returns the ID-JAG.
func exchangeIDJAG(t *testing.T, ctx context.Context, o *op, idToken, asIssuer, resource string) string {
	t.Helper()
	status, tr := tokenRequest(t, ctx, o.Meta.TokenEndpoint, url.Values{
		"grant_type":           {client.GrantTypeTokenExchange},
		"requested_token_type": {client.TokenTypeIDJAG},
		"subject_token_type":   {client.TokenTypeIDToken},
		"subject_token":        {idToken},
		"audience":             {asIssuer},
		"resource":             {resource},
		"scope":                {scopeTools},
		"client_id":            {idpClientID},
		"client_secret":        {idpClientSecret},
	}, "", "")
	if status != http.StatusOK || tr.AccessToken == "" || tr.IssuedTokenType != client.TokenTypeIDJAG || tr.TokenType != "N_A" {
		t.Fatalf("token exchange at the OP: status %d error=%q %q issued_token_type=%q", status, tr.Error, tr.ErrorDesc, tr.IssuedTokenType)
	}
	h, c := jwtParts(t, tr.AccessToken)
	step(t, ctx, "IdP token exchange -> ID-JAG typ=%v alg=%v kid=%v iss=%v sub=%v aud=%v client_id=%v resource=%v scope=%v groups=%v jti=%v",
		h["typ"], h["alg"], h["kid"], c["iss"], c["sub"], c["aud"], c["client_id"], c["resource"], c["scope"], c["groups"], c["jti"])
	return tr.AccessToken
}
