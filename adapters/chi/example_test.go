package chimcp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/go-chi/chi/v5"

	chimcp "github.com/mcpauthz/mcpauthz/adapters/chi"
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

	r := chi.NewRouter()
	chimcp.RegisterMetadata(r, g) // on the root router
	r.Route("/api", func(r chi.Router) {
		r.Use(chimcp.Middleware(g))
		r.Handle("/mcp", mcpHandler)
	})

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
