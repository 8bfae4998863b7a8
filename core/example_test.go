package core_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
)

// exampleVerifier stands in for core/verifier or core/introspect.
type exampleVerifier struct{}

func (exampleVerifier) Verify(_ context.Context, tok string) (*core.Claims, error) {
	if tok == "valid" {
		return &core.Claims{Issuer: "https://idp.example.com", Subject: "alice", Scopes: []string{"mcp:tools"}}, nil
	}
	return nil, fmt.Errorf("example: %w", core.ErrExpired)
}

// examplePolicy allows every tool but "deploy", which needs mcp:deploy.
type examplePolicy struct{}

func (examplePolicy) Authorize(_ context.Context, p *core.Principal, perm core.Permission) (core.Decision, error) {
	if perm.Kind == core.ObjectTool && perm.Name == "deploy" && !p.HasScope("mcp:deploy") {
		return core.Decision{RequiredScopes: []string{"mcp:tools", "mcp:deploy"}}, nil
	}
	return core.Decision{Allow: true}, nil
}

func ExampleNew() {
	g, err := core.New(core.Config{
		Resource:   "https://mcp.example.com/mcp",
		Verifier:   exampleVerifier{},
		Authorizer: examplePolicy{},
		Metadata: core.ProtectedResourceMetadata{
			AuthorizationServers: []string{"https://idp.example.com"},
			ScopesSupported:      []string{"mcp:tools"},
		},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(g.MetadataPath())
	fmt.Println(g.MetadataURL())
	fmt.Println(string(g.MetadataJSON()))
	// Output:
	// /.well-known/oauth-protected-resource/mcp
	// https://mcp.example.com/.well-known/oauth-protected-resource/mcp
	// {"resource":"https://mcp.example.com/mcp","authorization_servers":["https://idp.example.com"],"scopes_supported":["mcp:tools"],"bearer_methods_supported":["header"]}
}

func ExampleGuard_Render() {
	g, _ := core.New(core.Config{
		Resource:   "https://mcp.example.com/mcp",
		Verifier:   exampleVerifier{},
		Authorizer: examplePolicy{},
		Metadata:   core.ProtectedResourceMetadata{AuthorizationServers: []string{"https://idp.example.com"}},
	})
	header := http.Header{}
	header.Set("Authorization", "Bearer valid")
	header.Set("Content-Type", "application/json")
	_, err := g.Check(context.Background(), &core.Request{
		Method: http.MethodPost,
		Header: header,
		Body:   []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"deploy"}}`),
	})
	resp := g.Render(err)
	fmt.Println(resp.Status)
	fmt.Println(resp.Header.Get("WWW-Authenticate"))
	fmt.Println(string(resp.Body))
	// Output:
	// 403
	// Bearer error="insufficient_scope", scope="mcp:tools mcp:deploy", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", error_description="insufficient scope for tools/call deploy"
	// {"jsonrpc":"2.0","id":1,"error":{"code":-31403,"message":"insufficient scope for tools/call deploy"}}
}

func ExampleResult_FilterBody() {
	g, _ := core.New(core.Config{
		Resource:   "https://mcp.example.com/mcp",
		Verifier:   exampleVerifier{},
		Authorizer: listPolicy{},
		Metadata:   core.ProtectedResourceMetadata{AuthorizationServers: []string{"https://idp.example.com"}},
	})
	header := http.Header{}
	header.Set("Authorization", "Bearer valid")
	header.Set("Content-Type", "application/json")
	res, err := g.Check(context.Background(), &core.Request{
		Method: http.MethodPost,
		Header: header,
		Body:   []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`),
	})
	if err != nil {
		panic(err)
	}
	// The MCP server's answer, as a buffering adapter (fiber) sees it.
	upstream := []byte(`{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"ls"},{"name":"rm"}]}}`)
	out, err := res.FilterBody("application/json", upstream)
	fmt.Println(res.NeedsFilter(), string(out), err)
	// Output:
	// true {"jsonrpc":"2.0","id":1,"result":{"cacheScope":"private","tools":[{"name":"ls"}]}} <nil>
}

// listPolicy hides the tool "rm".
type listPolicy struct{}

func (listPolicy) Authorize(_ context.Context, _ *core.Principal, perm core.Permission) (core.Decision, error) {
	return core.Decision{Allow: perm.Name != "rm"}, nil
}

func ExampleParseChallenge() {
	p, err := core.ParseChallenge(`Bearer error="insufficient_scope", scope="mcp:tools mcp:deploy", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"`)
	fmt.Println(p["error"], "|", p["scope"], "|", p["resource_metadata"], err)
	// Output:
	// insufficient_scope | mcp:tools mcp:deploy | https://mcp.example.com/.well-known/oauth-protected-resource/mcp <nil>
}

// The in-memory session binding store: bounded, and a principal's cap is
// an error, never an eviction of someone else's binding.
func ExampleNewMemorySessions() {
	ctx := context.Background()
	store, err := core.NewMemorySessions(core.MemorySessionsConfig{MaxEntries: 10_000, MaxBytes: 4 << 20})
	if err != nil {
		panic(err)
	}
	fmt.Println(store.Bind(ctx, "s1", "user:alice", time.Hour, 1))
	fmt.Println(store.Bind(ctx, "s2", "user:alice", time.Hour, 1))
	fmt.Println(store.Bind(ctx, "s1", "user:bob", time.Hour, 1))
	owner, _ := store.Lookup(ctx, "s1")
	fmt.Println(owner)
	// Output:
	// <nil>
	// mcpauthz: too many live sessions for this principal
	// mcpauthz: session bound to another principal
	// user:alice
}
