// Package authserver is an embeddable OAuth 2.0 authorization server for
// machine access to MCP servers. It implements exactly two grants:
//
//   - client_credentials (RFC 6749 §4.4; MCP OAuth Client Credentials
//     extension), for services acting as themselves;
//   - urn:ietf:params:oauth:grant-type:jwt-bearer carrying an Identity
//     Assertion JWT Authorization Grant (ID-JAG, MCP Enterprise-Managed
//     Authorization), for clients acting for a user whose enterprise IdP
//     issued the ID-JAG.
//
// Clients authenticate with client_secret_basic, client_secret_post or
// private_key_jwt. Issued access tokens are RFC 9068 JWTs (typ "at+jwt")
// audience-restricted to one configured resource, verifiable with the
// published JWK Set, for example by core/verifier with IssuerConfig{Issuer:
// s.Issuer(), JWKSURL: s.JWKSURI()}.
//
// There is no interactive authorization, no refresh token, no introspection or
// revocation: the metadata document (RFC 8414) advertises only what is
// implemented, so response_types_supported is empty and there is no
// code_challenge_methods_supported. The authorization endpoint named in the
// metadata is a stub that refuses every request with unsupported_response_type
// and never redirects; it exists only because the official TypeScript MCP SDK
// clients reject metadata without authorization_endpoint (see
// Config.OmitAuthorizationEndpoint). Deployments that need interactive login
// should use an external authorization server.
//
// # Mounting
//
// [Server] is an http.Handler. The well-known metadata URL is built by
// inserting "/.well-known/oauth-authorization-server" between the host and
// the issuer path (RFC 8414 §3.1), so the handler must see requests at the
// origin root: mount it at "/" or register each of [Server.Routes] on your
// mux. An issuer "https://h/oauth" serves:
//
//	GET  /.well-known/oauth-authorization-server/oauth
//	GET  /.well-known/openid-configuration/oauth
//	GET  /oauth/.well-known/openid-configuration
//	GET  /oauth/jwks.json
//	POST /oauth/token
//
// # Token endpoint behaviour
//
// Requests are application/x-www-form-urlencoded POSTs. Parameters in the
// query, duplicated parameters (including several "resource" values),
// JSON bodies and compressed bodies are invalid_request; a body over
// Config.MaxBodyBytes is 413 invalid_request. Errors follow RFC 6749 §5.2:
// invalid_client is 401, with WWW-Authenticate: Basic when the client used
// HTTP Basic. A request without "resource" gets a token for
// Config.DefaultResource. Responses carry Cache-Control: no-store and
// Pragma: no-cache. Rate limiting answers 429 with error
// "temporarily_unavailable" and Retry-After; an unreachable key set or a
// full replay store answers 503 with the same error code.
//
// Granted scopes are never wider than any bound: for an ID-JAG, the ID-JAG
// "scope" ∩ the requested "scope" (if sent) ∩ the client's scopes ∩ the
// resource's scopes; for client_credentials the same without the ID-JAG
// term. Config.StrictScopes turns "requested but not grantable" into
// invalid_scope.
//
// # Security
//
//   - Fail closed: every parse error, unknown case, unreachable key set or
//     full replay store denies.
//   - ID-JAGs: typ "oauth-id-jag+jwt"; issuer on the trust list and never
//     this server; signature with the IdP's keys and algorithms; aud exactly
//     the issuer (one value); client_id equal to the authenticated client;
//     every resource served here; exp and iat required, lifetime at most
//     Config.MaxAssertionLifetime; jti one-time per issuer; cnf refused; sub
//     required and different from the client id.
//   - Client assertions: aud is the issuer identifier, never another
//     server's token endpoint unless explicitly allowed; iss = sub =
//     client_id; short exp; one-time jti; typ absent, "JWT" or
//     "client-authentication+jwt" (so access tokens and ID-JAGs are never
//     accepted as client assertions).
//   - Client secrets are stored as salted SHA-256 hashes ([HashSecret]) and
//     compared in constant time; an unknown client costs the same work and
//     gets the same error as a wrong secret.
//   - The replay store never evicts unexpired entries; the in-memory store
//     is per process, so several instances need a shared [replay.Store].
//   - One audit event "authserver.grant" is logged per decision with
//     grant_type, client_id, iss, sub, jti, resource, scopes, outcome and
//     error. Secrets, assertions and tokens are never logged.
//   - Generated signing keys exist only with Config.DevGenerateKey, and log
//     a warning.
package authserver
