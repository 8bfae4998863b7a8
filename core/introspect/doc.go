// Package introspect is a [core.TokenVerifier] that asks an authorization
// server about opaque (or any) access tokens with OAuth 2.0 Token
// Introspection (RFC 7662).
//
// [Verifier.Verify] POSTs token=<t>&token_type_hint=access_token to the
// configured endpoint, authenticated as a confidential client
// (client_secret_basic by default, RFC 6749 §2.3.1), and accepts the token
// only when the response is a strict JSON object with "active": true whose
// claims pass the checks below. It fills [core.Claims] from the response:
// Issuer "iss", Subject "sub", Audience "aud", ClientID "client_id", Scopes
// "scope" (space-delimited), Expiry/NotBefore/IssuedAt "exp"/"nbf"/"iat",
// ID "jti", and Raw with every member (numbers as json.Number).
//
// Checks on an active response, each a typed error:
//   - "token_type", when present, must be "Bearer" (case-insensitive) or
//     "access_token" (Duende IdentityServer names the kind of token); a
//     "typ" of "Refresh", "Offline" or "ID" (Keycloak) is rejected, and so
//     is a "token_use" other than "access_token" or "access" (Ory Hydra
//     introspects refresh tokens too and answers them with token_type
//     Bearer and token_use "refresh_token"): a refresh or ID token is never
//     an access token here ([core.ErrTokenType]);
//   - "cnf" must be absent: sender-constrained tokens (DPoP, mTLS) cannot be
//     honoured as plain bearer tokens ([core.ErrTokenType]);
//   - a response with "username" needs a non-empty "sub": without one the
//     mappers would take the user's token for its client's own
//     ([core.ErrInvalidClaims]);
//   - "iss", when present, must equal Config.Issuer exactly ([core.ErrIssuer]);
//   - "aud" (string or list of strings) must contain one of Config.Audience
//     exactly; a missing "aud" is rejected unless Config.AllowMissingAudience
//     ([core.ErrAudience]);
//   - with leeway L: now ≥ exp+L is [core.ErrExpired], nbf > now+L is
//     [core.ErrNotYetValid], iat > now+L is [core.ErrIssuedInFuture]; a time
//     claim that is not a non-negative JSON number below year 10000 is
//     [core.ErrInvalidClaims]. A missing "exp" is allowed (RFC 7662 makes it
//     optional; the answer is then valid for PositiveTTL).
//
// "active": false is [core.ErrInactiveToken]. Any transport error, timeout,
// non-200 status, non-JSON content type, body over MaxResponseBytes,
// non-strict JSON, or an "active" member that is missing or not a JSON
// boolean is [core.ErrUnavailable] (HTTP 503 at the Guard): the resource
// server cannot tell whether the token is good, so it denies without
// blaming the token.
//
// # Caching and revocation
//
// Answers are cached in an LRU bounded in entries and bytes (MaxEntries,
// MaxBytes), keyed by the SHA-256 of the token (the raw token is never
// stored or logged). An active answer is reused for
// PositiveTTL (default 30s) but never past the token's "exp"; a token
// rejection (inactive, expired, wrong audience, ...) is reused for
// NegativeTTL (default 10s). ErrUnavailable is never cached. Concurrent
// lookups of the same token share one upstream request (single flight), and at
// most MaxConcurrent (default 64) requests are in flight: beyond that a token
// the cache cannot answer is refused at once with core.ErrUnavailable, so a
// flood of random tokens costs a bounded number of outbound requests.
//
// The trade-off: revoking a token at the authorization server takes effect
// here within PositiveTTL, not immediately. A shorter PositiveTTL narrows that
// window at the cost of more introspection calls; a negative PositiveTTL
// disables positive caching (every request is introspected).
//
// # Readiness
//
// [Verifier.Ready] (called by Guard.Ready) introspects a random probe token
// and requires {"active": false}: the endpoint is reachable, accepts the
// client credentials and answers strictly. It spends no real token and
// follows the failure backoff.
//
// # Security
//
// The endpoint must be https (http only for loopback hosts); redirects are
// never followed, also with Config.HTTPClient. Tokens are checked for RFC 6750
// b64token syntax and a length cap before anything is sent. Logs carry iss,
// sub, client_id and jti, never the token or the client secret.
package introspect
