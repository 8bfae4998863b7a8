package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// TestResourceDenyRuleSpelling: a deny rule on a resource URI glob must
// not be evaded by another spelling of the same URI. The policy object is
// the URI as sent; a go-sdk resource template handler that reads
// url.Parse(uri).Path (percent-decoded) and cleans it executes the
// decoded, clean path. A percent-escaped unreserved character ("%68r"), an
// encoded slash ("hr%2Fsalaries") or a dot or empty segment reached the
// denied file through the broader allow rule before the fix.
func TestResourceDenyRuleSpelling(t *testing.T) {
	idp := coretest.NewIdP(t)
	model, err := casbinmodels.Model("rbac")
	if err != nil {
		t.Fatal(err)
	}
	const pol = `p, *, server, connect, allow
p, *, resource:file:///docs/**, read, allow
p, group:contractors, resource:file:///docs/hr/**, read, deny
`
	ca, err := casbinauthz.New(casbinauthz.Config{Model: model, Source: casbinauthz.StringSource(pol)})
	if err != nil {
		t.Fatal(err)
	}
	g, err := core.New(core.Config{
		Resource: resource, Verifier: idp.Verifier(t, resource), Authorizer: ca,
		Metadata: core.ProtectedResourceMetadata{AuthorizationServers: []string{idp.Issuer()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var ran []string
	srv := mcp.NewServer(&mcp.Implementation{Name: "e2e-files", Version: "1.0.0"}, nil)
	srv.AddResourceTemplate(&mcp.ResourceTemplate{URITemplate: "file:///docs/{+path}", Name: "docs"},
		func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			u, err := url.Parse(req.Params.URI)
			if err != nil {
				return nil, err
			}
			p := path.Clean(u.Path) // what a file-serving handler opens
			mu.Lock()
			ran = append(ran, p)
			mu.Unlock()
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, Text: "contents of " + p}}}, nil
		})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	mux := http.NewServeMux()
	httpmcp.Register(mux, g, h)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	e := &env{url: ts.URL + g.ResourcePath()}
	contractor := idp.Mint(map[string]any{"aud": resource, "sub": "mallory", "client_id": "test-client", "groups": []string{"contractors"}})

	for _, c := range []struct {
		name, uri string
		ok        bool
	}{
		{"allowed file", "file:///docs/handbook.txt", true},
		{"allowed file with an escaped space", "file:///docs/team%20notes.txt", true},
		{"denied file", "file:///docs/hr/salaries.txt", false},
		{"escaped unreserved letter", "file:///docs/%68r/salaries.txt", false},
		{"escaped unreserved, lower-case hex", "file:///docs/h%72/salaries.txt", false},
		{"encoded slash", "file:///docs/hr%2Fsalaries.txt", false},
		{"encoded slash, lower-case hex", "file:///docs/hr%2fsalaries.txt", false},
		{"encoded backslash", "file:///docs/hr%5Csalaries.txt", false},
		{"dot segment", "file:///docs/./hr/salaries.txt", false},
		{"dot-dot segment", "file:///docs/x/../hr/salaries.txt", false},
		{"empty segment", "file:///docs//hr/salaries.txt", false},
		{"malformed escape", "file:///docs/%zzhr/salaries.txt", false},
	} {
		body := `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"` + c.uri + `"}}`
		r := e.send(t, http.MethodPost, contractor, []byte(body))
		mu.Lock()
		got := ran
		ran = nil
		mu.Unlock()
		if c.ok {
			if r.status != http.StatusOK || len(got) != 1 {
				t.Errorf("%s: status %d, handler ran %v, want 200 once (%s)", c.name, r.status, got, r.body)
			}
			continue
		}
		if r.status == http.StatusOK || len(got) != 0 {
			t.Errorf("%s: status %d, handler read %v: the deny rule on file:///docs/hr/** was evaded", c.name, r.status, got)
		}
	}
}
