// Package chimcp is the chi (v5) adapter of mcpauthz. chi middlewares are
// plain net/http middlewares, so [Middleware] is the net/http adapter's
// (httpmcp.Middleware) unchanged; this package adds the chi-shaped pieces:
// [RegisterMetadata] for a chi.Router and [PrincipalFrom].
//
// Protect the MCP routes (not the root router that also serves the
// metadata document):
//
//	r := chi.NewRouter()
//	chimcp.RegisterMetadata(r, g) // RFC 9728 document at the origin root
//	r.With(chimcp.Middleware(g)).Handle("/mcp", mcpHandler)
//	// or: r.Route("/api", func(r chi.Router) { r.Use(chimcp.Middleware(g)); r.Handle("/mcp", mcpHandler) })
//	// or: r.Mount("/mcp", chi.Chain(chimcp.Middleware(g)).Handler(mcpHandler))
//
// The middleware reads the body bounded by Guard.MaxBodyBytes and restores
// it, calls Guard.Check with the request context, and either writes
// Guard.Render's response or calls the next handler with the principal in
// the request context; */list responses are filtered, everything else
// streams through untouched. See package httpmcp for the details, including
// the go-sdk auth.TokenInfo it provides.
//
// # Security
//
// chi applies r.Use middlewares to every route of that router, so a root
// level r.Use(chimcp.Middleware(g)) would also demand a token for the
// metadata document: scope the middleware with r.With, r.Group, r.Route
// or r.Mount instead.
package chimcp
