// Package devidp is a small development identity provider for the mcpauthz
// quickstart. It is NOT FOR PRODUCTION: users log in by picking a name on an
// HTML page with a shared demo password, keys live in memory, and nothing is
// rate limited.
//
// It plays the enterprise IdP of the Enterprise-Managed Authorization flow:
//
//   - OpenID Connect discovery and a JWKS;
//   - the authorization-code grant with PKCE (S256 only) and a minimal login
//     page, issuing ID tokens;
//   - RFC 8693 token exchange that trades an ID token for an ID-JAG
//     (typ "oauth-id-jag+jwt"), decided by an admin policy file that says
//     which users and groups may use which MCP servers with which scopes.
//
// The admin policy is read from disk on every token exchange, so editing the
// file revokes or grants access at once, without touching the MCP server:
// the central revocation of the seed documents.
package devidp
