package core_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
)

// A server that carries MCP GET event streams cannot set ReadTimeout;
// BoundBodyReads bounds every request body on it instead, including bodies
// that no handler reads (refusals, health checks, 404s). Its logger hears
// once if a middleware outside it hides the connection's read deadline.
func ExampleBoundBodyReads() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	mux := http.NewServeMux()
	mux.HandleFunc("/livez", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	srv := &http.Server{
		Handler:           core.BoundBodyReads(mux, core.BodyReadConfig{Logger: logger}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	fmt.Println(srv.ReadTimeout == 0)
	// Output: true
}
