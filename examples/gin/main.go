// Command gin serves a go-sdk MCP server behind the gin adapter.
//
//	go run ./gin -issuer https://idp.example.com [-addr 127.0.0.1:8080] [-policy policy.csv]
package main

import (
	"net/http"

	"github.com/gin-gonic/gin"

	ginmcp "github.com/mcpauthz/mcpauthz/adapters/gin"
	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/examples/internal/demo"
)

func main() {
	gin.SetMode(gin.ReleaseMode)
	demo.Main("gin", demo.HTTP(routes))
}

// routes is the whole framework wiring; demo builds the Guard g from the
// flags and serves the handler.
func routes(g *core.Guard) http.Handler {
	r := gin.New()
	r.Use(gin.Recovery())
	ginmcp.RegisterMetadata(r, g) // unauthenticated, at the origin root
	r.Any(g.ResourcePath(), ginmcp.Middleware(g), gin.WrapH(httpmcp.SDKHandler(demo.MCPHandler(nil))))
	return r
}
