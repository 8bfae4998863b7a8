package fibermcp_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/gofiber/fiber/v2"

	fibermcp "github.com/mcpauthz/mcpauthz/adapters/fiber"
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

	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	fibermcp.RegisterMetadata(app, g) // at the origin root, although MCP lives under /api
	app.Group("/api", fibermcp.New(g)).All("/mcp", fibermcp.Handler(mcpHandler))

	resp, err := app.Test(httptest.NewRequest(http.MethodPost, "/api/mcp", nil))
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	resp, err = app.Test(httptest.NewRequest(http.MethodGet, g.MetadataPath(), nil))
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.StatusCode, g.MetadataPath())
	// Output:
	// 401 Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/api/mcp"
	// 200 /.well-known/oauth-protected-resource/api/mcp
}

func ExamplePrincipalFrom() {
	_ = func(c *fiber.Ctx) error {
		if p, ok := fibermcp.PrincipalFrom(c); ok {
			return c.SendString("hello " + p.Subject)
		}
		return c.Next()
	}
}

func ExampleHandlerWith() {
	mcpHandler := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("bug") })
	h := fibermcp.HandlerWith(mcpHandler, fibermcp.HandlerConfig{
		Logger:    slog.New(slog.DiscardHandler), // e.g. the server's logger: gets the panic and its stack
		KeepAlive: 30 * time.Second,              // SSE comment on idle event streams; finds clients that left
	})
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/mcp", func(c *fiber.Ctx) error { // stands in for fibermcp.New(g)
		c.SetUserContext(core.WithPrincipal(c.UserContext(), &core.Principal{Subject: "alice"}))
		return c.Next()
	}, h)
	req := httptest.NewRequest(http.MethodGet, "/mcp", nil)
	req.Header.Set("Authorization", "Bearer t")
	resp, err := app.Test(req)
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.StatusCode) // the panic was recovered; the server keeps serving
	// Output:
	// 500
}
