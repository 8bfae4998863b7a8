// Package ginmcp is the gin adapter of mcpauthz: a gin middleware that runs
// every request to an MCP endpoint through a [core.Guard].
//
// One line protects a route, a group or the whole engine:
//
//	r := gin.New()
//	ginmcp.RegisterMetadata(r, g)          // RFC 9728 document at the origin root
//	mcp := r.Group("/mcp", ginmcp.Middleware(g))
//	mcp.Any("", gin.WrapH(httpmcp.SDKHandler(mcpHandler))) // go-sdk handler; SDKHandler feeds its session binding
//
// The adapter decides nothing. It reads the body (bounded by
// Guard.MaxBodyBytes) and restores it byte for byte for the next handler,
// calls Guard.Check with the request's context, and either copies
// Guard.Render's response (status, every header value, body) and aborts the
// chain, or puts the principal in the request context ([PrincipalFrom],
// core.PrincipalFromContext(c.Request.Context())) and calls c.Next. It is
// not copied into c.Keys (see [Middleware]). For */list
// requests the response is filtered through Result.WrapResponseWriter;
// every other response, including event streams, passes through untouched
// and unbuffered.
//
// # Security
//
// Apply the middleware to every route that reaches the MCP handler; the
// metadata route registered by [RegisterMetadata] is the only
// unauthenticated one. gin applies r.Use only to routes registered after
// it, so with an engine-wide r.Use(ginmcp.Middleware(g)) call
// RegisterMetadata first. The Authorization header is left in place; never
// forward it upstream (MCP forbids token passthrough).
package ginmcp
