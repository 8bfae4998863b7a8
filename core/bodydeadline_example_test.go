package core_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
)

// A server that carries MCP GET event streams cannot set ReadTimeout;
// BoundBodyReads bounds every request body on it instead, including bodies
// that no handler reads (refusals, health checks, 404s).
func ExampleBoundBodyReads() {
	mux := http.NewServeMux()
	mux.HandleFunc("/livez", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	srv := &http.Server{
		Handler:           core.BoundBodyReads(mux),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	fmt.Println(srv.ReadTimeout == 0)
	// Output: true
}
