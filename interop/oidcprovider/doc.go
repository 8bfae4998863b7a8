// Package oidcprovider holds interop tests (no library code) that run
// mcpauthz against a real, certified OpenID provider: panva/oidc-provider,
// started from interop/node/op-server.mjs on a random loopback port.
//
// The tests cover two roles of the provider:
//
//   - authorization server: it issues RFC 9068 JWT access tokens through
//     client_credentials with an RFC 8707 resource indicator; core/verifier
//     (live OIDC discovery and JWKS) accepts them for our resource and refuses
//     a token minted for another resource, and a core.Guard with the net/http
//     adapter serves or refuses a real go-sdk MCP server accordingly;
//   - enterprise IdP: after a headless authorization-code + PKCE login it
//     exchanges the user's ID token for an ID-JAG (RFC 8693), which the
//     embedded authserver accepts on the jwt-bearer grant; the client package
//     (EnterpriseManaged + Authorizer) then calls a tool through the go-sdk
//     streamable transport. Replayed ID-JAGs, ID-JAGs presented by another
//     client, and IdP tokens presented directly as bearer tokens are refused.
//
// # Running
//
// The tests need node and the npm packages in interop/node/node_modules
// (run "npm ci" in interop/node). When MCPAUTHZ_INTEROP is unset or empty and
// a prerequisite is missing they skip; with MCPAUTHZ_INTEROP set to any other
// value a missing prerequisite is a failure:
//
//	MCPAUTHZ_INTEROP=1 go test -race -count=1 -v ./interop/oidcprovider/
//
// Everything listens on 127.0.0.1 and every step is bounded by a timeout.
package oidcprovider
