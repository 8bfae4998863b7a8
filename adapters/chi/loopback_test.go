package chimcp_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"

	chimcp "github.com/mcpauthz/mcpauthz/adapters/chi"
)

// BenchmarkLoopback is P7's shape: sequential keep-alive tools/call POSTs
// over loopback to a chi router without and with the middleware,
// interleaved, reporting the throughput ratio.
func BenchmarkLoopback(b *testing.B) {
	interleave(b, func(b *testing.B) (bare, guarded, check func()) {
		g, tok := benchGuard(b)
		bareRouter := chi.NewRouter()
		bareRouter.Post("/mcp", terminal)
		guardedRouter := chi.NewRouter()
		guardedRouter.With(chimcp.Middleware(g)).Post("/mcp", terminal)
		return loopbackClient(b, bareRouter, tok), loopbackClient(b, guardedRouter, tok), nil
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
