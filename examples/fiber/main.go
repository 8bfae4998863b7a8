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
	// fiber's adaptor buffers whole responses; fibermcp.Handler streams a
	// flushed one (SSE POST responses, subscriptions/listen), so the
	// go-sdk handler keeps its defaults. HandlerConfig.Buffered would save
	// a goroutine handoff per request, but only for a handler that never
	// streams a POST response: the go-sdk's subscriptions/listen still
	// does with JSONResponse, and Buffered refuses it (500).
	mcpHandler := demo.MCPHandler(&mcp.StreamableHTTPOptions{Stateless: true})
	app.All(g.ResourcePath(), fibermcp.New(g), fibermcp.Handler(mcpHandler))
	return demo.Server{Serve: app.Listener, Shutdown: func() error { return app.ShutdownWithTimeout(5 * time.Second) }}
}
