package httpmcp_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/core"
)

func Example() {
	// In a real server the verifier is core/verifier (JWKS) or
	// core/introspect, and the authorizer core/casbinauthz.
	g, err := core.New(core.Config{
		Resource:   "https://mcp.example.com/mcp",
		Verifier:   staticVerifier{},
		Authorizer: allowAll{},
		Metadata:   core.ProtectedResourceMetadata{AuthorizationServers: []string{"https://idp.example.com"}},
	})
	if err != nil {
		panic(err)
	}
	server := mcp.NewServer(&mcp.Implementation{Name: "example", Version: "1.0.0"}, nil)
	mcpHandler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)

	mux := http.NewServeMux()
	httpmcp.Register(mux, g, mcpHandler) // /mcp behind the Guard + the RFC 9728 document

	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/mcp", "application/json", nil)
	if err != nil {
		panic(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	// Output:
	// 401 Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
}
