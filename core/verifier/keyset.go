package verifier

import "context"

// KeySet is the public seam for an issuer whose keys the caller manages
// itself (tests, an in-process authorization server, an HSM-backed key
// service): IssuerConfig.KeySet. Like go-oidc's KeySet it has one method.
//
// VerifySignature checks the signature of jws, a compact JWS that the
// verifier has already parsed strictly (three segments, strict base64url
// and JSON, no forbidden header) and whose "alg" is in the issuer's
// allow-list, and returns its decoded payload. The verifier then requires
// the payload to equal the one it parsed and checks the claims itself.
//
// Errors: wrap core.ErrSignature for a bad signature and core.ErrUnknownKey
// for an unknown key (both 401); anything else, including
// core.ErrUnavailable, denies with 503 (fail closed). Verified-token cache
// entries for such an issuer are bounded by CacheConfig.TTL, since the
// verifier cannot tell when a key leaves the set.
//
// Implementations must be safe for concurrent use.
type KeySet interface {
	VerifySignature(ctx context.Context, jws string) (payload []byte, err error)
}
