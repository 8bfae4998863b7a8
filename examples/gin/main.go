// Command gin serves a go-sdk MCP server behind the gin adapter.
//
//	go run ./gin -issuer https://idp.example.com [-addr 127.0.0.1:8080] [-policy policy.csv]
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/gin-gonic/gin"

	ginmcp "github.com/mcpauthz/mcpauthz/adapters/gin"
	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/examples/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	gin.SetMode(gin.ReleaseMode)
	if err := run(ctx, os.Args[1:], os.Getenv, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run serves until ctx is done; ready, if not nil, gets the bound address.
func run(ctx context.Context, args []string, getenv func(string) string, ready func(addr string)) error {
	g, ln, _, err := demo.Setup(ctx, "gin", args, getenv)
	if err != nil {
		return err
	}
	r := gin.New()
	r.Use(gin.Recovery())
	ginmcp.RegisterMetadata(r, g) // unauthenticated, at the origin root
	r.Any(g.ResourcePath(), ginmcp.Middleware(g), gin.WrapH(httpmcp.SDKHandler(demo.MCPHandler(nil))))
	if ready != nil {
		ready(ln.Addr().String())
	}
	return demo.Serve(ctx, ln, r)
}
