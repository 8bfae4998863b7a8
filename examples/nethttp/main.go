// Command nethttp serves a go-sdk MCP server behind the net/http adapter.
//
//	go run ./nethttp -issuer https://idp.example.com [-addr 127.0.0.1:8080] [-policy policy.csv]
package main

import (
	"net/http"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/examples/internal/demo"
)

func main() { demo.Main("nethttp", demo.HTTP(routes)) }

// routes is the whole framework wiring; demo builds the Guard g from the
// flags and serves the handler.
func routes(g *core.Guard) http.Handler {
	mux := http.NewServeMux()
	httpmcp.Register(mux, g, demo.MCPHandler(nil)) // /mcp behind the middleware + metadata at the root
	return mux
}
