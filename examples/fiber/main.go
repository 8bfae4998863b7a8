// Command fiber serves a go-sdk MCP server behind the fiber (v2) adapter.
//
//	go run ./fiber -issuer https://idp.example.com [-addr 127.0.0.1:8080] [-policy policy.csv]
package main

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	fibermcp "github.com/mcpauthz/mcpauthz/adapters/fiber"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/examples/internal/demo"
)

func main() { demo.Main("fiber", server) }

// server is the whole framework wiring; demo builds the Guard g from the
// flags, listens and serves.
func server(g *core.Guard) demo.Server {
	app := fiber.New(fiber.Config{
		DisableStartupMessage: true,
		ReadTimeout:           30 * time.Second, // header and body; fasthttp does not apply it to responses
		IdleTimeout:           2 * time.Minute,
		// The Guard verifies the token before the body is read only when
		// fasthttp streams it (it pre-reads at most 8 KiB).
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
	})
	fibermcp.RegisterMetadata(app, g) // unauthenticated, at the origin root
	// A stateless go-sdk handler with JSON responses never streams a POST
	// response, so Buffered runs it on fasthttp's goroutine and sends each
	// response whole, saving a goroutine handoff per request (a stateful
	// one with SSE responses takes fibermcp.Handler(mcpHandler) instead).
	mcpHandler := demo.MCPHandler(&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	app.All(g.ResourcePath(), fibermcp.New(g), fibermcp.HandlerWith(mcpHandler, fibermcp.HandlerConfig{Buffered: true}))
	return demo.Server{Serve: app.Listener, Shutdown: func() error { return app.ShutdownWithTimeout(5 * time.Second) }}
}
