// Command nethttp serves a go-sdk MCP server behind the net/http adapter.
//
//	go run ./nethttp -issuer https://idp.example.com [-addr 127.0.0.1:8080] [-policy policy.csv]
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
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
	g, ln, _, err := demo.Setup(ctx, "nethttp", args, getenv)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	httpmcp.Register(mux, g, demo.MCPHandler(nil)) // /mcp behind the middleware + metadata at the root
	if ready != nil {
		ready(ln.Addr().String())
	}
	return demo.Serve(ctx, ln, mux)
}
