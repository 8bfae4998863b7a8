package core

import "errors"

// Sentinel causes. Verifiers, mappers and authorizers wrap them with %w so
// that the Guard can choose the response without string matching. The text of
// a cause is logged, never sent to the client.
var (
	// ErrNoToken: the request carries no credentials at all (401, no error code).
	ErrNoToken = errors.New("core: no bearer token")
	// ErrMalformedRequest: the credentials are presented wrongly: two
	// Authorization headers, a token in the query or form, a non-Bearer scheme
	// with a Bearer one, a malformed header (400 invalid_request).
	ErrMalformedRequest = errors.New("core: malformed authorization request")

	// Token verification failures (401 invalid_token).
	ErrMalformedToken       = errors.New("core: malformed token")
	ErrUnsupportedAlgorithm = errors.New("core: algorithm not allowed")
	ErrUnknownKey           = errors.New("core: no key for token")
	ErrSignature            = errors.New("core: invalid signature")
	ErrExpired              = errors.New("core: token expired")
	ErrNotYetValid          = errors.New("core: token not yet valid")
	ErrIssuedInFuture       = errors.New("core: token issued in the future")
	ErrIssuer               = errors.New("core: untrusted issuer")
	ErrAudience             = errors.New("core: audience mismatch")
	ErrTokenType            = errors.New("core: wrong token type")
	ErrInvalidClaims        = errors.New("core: invalid claims")
	ErrInactiveToken        = errors.New("core: token inactive")

	// ErrUnavailable: keys, introspection or policy cannot be reached or
	// evaluated (503). Never an allow.
	ErrUnavailable = errors.New("core: dependency unavailable")

	// ErrBodyTooLarge: a BodyReader saw more than the body limit (413).
	ErrBodyTooLarge = errors.New("core: request body too large")

	// ErrMapping: the claims could not be mapped to a principal (401 invalid_token).
	ErrMapping = errors.New("core: claims cannot be mapped to a principal")
)
