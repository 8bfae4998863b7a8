package ginmcp_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	ginmcp "github.com/mcpauthz/mcpauthz/adapters/gin"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	os.Exit(m.Run())
}

// newEngine mounts mcp the way gin users do: metadata on the engine, the
// handler in a group (at prefix) that carries the middleware.
func newEngine(g *core.Guard, mcp http.Handler, prefix string) *gin.Engine {
	r := gin.New()
	ginmcp.RegisterMetadata(r, g)
	grp := r.Group(prefix, ginmcp.Middleware(g))
	grp.Any(strings.TrimPrefix(g.ResourcePath(), prefix), gin.WrapH(mcp))
	return r
}

func harness(t testing.TB, g *core.Guard, mcp http.Handler, prefix string) string {
	srv := httptest.NewServer(newEngine(g, mcp, prefix))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestAdapterSuite(t *testing.T) {
	coretest.RunAdapterSuite(t, coretest.HarnessFunc(harness))
}

// TestNilGuard: Middleware(nil) and RegisterMetadata(r, nil) answer 500
// and never panic.
func TestNilGuard(t *testing.T) {
	coretest.RunNilGuard(t, coretest.HarnessFunc(harness))
}
