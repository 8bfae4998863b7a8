package jose

import (
	"crypto"
	"crypto/elliptic"
	"fmt"
)

// Algorithm names supported by this package (RFC 7518 §3.1, RFC 8037).
const (
	RS256 = "RS256"
	RS384 = "RS384"
	RS512 = "RS512"
	PS256 = "PS256"
	PS384 = "PS384"
	PS512 = "PS512"
	ES256 = "ES256"
	ES384 = "ES384"
	ES512 = "ES512"
	EdDSA = "EdDSA"
)

// DefaultAlgorithms is the allow-list used where a caller asks for the
// default: RS256, PS256, ES256 and EdDSA.
func DefaultAlgorithms() []string { return []string{RS256, PS256, ES256, EdDSA} }

type family uint8

const (
	famRSA family = iota + 1
	famPSS
	famEC
	famEd
)

type algInfo struct {
	fam   family
	hash  crypto.Hash // zero for EdDSA
	curve elliptic.Curve
	size  int // ECDSA field size in bytes
}

// lookupAlg returns the description of a supported asymmetric algorithm.
// "none", HS*, and anything unknown are not supported.
func lookupAlg(alg string) (algInfo, bool) {
	switch alg {
	case RS256:
		return algInfo{fam: famRSA, hash: crypto.SHA256}, true
	case RS384:
		return algInfo{fam: famRSA, hash: crypto.SHA384}, true
	case RS512:
		return algInfo{fam: famRSA, hash: crypto.SHA512}, true
	case PS256:
		return algInfo{fam: famPSS, hash: crypto.SHA256}, true
	case PS384:
		return algInfo{fam: famPSS, hash: crypto.SHA384}, true
	case PS512:
		return algInfo{fam: famPSS, hash: crypto.SHA512}, true
	case ES256:
		return algInfo{fam: famEC, hash: crypto.SHA256, curve: elliptic.P256(), size: 32}, true
	case ES384:
		return algInfo{fam: famEC, hash: crypto.SHA384, curve: elliptic.P384(), size: 48}, true
	case ES512:
		return algInfo{fam: famEC, hash: crypto.SHA512, curve: elliptic.P521(), size: 66}, true
	case EdDSA:
		return algInfo{fam: famEd}, true
	}
	return algInfo{}, false
}

// IsSupported reports whether alg is one of the asymmetric signature
// algorithms this package implements. It is false for "none" in any case,
// for every HMAC algorithm and for anything unknown.
func IsSupported(alg string) bool {
	_, ok := lookupAlg(alg)
	return ok
}

// ValidateAlgorithms checks an allow-list: it must be non-empty and every
// entry must satisfy [IsSupported] (names are case-sensitive, as in RFC
// 7518). An allow-list naming "none" or HS256 is an error, not a silent
// filter.
func ValidateAlgorithms(algs []string) error {
	if len(algs) == 0 {
		return fmt.Errorf("%w: empty algorithm allow-list", ErrAlgorithm)
	}
	for _, a := range algs {
		if !IsSupported(a) {
			return fmt.Errorf("%w: %q cannot be allowed", ErrAlgorithm, a)
		}
	}
	return nil
}
