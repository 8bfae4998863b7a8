package config_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/config"
	"github.com/mcpauthz/mcpauthz/coretest"
)

type bearer struct {
	tok  string
	next http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.tok)
	return b.next.RoundTrip(r)
}

// TestNewGuardServes builds a Guard with the one-call constructor from a
// file (generic issuer on a loopback IdP, the quickstart model, a policy
// file, a namespaced groups claim) and drives a go-sdk MCP server through
// the net/http adapter: the list is filtered and calls are decided by the
// file's policy and mapper.
func TestNewGuardServes(t *testing.T) {
	idp := coretest.NewIdP(t)
	spy := coretest.NewSpy(false, false)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	resource := srv.URL + "/mcp"
	dir := t.TempDir()
	policy := "p, *, server, connect, allow\np, *, *, list, allow\np, group:engineering, tool:" + coretest.SuiteTools()[0] + ", call, allow\n"
	if err := os.WriteFile(filepath.Join(dir, "policy.csv"), []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := `resource: ${RESOURCE}
issuers:
  - issuer: ${ISSUER}
    jwks_uri: ${ISSUER}/jwks.json
mapper:
  groups: ['"https://corp.example/claims".teams']
model: quickstart
policy:
  files: [policy.csv]
`
	if err := os.WriteFile(filepath.Join(dir, "guard.yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"RESOURCE": resource, "ISSUER": idp.Issuer()}
	g, err := config.NewGuard(context.Background(), filepath.Join(dir, "guard.yaml"), config.Options{
		HTTPClient: idp.HTTPClient(),
		LookupEnv:  func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	if err != nil {
		t.Fatal(err)
	}
	httpmcp.Register(mux, g, spy)

	connect := func(teams ...any) *mcp.ClientSession {
		tok := idp.Mint(map[string]any{"sub": "alice", "aud": resource, "client_id": "app", "scope": "mcp:tools",
			"https://corp.example/claims": map[string]any{"teams": teams}})
		c := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
		cs, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: resource,
			HTTPClient: &http.Client{Transport: bearer{tok, http.DefaultTransport}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cs.Close() })
		return cs
	}
	allowed := coretest.SuiteTools()[0]
	eng := connect("engineering")
	list, err := eng.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range list.Tools {
		names = append(names, tl.Name)
	}
	if !slices.Equal(names, []string{allowed}) {
		t.Fatalf("engineering sees %v, want [%s]", names, allowed)
	}
	if res, err := eng.CallTool(context.Background(), &mcp.CallToolParams{Name: allowed}); err != nil || res.IsError {
		t.Fatalf("allowed call: %v %+v", err, res)
	}
	other := connect("marketing")
	_, err = other.CallTool(context.Background(), &mcp.CallToolParams{Name: allowed})
	if err == nil || !strings.Contains(err.Error(), "not allowed") && !strings.Contains(err.Error(), "denied") && !strings.Contains(err.Error(), "forbidden") {
		t.Fatalf("marketing call: %v", err)
	}
	if _, _, _, executed := spy.Snapshot(); !slices.Equal(executed, []string{"tool:" + allowed}) {
		t.Fatalf("executed %v", executed)
	}
}
