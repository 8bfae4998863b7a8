// Package jose is the strict JOSE layer of mcpauthz: compact JWS signing and
// verification, JWK and JWK Set handling, and key sets (static and remote).
//
// It deliberately supports a small subset of RFC 7515/7517/7518/8037:
//
//   - compact serialization only (exactly three segments, non-empty
//     signature); JSON serialization, multiple signatures, unprotected headers
//     and JWE are rejected;
//   - asymmetric algorithms only: RS256/384/512, PS256/384/512,
//     ES256/384/512 and EdDSA (Ed25519). "none" and HMAC (HS*) are never
//     accepted, whatever the configuration says;
//   - strict base64url (no padding, no whitespace, canonical trailing bits)
//     and strict JSON (valid UTF-8, no duplicate or case-variant keys, see
//     internal/jsonscan) for the header and, by default, the payload.
//
// ParseCompact validates and decodes the header and the claims in one
// strict pass each (internal/jsonscan.Decode); there is no second scanner.
//
// # Security
//
// Everything that can be checked without cryptography is checked first, in
// [ParseCompact], with allocation bounded by the token length cap. The
// headers crit, b64, jwk, jku, x5u, x5c, zip and cty are refused: key choice
// never comes from the token, no extension is understood, nested JWTs are
// not unwrapped. [Token.Verify] pins the algorithm to the key: a JWK "alg"
// must equal the header alg, ES256/384/512 need P-256/384/521, EdDSA needs
// Ed25519, RS*/PS* need RSA. ECDSA signatures must be raw r||s of exactly
// twice the field size; PSS uses a salt length equal to the hash size.
//
// [ParseJWKS] filters key sets as Wycheproof expects: a set with any private
// member is refused whole; oct keys, encryption keys, RSA keys outside
// 2048..8192 bits or with a bad exponent, ROCA-fingerprinted moduli,
// off-curve points and alg/curve mismatches are dropped; keys that share a
// kid are all dropped (fail closed for that kid).
//
// [RemoteKeySet] refreshes on an unknown kid and, when RefreshInterval is
// set, in the background once the set is older than that (so removed keys
// disappear), always at most once per cooldown, single-flight, with a body
// cap, timeouts and stale-while-error semantics. A bad signature on a known
// kid never causes a fetch. [RemoteKeySet.Contains] lets a cache of
// verification results check that a key is still current.
//
// Errors are this package's sentinels (ErrMalformed, ErrAlgorithm, ErrSignature,
// ...); core/verifier maps them to the core sentinels. This package does not
// import core.
package jose
