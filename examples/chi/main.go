// Command chi serves a go-sdk MCP server behind the chi adapter.
//
//	go run ./chi -issuer https://idp.example.com [-addr 127.0.0.1:8080] [-policy policy.csv]
package main

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	chimcp "github.com/mcpauthz/mcpauthz/adapters/chi"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/examples/internal/demo"
)

func main() { demo.Main("chi", demo.HTTP(routes)) }

// routes is the whole framework wiring; demo builds the Guard g from the
// flags and serves the handler.
func routes(g *core.Guard) http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	chimcp.RegisterMetadata(r, g) // unauthenticated, at the origin root
	r.With(chimcp.Middleware(g)).Handle(g.ResourcePath(), demo.MCPHandler(nil))
	return r
}
