package core

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
)

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
// Verify) also inherits VerifyCached, and answering a cached token from it
// would skip the wrapper's Verify. So the Guard uses VerifyCached only
// when CacheOwner returns a verifier of the same dynamic type as
// Config.Verifier (and, for a comparable type, the same value): an
// implementation returns its receiver, and a wrapper that embeds it
// inherits a CacheOwner that returns the embedded verifier, not the
// wrapper. For such a wrapper core.New logs a warning and the Guard calls
// the wrapper's Verify for every request (no cache lookup first; the
// embedded verifier still caches inside its own Verify). A wrapper that
// wants the lookup defines VerifyCached and CacheOwner itself.
type CachedVerifier interface {
	VerifyCached(ctx context.Context, token string) (claims *Claims, hit bool, err error)
	// CacheOwner returns the verifier whose cache VerifyCached answers
	// from: the receiver itself.
	CacheOwner() TokenVerifier
}

// cachedVerifierOf returns v as a CachedVerifier when it owns the cache
// it would answer from (see CachedVerifier), else nil; it warns once, at
// construction, about a verifier that inherits VerifyCached from an
// embedded one.
func cachedVerifierOf(v TokenVerifier, log *slog.Logger) CachedVerifier {
	cv, ok := v.(CachedVerifier)
	if !ok {
		return nil
	}
	owner := cv.CacheOwner()
	tv, to := reflect.TypeOf(v), reflect.TypeOf(owner)
	if tv == to && (!tv.Comparable() || owner == v) {
		return cv
	}
	log.Warn("core: Config.Verifier inherits VerifyCached from the verifier it embeds; "+
		"the Guard calls its Verify for every request instead of answering from that cache "+
		"(define VerifyCached and CacheOwner on it to use the cache)",
		"verifier", fmt.Sprintf("%T", v), "cache_owner", fmt.Sprintf("%T", owner))
	return nil
}
