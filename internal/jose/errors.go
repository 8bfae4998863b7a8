package jose

import "errors"

// Sentinel errors about tokens. Returned errors wrap them with detail. This
// package does not import core (so that it stays usable while core evolves);
// core/verifier maps each one to the matching core sentinel, given in the
// comment.
var (
	// ErrMalformed: the token is not a well-formed compact JWS (core.ErrMalformedToken).
	ErrMalformed = errors.New("jose: malformed JWS")
	// ErrTooLarge: the token exceeds the length cap (core.ErrMalformedToken).
	ErrTooLarge = errors.New("jose: token too large")
	// ErrForbiddenHeader: the protected header carries a member this package
	// refuses: crit, b64, jwk, jku, x5u, x5c, zip, cty (core.ErrMalformedToken).
	ErrForbiddenHeader = errors.New("jose: forbidden header member")
	// ErrAlgorithm: the header alg is not allowed (core.ErrUnsupportedAlgorithm).
	ErrAlgorithm = errors.New("jose: algorithm not allowed")
	// ErrKeyMismatch: the key cannot be used with the header alg (core.ErrUnknownKey).
	ErrKeyMismatch = errors.New("jose: key does not match algorithm")
	// ErrUnknownKey: no key in the set matches the token (core.ErrUnknownKey).
	ErrUnknownKey = errors.New("jose: no matching key")
	// ErrSignature: the signature does not verify (core.ErrSignature).
	ErrSignature = errors.New("jose: invalid signature")
	// ErrUnavailable: the key set cannot be obtained (core.ErrUnavailable).
	ErrUnavailable = errors.New("jose: key set unavailable")
)

// Errors about keys and key sets rather than tokens.
var (
	// ErrInvalidKey: a JWK or public key fails the hygiene rules.
	ErrInvalidKey = errors.New("jose: invalid key")
	// ErrInvalidKeySet: a JWK Set document is refused as a whole.
	ErrInvalidKeySet = errors.New("jose: invalid key set")
)
