package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/auth/extauth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"

	"github.com/mcpauthz/mcpauthz/client"
)

// sdkSession connects the go-sdk MCP client with handler h to the
// quickstart's MCP server and returns the tools it lists and a caller.
func sdkSession(ctx context.Context, t *testing.T, st *stack, h auth.OAuthHandler) (*mcp.ClientSession, []string) {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "sdk-handler-test", Version: "1"}, nil)
	s, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: st.MCP, OAuthHandler: h}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	res, err := s.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	return s, names
}

// callOK reports whether calling tool succeeded; a denied call is an error
// (403 from the Guard) or an error result.
func callOK(ctx context.Context, s *mcp.ClientSession, tool string, args map[string]any) (bool, string) {
	res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		return false, err.Error()
	}
	var out string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			out += tc.Text
		}
	}
	return !res.IsError, out
}

func quietStack(ctx context.Context, t *testing.T) *stack {
	t.Helper()
	st, err := startStack(ctx, "127.0.0.1:0", t.TempDir(), 0, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// TestGoSDKClientCredentialsHandler: the go-sdk's ClientCredentialsHandler
// (which authenticates with client_secret_post when the metadata allows it)
// gets a token for ci-bot and calls the quickstart's MCP server: the
// filtered list, an allowed deploy, a denied list_tickets.
func TestGoSDKClientCredentialsHandler(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st := quietStack(ctx, t)
	h, err := extauth.NewClientCredentialsHandler(&extauth.ClientCredentialsHandlerConfig{
		Credentials: &oauthex.ClientCredentials{ClientID: ciBotID, ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: ciBotSecret}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s, names := sdkSession(ctx, t, st, h)
	if !slices.Equal(names, []string{"deploy", "echo"}) {
		t.Fatalf("ci-bot sees %v", names)
	}
	// The policy lets ci-bot deploy only services named web-* (r.args).
	if ok, out := callOK(ctx, s, "deploy", map[string]any{"service": "web-api"}); !ok || !strings.Contains(out, "deployed web-api to staging for client ci-bot") {
		t.Fatalf("deploy: %v %s", ok, out)
	}
	if ok, out := callOK(ctx, s, "deploy", map[string]any{"service": "api"}); ok {
		t.Fatalf("deploy of service api allowed for ci-bot: %s", out)
	}
	if ok, out := callOK(ctx, s, "list_tickets", nil); ok {
		t.Fatalf("list_tickets allowed for ci-bot: %s", out)
	}
}

// TestGoSDKEnterpriseHandler: the go-sdk's EnterpriseHandler exchanges
// alice's ID token for an ID-JAG at the development IdP and redeems it at
// the quickstart's authorization server (jwt-bearer), then calls the MCP
// server. The ID token comes from this repository's OIDC login (the go-sdk
// leaves the login to the application).
func TestGoSDKEnterpriseHandler(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st := quietStack(ctx, t)
	login, err := client.NewOIDCLogin(client.OIDCLoginConfig{
		Issuer: st.IdPIssuer, ClientID: agentID, ClientSecret: agentSecret,
		Scopes: []string{"email"}, OpenBrowser: scriptedBrowser(st, "alice"),
	})
	if err != nil {
		t.Fatal(err)
	}
	creds := &oauthex.ClientCredentials{ClientID: agentID, ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: agentSecret}}
	h, err := extauth.NewEnterpriseHandler(&extauth.EnterpriseHandlerConfig{
		IdPIssuerURL: st.IdPIssuer, IdPCredentials: creds,
		MCPAuthServerURL: st.ASIssuer, MCPResourceURI: st.MCP, MCPCredentials: creds,
		IDTokenFetcher: func(ctx context.Context) (*oauth2.Token, error) {
			idt, err := login.IDToken(ctx)
			if err != nil {
				return nil, err
			}
			return (&oauth2.Token{}).WithExtra(map[string]any{"id_token": idt}), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	s, names := sdkSession(ctx, t, st, h)
	if !slices.Contains(names, "echo") || !slices.Contains(names, "list_tickets") || slices.Contains(names, "delete_repo") {
		t.Fatalf("alice (engineering) sees %v", names)
	}
	if ok, out := callOK(ctx, s, "echo", map[string]any{"message": "hi"}); !ok {
		t.Fatalf("echo: %s", out)
	}
	if ok, out := callOK(ctx, s, "delete_repo", nil); ok {
		t.Fatalf("delete_repo allowed for alice: %s", out)
	}
}

// TestCIBotClientSecretPost: ci-bot authenticates with client_secret_post
// as well as Basic, and the metadata lists both.
func TestCIBotClientSecretPost(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st := quietStack(ctx, t)
	resp, err := http.Get(strings.Replace(st.ASIssuer, "/as", "/.well-known/oauth-authorization-server/as", 1))
	if err != nil {
		t.Fatal(err)
	}
	var md struct {
		Methods []string `json:"token_endpoint_auth_methods_supported"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&md)
	resp.Body.Close()
	if !slices.Contains(md.Methods, "client_secret_post") || !slices.Contains(md.Methods, "client_secret_basic") {
		t.Fatalf("metadata methods %v", md.Methods)
	}
	for _, tc := range []struct {
		name   string
		form   url.Values
		basic  bool
		status int
	}{
		{"post", url.Values{"grant_type": {"client_credentials"}, "client_id": {ciBotID}, "client_secret": {ciBotSecret}}, false, 200},
		{"basic", url.Values{"grant_type": {"client_credentials"}}, true, 200},
		{"post, wrong secret", url.Values{"grant_type": {"client_credentials"}, "client_id": {ciBotID}, "client_secret": {"nope"}}, false, 401},
	} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, st.ASIssuer+"/token", strings.NewReader(tc.form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if tc.basic {
			req.SetBasicAuth(ciBotID, ciBotSecret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.status)
		}
	}
}
