// Package httpmcp is the net/http adapter of mcpauthz: a middleware that
// runs every request to an MCP endpoint through a [core.Guard].
//
// One line protects a handler:
//
//	mux.Handle("/mcp", httpmcp.Middleware(g)(mcpHandler))
//	mux.Handle(g.MetadataPath(), g.MetadataHandler())
//
// or, equivalently, [Register] (mux, g, mcpHandler), which also registers
// the RFC 9728 metadata document at the origin root.
//
// The adapter decides nothing: it reads the body (bounded by
// Guard.MaxBodyBytes), calls Guard.Check, and either copies Guard.Render's
// response or passes the request on with the principal in its context and
// the body restored byte for byte. List responses are filtered through
// Result.WrapResponseWriter; every other response streams through untouched.
//
// # go-sdk session binding
//
// The MCP Go SDK binds legacy (2025-11-25) sessions to auth.TokenInfo.UserID,
// which it reads from a context key only auth.RequireBearerToken can set.
// The middleware therefore runs the next handler through
// auth.RequireBearerToken with a verifier that returns the already-verified
// principal: UserID = Principal.ID(), Scopes, Expiration. The SDK then
// refuses a session presented by another principal (403), in addition to the
// Guard's own binding (404).
//
// # Performance
//
// An allowed request costs the middleware one allocation of its own for
// bodies up to 256 bytes (body, restored reader, context node and the
// TokenInfo storage together), plus http.Request.WithContext and
// Principal.ID; the buffer is never pooled, because a handler (a reverse
// proxy's transport, for one) may still read the body after ServeHTTP
// returns. auth.RequireBearerToken adds the go-sdk's own four (header
// split, lower-casing, context value, request copy).
//
// # Security
//
// Wrap the handler, not a mux pattern: every route that reaches the MCP
// handler must pass through the middleware; the metadata route is the only
// unauthenticated one. The Authorization header is left in place for the
// SDK; strip it before proxying the request anywhere (MCP forbids token
// passthrough). Browser CORS preflights (OPTIONS, never authenticated) must
// be answered by a CORS middleware placed before this one; the Guard answers
// an unauthenticated OPTIONS with 401.
package httpmcp
