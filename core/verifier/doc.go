// Package verifier checks JWT access tokens for an MCP resource server. It
// implements [core.TokenVerifier] on top of the strict JOSE layer in
// internal/jose.
//
// A token passes only when, in this order:
//
//  1. the raw token is a compact JWS within the length cap, with strict
//     base64url, a strict JSON header without crit/b64/jwk/jku/x5u/x5c/zip/cty,
//     an allowed asymmetric alg and a strict JSON claims object (no
//     duplicate or case-variant claim names, valid UTF-8);
//  2. its "iss" (read unverified, only to choose) names a configured issuer,
//     exactly, or fills a "{tenantid}" template with the token's "tid";
//  3. the signature verifies with that issuer's keys alone (JWKS URL, OIDC /
//     RFC 8414 discovery, static JWKS, or an injected key set), with the
//     algorithm pinned to the key;
//  4. "typ" is one of the issuer's accepted types (default "at+jwt"), and the
//     token is not an ID token (nonce, at_hash) or an ID-JAG;
//  5. "exp" is present and in the future, "nbf" and "iat" are not in the
//     future, all with one leeway (default 30 s, at most 5 min);
//  6. "aud" is a string or an array of strings that contains a configured
//     audience exactly (or after the documented opt-in normalization);
//  7. there is no "cnf" (sender-constrained tokens are not accepted as
//     bearer tokens) and the issuer's required claims are present.
//
// Errors wrap the sentinels of package core (core.ErrMalformedToken,
// core.ErrExpired, core.ErrAudience, core.ErrUnavailable, ...). A refusal for
// iss, aud or typ is a [*MismatchError] and is logged at Warn (expected vs
// got, rate-limited, never the token).
//
// # IdP presets
//
// [Okta], [Entra], [Keycloak], [Auth0] and [Google] return issuer entries
// shaped for that IdP's real access tokens: its "typ" values (Okta sends
// none, most send "JWT"), its issuer or issuer template, its audience
// convention (IssuerConfig.Audience; Entra v2: the client-id GUID) and the
// matching core/mapper preset (IssuerConfig.Mapper, dispatched by
// [Verifier.Mapper]).
//
// # Security
//
// Key sets are fetched only from configured or discovered URLs, never from a
// token (no jku/x5u), and refreshed on an unknown kid or, in the
// background, when a lookup finds the set older than
// IssuerConfig.RefreshInterval (default 15 min) — always at most once per
// cooldown; a bad signature never causes a fetch. The periodic refresh is
// what retires a key the IdP removed (for example after a compromise). When keys cannot be
// obtained the verifier fails closed with core.ErrUnavailable (a 503), and
// it recovers without a restart. Discovery is lazy, so the verifier can be
// built while the IdP is down. The discovered "issuer" must equal the
// configured issuer exactly.
//
// The verified-token cache is keyed by the exact token string and re-checks
// exp, nbf and iat on every hit; a hit is served only while the key that
// verified the token is still in its issuer's current key set (otherwise
// the token is verified again from scratch), and never longer than the
// cache TTL. Claims returned from Verify share their Raw
// map between cache hits: treat them as read-only.
package verifier
