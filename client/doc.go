// Package client is the MCP client side of mcpauthz: it obtains OAuth
// access tokens for a protected MCP server with the two machine-friendly
// authorization extensions and attaches them to MCP traffic.
//
//   - Discovery ([Authorizer.HandleUnauthorized]): the Bearer challenge of a
//     401 (resource_metadata, scope, error; [ParseWWWAuthenticate]), else the
//     path-suffixed then the root well-known protected resource metadata
//     (RFC 9728); the metadata's resource must be identical to the server
//     URL (an opt-in tolerance accepts a same-origin prefix from the root
//     document). Authorization server metadata is fetched with RFC 8414
//     path insertion, then OIDC path insertion, then OIDC path append, and
//     its issuer must be identical to the one the URL was built from.
//   - Grants: [*ClientCredentials] (io.modelcontextprotocol/oauth-client-credentials:
//     client_secret_basic, client_secret_post, private_key_jwt) and
//     [*EnterpriseManaged] (io.modelcontextprotocol/enterprise-managed-authorization:
//     RFC 8693 token exchange of an ID token for an ID-JAG at the IdP, then
//     the RFC 7523 jwt-bearer grant at the MCP authorization server). ID
//     tokens come from an [IDTokenSource]: [StaticIDToken] or [*OIDCLogin]
//     (authorization code + PKCE with a loopback redirect).
//   - Step-up: a 403 insufficient_scope challenge makes the Authorizer ask
//     for the union of the current and the challenged scopes, a bounded
//     number of times per request (Config.MaxStepUps, default 2).
//   - Plumbing: [Transport] / [Authorizer.HTTPClient] for any Go HTTP client
//     (mcp.StreamableClientTransport.HTTPClient), [Authorizer.OAuthHandler]
//     for go-sdk's auth.OAuthHandler, and [WithExtensions] to declare the
//     extensions in the client capabilities.
//
// Every token request carries "resource" (RFC 8707) = the protected
// resource metadata's resource, except where
// [ClientCredentialsConfig.Resource] says otherwise for an authorization
// server that refuses it (Microsoft Entra ID's v2.0 token endpoint:
// [ResourceOmit]; its v1 endpoint: [ResourceExplicit]).
//
// # Security
//
//   - Credentials are bound to one issuer ([Credentials.Issuer], or the
//     first issuer they are used with); they are never sent to another one
//     ([ErrIssuerBinding]). Discovery prefers the bound issuer.
//   - Discovery never follows a URL (resource_metadata, an authorization
//     server, a token endpoint) that is closer to the client than the MCP
//     server itself: a remote server cannot aim the client at its own
//     loopback or at private or link-local address literals
//     ([ErrDiscovery]; names are not resolved).
//   - Bearer tokens are only attached to requests for the server URL's
//     origin. Metadata and token endpoints must be https (plain http only for
//     loopback hosts unless AllowInsecureHTTP). Redirects are not followed
//     by the default HTTP client.
//   - Responses are size-bounded and parsed as strict JSON (duplicate or
//     case-variant keys, trailing data and invalid UTF-8 are rejected).
//   - private_key_jwt assertions: iss = sub = client_id, aud = the issuer
//     identifier (a single string, not the token endpoint), random jti,
//     iat, exp at most five minutes later.
//   - An ID-JAG is used once: every new access token, including renewal
//     after expiry, goes through a fresh token exchange. A denial at the IdP
//     or the authorization server is returned as an [*OAuthError]; nothing
//     here falls back to an interactive flow.
//   - Secrets, client assertions, ID tokens, ID-JAGs and access tokens are
//     never logged; client_id, iss and assertion jti are. Every token
//     request (client credentials, token exchange, jwt-bearer) goes through
//     one code path, which logs its outcome once: DEBUG on success, WARN with
//     the reason on an error or a rejected response.
package client
