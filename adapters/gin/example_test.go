package ginmcp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

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

// aliceVerifier accepts any token as alice's, for the example only.
type aliceVerifier struct{}

func (aliceVerifier) Verify(context.Context, string) (*core.Claims, error) {
	return &core.Claims{Issuer: "https://auth.example.com", Subject: "alice", Expiry: time.Now().Add(time.Hour)}, nil
}

func ExamplePrincipalFrom() {
	g, err := core.New(core.Config{
		Resource:         "https://mcp.example.com/mcp",
		Verifier:         aliceVerifier{},
		AuthenticateOnly: true,
		Metadata:         core.ProtectedResourceMetadata{AuthorizationServers: []string{"https://auth.example.com"}},
	})
	if err != nil {
		panic(err)
	}
	r := gin.New()
	r.POST("/mcp", ginmcp.Middleware(g), func(c *gin.Context) {
		if p, ok := ginmcp.PrincipalFrom(c); ok { // from c.Request.Context(); c.Keys stays empty
			c.String(http.StatusOK, "hello %s (keys: %d)", p.Subject, len(c.Keys))
		}
	})
	req := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls"}}`))
	req.Header.Set("Authorization", "Bearer any")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	fmt.Println(w.Code, w.Body.String())
	// Output:
	// 200 hello alice (keys: 0)
}
