// Command fiber serves a go-sdk MCP server behind the fiber (v2) adapter.
//
//	go run ./fiber -issuer https://idp.example.com [-addr 127.0.0.1:8080] [-policy policy.csv]
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	fibermcp "github.com/mcpauthz/mcpauthz/adapters/fiber"
	"github.com/mcpauthz/mcpauthz/examples/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run serves until ctx is done; ready, if not nil, gets the bound address.
func run(ctx context.Context, args []string, getenv func(string) string, ready func(addr string)) error {
	g, ln, _, err := demo.Setup(ctx, "fiber", args, getenv)
	if err != nil {
		return err
	}
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
	// fiber's adaptor buffers whole responses, so the go-sdk handler runs
	// stateless: no long-lived server-to-client GET streams.
	mcpHandler := demo.MCPHandler(&mcp.StreamableHTTPOptions{Stateless: true})
	app.All(g.ResourcePath(), fibermcp.New(g), fibermcp.Handler(mcpHandler))
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- app.Listener(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		if err := app.ShutdownWithTimeout(5 * time.Second); err != nil {
			return err
		}
		return <-errc
	}
}
