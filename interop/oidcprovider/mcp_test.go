package oidcprovider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
)

// rbacPolicy is the MCP server's Casbin policy (model casbinmodels "rbac"):
// every authenticated caller may connect, list and call whoami; only the
// IdP group "engineering" may call deploy.
const rbacPolicy = `p, *, server, connect, allow
p, *, *, list, allow
p, *, tool:whoami, call, allow
p, group:engineering, tool:deploy, call, allow
`

// newToolServer is a real go-sdk MCP server whose tools report the caller
// the net/http adapter put in the context (they never see the token).
func newToolServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "oidcprovider-interop", Version: "1.0.0"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "whoami", Description: "Describe the caller (everyone)."},
		func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			p, ok := core.PrincipalFromContext(ctx)
			if !ok {
				return nil, nil, errors.New("no principal in context")
			}
			return textResult(describe(p)), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "deploy", Description: "Deploy (engineering only)."},
		func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			p, ok := core.PrincipalFromContext(ctx)
			if !ok {
				return nil, nil, errors.New("no principal in context")
			}
			return textResult("deployed for " + p.SubjectName()), nil, nil
		})
	return s
}

func textResult(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}

// describe renders a principal deterministically (sorted lists).
func describe(p *core.Principal) string {
	sorted := func(in []string) string {
		out := slices.Clone(in)
		slices.Sort(out)
		return strings.Join(out, ",")
	}
	return fmt.Sprintf("%s kind=%s iss=%s client_id=%s scopes=%s groups=%s email=%v",
		p.SubjectName(), p.Kind, p.Issuer, p.ClientID, sorted(p.Scopes), sorted(p.Groups), p.Attributes["email"])
}

// mountMCP registers the MCP server, guarded by v (tokens for resource),
// mapper m and the Casbin rbacPolicy, plus its RFC 9728 metadata, on mux.
func mountMCP(t *testing.T, mux *http.ServeMux, resource string, v core.TokenVerifier, m core.ClaimMapper, authServers []string) {
	t.Helper()
	model, err := casbinmodels.Model("rbac")
	if err != nil {
		t.Fatalf("casbin model: %v", err)
	}
	authz, err := casbinauthz.New(casbinauthz.Config{Model: model, Source: casbinauthz.StringSource(rbacPolicy)})
	if err != nil {
		t.Fatalf("casbinauthz.New: %v", err)
	}
	g, err := core.New(core.Config{
		Resource: resource, Verifier: v, Mapper: m, Authorizer: authz,
		Metadata: core.ProtectedResourceMetadata{
			AuthorizationServers: authServers,
			ScopesSupported:      []string{scopeTools, scopeDeploy},
			ResourceName:         "oidc-provider interop MCP server",
		},
	})
	if err != nil {
		t.Fatalf("core.New: %v", err)
	}
	server := newToolServer()
	handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
	httpmcp.Register(mux, g, handler)
}

// connectMCP opens a go-sdk client session to endpoint over hc.
func connectMCP(ctx context.Context, endpoint string, hc *http.Client) (*mcp.ClientSession, error) {
	c := mcp.NewClient(&mcp.Implementation{Name: "oidcprovider-interop-client", Version: "1.0.0"}, nil)
	return c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: hc}, nil)
}

// callTool calls a tool without arguments and returns its text; a tool
// error result is an error.
func callTool(ctx context.Context, s *mcp.ClientSession, name string) (string, error) {
	res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: map[string]any{}})
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	if res.IsError {
		return "", fmt.Errorf("tool %s returned an error result: %s", name, b.String())
	}
	return b.String(), nil
}

// bearerTransport adds a fixed bearer token to every request.
type bearerTransport struct {
	token string
	base  http.RoundTripper
}

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r2)
}

func bearerClient(token string) *http.Client {
	return &http.Client{Timeout: httpTimeout, Transport: bearerTransport{token: token, base: http.DefaultTransport}}
}

// rawToolsCall POSTs a bare tools/call with token and returns the status and
// the WWW-Authenticate header (the guard answers before the MCP server).
func rawToolsCall(t *testing.T, ctx context.Context, endpoint, token string) (int, string) {
	t.Helper()
	hdr := http.Header{}
	hdr.Set("Authorization", "Bearer "+token)
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Accept", "application/json, text/event-stream")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint,
		strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}`))
	if err != nil {
		t.Fatalf("raw tools/call: %v", err)
	}
	req.Header = hdr
	resp, err := (&http.Client{Timeout: httpTimeout}).Do(req)
	if err != nil {
		t.Fatalf("raw tools/call: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
}
