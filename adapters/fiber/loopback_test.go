package fibermcp_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/gofiber/fiber/v2"

	fibermcp "github.com/mcpauthz/mcpauthz/adapters/fiber"
)

// BenchmarkLoopback is P7's shape: sequential keep-alive tools/call POSTs
// over loopback to a fiber app without and with the middleware,
// interleaved, reporting the throughput ratio.
func BenchmarkLoopback(b *testing.B) {
	interleave(b, func(b *testing.B) (bare, guarded, check func()) {
		g, tok := benchGuard(b)
		cfg := fiber.Config{DisableStartupMessage: true}
		bareApp := fiber.New(cfg)
		bareApp.Post("/mcp", terminal)
		guardedApp := fiber.New(cfg)
		guardedApp.Post("/mcp", fibermcp.New(g), terminal)
		return loopbackClient(b, bareApp, tok), loopbackClient(b, guardedApp, tok), nil
	})
}

// loopbackClient serves app on a loopback listener and returns a function
// sending one tools/call POST over a kept-alive connection.
func loopbackClient(b *testing.B, app *fiber.App, tok string) func() {
	base := serve(b, app)
	client := &http.Client{}
	b.Cleanup(client.CloseIdleConnections)
	return func() {
		req, _ := http.NewRequest(http.MethodPost, base+"/mcp", bytes.NewReader(benchBody))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
