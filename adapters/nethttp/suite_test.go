package httpmcp_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// harness mounts the handler on a sub-mux under prefix (via StripPrefix)
// and the metadata on the root mux, as an application with a versioned API
// would.
func harness(t testing.TB, g *core.Guard, mcp http.Handler, prefix string) string {
	root := http.NewServeMux()
	if prefix == "" {
		httpmcp.Register(root, g, mcp)
	} else {
		sub := http.NewServeMux()
		sub.Handle(strings.TrimPrefix(g.ResourcePath(), prefix), httpmcp.Middleware(g)(mcp))
		root.Handle(prefix+"/", http.StripPrefix(prefix, sub))
		for _, p := range g.MetadataPaths() {
			root.Handle(p, g.MetadataHandler())
		}
	}
	srv := httptest.NewServer(root)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestAdapterSuite(t *testing.T) {
	coretest.RunAdapterSuite(t, coretest.HarnessFunc(harness))
}

// TestNilGuard: Middleware(nil) and Register(mux, nil, h) answer 500 and
// never panic.
func TestNilGuard(t *testing.T) {
	coretest.RunNilGuard(t, coretest.HarnessFunc(harness))
}
