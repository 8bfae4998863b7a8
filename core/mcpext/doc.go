// Package mcpext declares the MCP authorization extensions in the server
// capabilities of a Go MCP SDK (github.com/modelcontextprotocol/go-sdk)
// server.
//
// SEP-2133 places server extensions in capabilities.extensions, a map from
// extension id to a settings object ({} = no settings). The go-sdk v1.8.0
// has that field ([mcp.ServerCapabilities.Extensions]) and returns the
// server's capabilities both in the initialize result (protocol 2025-11-25)
// and in the server/discover result (2026-07-28), so [Declare] only has to
// put the ids into [mcp.ServerOptions.Capabilities] before the server is
// built; no middleware is involved.
//
// The two authorization extensions define no settings, so each is declared
// with {}:
//
//	{"capabilities": {"extensions": {
//	  "io.modelcontextprotocol/enterprise-managed-authorization": {},
//	  "io.modelcontextprotocol/oauth-client-credentials": {}}}}
//
// # Security
//
// Capability exchange happens inside authenticated MCP traffic, so it is a
// courtesy to clients, not a discovery mechanism for obtaining the first
// token: clients learn how to authenticate from the protected resource
// metadata (RFC 9728) and the authorization server metadata (RFC 8414:
// grant_types_supported, authorization_grant_profiles_supported). Access
// must never depend on what a client declares; the token decides.
package mcpext
