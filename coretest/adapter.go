package coretest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
)

// The helpers of an adapter's own tests, beyond RunAdapterSuite: one Guard
// setup and one MCP client request, so that every adapter module tests its
// specifics the same way.

// NewSuiteGuard returns a Guard for resource over a fresh [IdP] (stopped
// with the test), with the suite's catalog policy ([SuitePolicy]) and the
// IdP as authorization server. tweak, if not nil, changes the Config
// before core.New; the test fails if core.New does.
func NewSuiteGuard(t testing.TB, resource string, tweak func(*core.Config)) (*core.Guard, *IdP) {
	t.Helper()
	idp := NewIdP(t)
	cfg := core.Config{
		Resource:   resource,
		Verifier:   idp.Verifier(t, resource),
		Authorizer: SuitePolicy{},
		Metadata:   core.ProtectedResourceMetadata{AuthorizationServers: []string{idp.Issuer()}},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	g, err := core.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g, idp
}

// RPC returns the JSON-RPC 2.0 request {"jsonrpc":"2.0","id":1,...} of
// method with params (raw JSON).
func RPC(method, params string) string {
	return `{"jsonrpc":"2.0","id":1,"method":"` + method + `","params":` + params + `}`
}

// PostMCP posts body to url as an MCP client does (Content-Type
// application/json, Accept of JSON and SSE), with "Authorization: Bearer
// token" unless token is "". The request is bounded by 10 s; the response
// body is closed when the test ends. A transport error fails the test.
func PostMCP(t testing.TB, url, token, body string) *http.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}
