package ginmcp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gin-gonic/gin"

	ginmcp "github.com/mcpauthz/mcpauthz/adapters/gin"
	"github.com/mcpauthz/mcpauthz/core"
)

// exampleVerifier stands in for core/verifier in the example.
type exampleVerifier struct{}

func (exampleVerifier) Verify(context.Context, string) (*core.Claims, error) {
	return nil, core.ErrSignature
}

func Example() {
	g, err := core.New(core.Config{
		Resource:         "https://mcp.example.com/api/mcp",
		Verifier:         exampleVerifier{}, // e.g. verifier.NewFromIssuerURL(ctx, issuer, resource)
		AuthenticateOnly: true,              // or Authorizer: a casbinauthz.Authorizer
		Metadata:         core.ProtectedResourceMetadata{AuthorizationServers: []string{"https://auth.example.com"}},
	})
	if err != nil {
		panic(err)
	}
	var mcpHandler http.Handler = http.NotFoundHandler() // e.g. mcp.NewStreamableHTTPHandler(...)

	r := gin.New()
	ginmcp.RegisterMetadata(r, g) // at the origin root, although MCP lives under /api
	r.Group("/api", ginmcp.Middleware(g)).Any("/mcp", gin.WrapH(mcpHandler))

	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/api/mcp", nil))
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	w = httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, g.MetadataPath(), nil))
	fmt.Println(w.Code, g.MetadataPath())
	// Output:
	// 401 Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/api/mcp"
	// 200 /.well-known/oauth-protected-resource/api/mcp
}

func ExamplePrincipalFrom() {
	_ = func(c *gin.Context) {
		if p, ok := ginmcp.PrincipalFrom(c); ok {
			c.String(http.StatusOK, "hello %s", p.Subject)
		}
	}
}
