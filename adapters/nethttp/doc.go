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
// The adapter decides nothing and holds no logic of its own: it is core's
// one net/http adapter body, core.Guard.Serve (shared with chi and gin). The
// bearer token is verified from the header first; only then is the body
// read (bounded by Guard.MaxBodyBytes, the buffer growing as bytes arrive,
// never sized from Content-Length), Guard.Check finishes, and the adapter
// either writes Guard.Render's response (core.WriteResponse) or passes the
// request on with the principal in its context and the body restored byte
// for byte. List responses are filtered through Result.WrapResponseWriter;
// every other response streams through untouched.
//
// # go-sdk session binding
//
// The MCP Go SDK binds legacy (2025-11-25) sessions to auth.TokenInfo.UserID.
// The context node that carries the principal also answers the SDK's
// TokenInfo lookup (UserID = Principal.ID(), Scopes, Expiration), so the SDK
// refuses a session presented by another principal (403), in addition to the
// Guard's own binding (404), without parsing the Authorization header again.
// [SDKHandler] falls back to auth.RequireBearerToken when a framework
// rebuilt the context and only the principal is left.
//
// # Performance
//
// An allowed request costs the adapter one allocation of its own for bodies
// up to 256 bytes (request state, body, restored reader and session writer
// together), plus http.Request.WithContext; the buffer is never pooled,
// because a handler (a reverse proxy's transport, for one) may still read
// the body after ServeHTTP returns.
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
