package ginmcp_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	ginmcp "github.com/mcpauthz/mcpauthz/adapters/gin"
)

// BenchmarkLoopback is P7's shape: sequential keep-alive tools/call POSTs
// over loopback to a gin server without and with the middleware,
// interleaved, reporting the throughput ratio.
func BenchmarkLoopback(b *testing.B) {
	interleave(b, func(b *testing.B) (bare, guarded, check func()) {
		g, tok := benchGuard(b)
		bareEngine := gin.New()
		bareEngine.POST("/mcp", gin.WrapF(terminal))
		guardedEngine := gin.New()
		guardedEngine.POST("/mcp", ginmcp.Middleware(g), gin.WrapF(terminal))
		return loopbackClient(b, bareEngine, tok), loopbackClient(b, guardedEngine, tok), nil
	})
}

// loopbackClient serves h on a loopback server and returns a function
// sending one tools/call POST over a kept-alive connection.
func loopbackClient(b *testing.B, h http.Handler, tok string) func() {
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	client := srv.Client()
	return func() {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/mcp", bytes.NewReader(benchBody))
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
