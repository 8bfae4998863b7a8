package chimcp_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	chimcp "github.com/mcpauthz/mcpauthz/adapters/chi"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// newRouter mounts mcp the way chi users do: metadata on the root router,
// the handler with r.With at the root or inside r.Route(prefix) with r.Use.
func newRouter(g *core.Guard, mcp http.Handler, prefix string) chi.Router {
	r := chi.NewRouter()
	chimcp.RegisterMetadata(r, g)
	if prefix == "" {
		r.With(chimcp.Middleware(g)).Handle(g.ResourcePath(), mcp)
		return r
	}
	r.Route(prefix, func(sr chi.Router) {
		sr.Use(chimcp.Middleware(g))
		sr.Handle(strings.TrimPrefix(g.ResourcePath(), prefix), mcp)
	})
	return r
}

func harness(t testing.TB, g *core.Guard, mcp http.Handler, prefix string) string {
	srv := httptest.NewServer(newRouter(g, mcp, prefix))
	t.Cleanup(srv.Close)
	return srv.URL
}

// mountHarness uses r.Mount with a sub-router instead of r.Route.
func mountHarness(t testing.TB, g *core.Guard, mcp http.Handler, prefix string) string {
	r := chi.NewRouter()
	chimcp.RegisterMetadata(r, g)
	sub := chi.NewRouter()
	sub.Use(chimcp.Middleware(g))
	sub.Handle(strings.TrimPrefix(g.ResourcePath(), prefix), mcp)
	if prefix == "" {
		prefix = "/"
	}
	r.Mount(prefix, sub)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestAdapterSuite(t *testing.T) {
	coretest.RunAdapterSuite(t, coretest.HarnessFunc(harness))
}

func TestAdapterSuiteMount(t *testing.T) {
	coretest.RunAdapterSuite(t, coretest.HarnessFunc(mountHarness))
}

// TestNilGuard: Middleware(nil) and RegisterMetadata(r, nil) answer 500
// and never panic.
func TestNilGuard(t *testing.T) {
	coretest.RunNilGuard(t, coretest.HarnessFunc(harness))
}
