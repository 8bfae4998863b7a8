package core

import "context"

// CachedVerifier is implemented by a [TokenVerifier] that keeps the tokens
// it verified, keyed by their exact text, as core/verifier does. The Guard
// asks it first, so that a token seen before costs a cache lookup and
// nothing else:
//
//   - hit false: the token is not in the cache, or its entry needs a fresh
//     verification (its key left the key set). The Guard then checks the
//     credentials' syntax (one token68, RFC 6750 §2.1) and calls Verify.
//   - hit true: claims and err are what Verify would return for token now
//     (the time claims re-checked). The Guard skips its syntax check of
//     the credentials, so an implementation must answer hit only for a
//     token it verified as a well-formed token68 before (a compact JWS
//     always is one).
//
// VerifyCached never performs I/O and never verifies a signature. It must
// be safe for concurrent use.
//
// A TokenVerifier that wraps another by embedding it (to add a check to
// Verify) also inherits its VerifyCached, and the Guard would then answer
// a cached token without calling the wrapper's Verify: such a wrapper must
// define VerifyCached too (returning hit false), or hold the verifier in a
// named field instead of embedding it.
type CachedVerifier interface {
	VerifyCached(ctx context.Context, token string) (claims *Claims, hit bool, err error)
}
