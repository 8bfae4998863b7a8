package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"math/big"
	"strings"

	"github.com/mcpauthz/mcpauthz/internal/clip"
)

// JWK is the public part of a JSON Web Key (RFC 7517) as this package
// publishes it. It has no field for private members, so marshalling a JWK
// can never leak a private key.
type JWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid,omitempty"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

// JWKS is a JSON Web Key Set document.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// PublicJWK encodes pub (an *rsa.PublicKey, *ecdsa.PublicKey on
// P-256/384/521 or ed25519.PublicKey, or the matching private key types'
// public halves) as a JWK with use "sig". kid and alg are copied when
// non-empty; alg, when set, must suit the key.
func PublicJWK(pub crypto.PublicKey, kid, alg string) (JWK, error) {
	pub = publicOf(pub)
	if alg != "" {
		info, ok := lookupAlg(alg)
		if !ok || !(&PublicKey{Key: pub}).fits(info) {
			return JWK{}, fmt.Errorf("%w: algorithm %s does not suit %T", ErrInvalidKey, clip.Quote(alg, 64), pub)
		}
	}
	j, err := thumbprintJWK(pub)
	if err != nil {
		return JWK{}, err
	}
	j.Kid, j.Use, j.Alg = kid, "sig", alg
	return j, nil
}

// publicOf maps private keys to their public halves.
func publicOf(k crypto.PublicKey) crypto.PublicKey {
	switch p := k.(type) {
	case *rsa.PrivateKey:
		return &p.PublicKey
	case *ecdsa.PrivateKey:
		return &p.PublicKey
	case ed25519.PrivateKey:
		return p.Public()
	}
	return k
}

// thumbprintJWK returns the JWK with only the members RFC 7638 hashes.
func thumbprintJWK(pub crypto.PublicKey) (JWK, error) {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if p == nil || p.N == nil {
			break
		}
		return JWK{Kty: "RSA", N: b64url.EncodeToString(p.N.Bytes()), E: b64url.EncodeToString(big.NewInt(int64(p.E)).Bytes())}, nil
	case *ecdsa.PublicKey:
		size := 0
		if p != nil {
			size = curveSize(p.Curve)
		}
		if size == 0 {
			break
		}
		x := make([]byte, size)
		y := make([]byte, size)
		p.X.FillBytes(x)
		p.Y.FillBytes(y)
		return JWK{Kty: "EC", Crv: p.Curve.Params().Name, X: b64url.EncodeToString(x), Y: b64url.EncodeToString(y)}, nil
	case ed25519.PublicKey:
		if len(p) != ed25519.PublicKeySize {
			break
		}
		return JWK{Kty: "OKP", Crv: "Ed25519", X: b64url.EncodeToString(p)}, nil
	}
	return JWK{}, fmt.Errorf("%w: unsupported key type %T", ErrInvalidKey, pub)
}

// KeyID returns the RFC 7638 JWK thumbprint (SHA-256, base64url) of pub, or
// "" when the key type is not supported.
func KeyID(pub crypto.PublicKey) string {
	j, err := thumbprintJWK(publicOf(pub))
	if err != nil {
		return ""
	}
	var s string
	switch j.Kty {
	case "RSA":
		s = `{"e":"` + j.E + `","kty":"RSA","n":"` + j.N + `"}`
	case "EC":
		s = `{"crv":"` + j.Crv + `","kty":"EC","x":"` + j.X + `","y":"` + j.Y + `"}`
	case "OKP":
		s = `{"crv":"` + j.Crv + `","kty":"OKP","x":"` + j.X + `"}`
	}
	sum := sha256.Sum256([]byte(s))
	return b64url.EncodeToString(sum[:])
}

// privateMembers are JWK members that only private or symmetric keys carry.
var privateMembers = [...]string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// hasPrivate reports whether a decoded JWK object carries a private member.
func hasPrivate(m map[string]any) bool {
	for _, n := range privateMembers {
		if _, ok := m[n]; ok {
			return true
		}
	}
	return false
}

// parseJWK turns one decoded public JWK object into a checked key. allowed,
// when non-empty, limits the JWK "alg" values accepted.
func parseJWK(m map[string]any, allowed []string) (*PublicKey, error) {
	str := func(name string) (string, bool, error) {
		v, ok := m[name]
		if !ok {
			return "", false, nil
		}
		s, isStr := v.(string)
		if !isStr {
			return "", true, fmt.Errorf("%w: %q is not a string", ErrInvalidKey, name)
		}
		return s, true, nil
	}
	kty, _, err := str("kty")
	if err != nil {
		return nil, err
	}
	kid, _, err := str("kid")
	if err != nil {
		return nil, err
	}
	use, hasUse, err := str("use")
	if err != nil {
		return nil, err
	}
	if hasUse && use != "sig" {
		return nil, fmt.Errorf("%w: use %s", ErrInvalidKey, clip.Quote(use, 64))
	}
	if v, ok := m["key_ops"]; ok {
		ops, isList := v.([]any)
		verify := false
		for _, o := range ops {
			if s, _ := o.(string); s == "verify" {
				verify = true
			}
		}
		if !isList || !verify {
			return nil, fmt.Errorf("%w: key_ops without verify", ErrInvalidKey)
		}
	}
	alg, hasAlg, err := str("alg")
	if err != nil {
		return nil, err
	}
	if hasAlg && len(allowed) > 0 && !contains(allowed, alg) {
		return nil, fmt.Errorf("%w: alg %s not allowed", ErrInvalidKey, clip.Quote(alg, 64))
	}
	if hasAlg && alg == "" {
		return nil, fmt.Errorf("%w: empty alg", ErrInvalidKey)
	}
	b64m := func(name string) ([]byte, error) {
		s, ok, err := str(name)
		if err != nil {
			return nil, err
		}
		if !ok || s == "" {
			return nil, fmt.Errorf("%w: missing %q", ErrInvalidKey, name)
		}
		b, err := decodeB64(s)
		if err != nil {
			return nil, fmt.Errorf("%w: %q: %v", ErrInvalidKey, name, err)
		}
		return b, nil
	}
	var pub crypto.PublicKey
	switch kty {
	case "RSA":
		n, err := b64m("n")
		if err != nil {
			return nil, err
		}
		e, err := b64m("e")
		if err != nil {
			return nil, err
		}
		eb := new(big.Int).SetBytes(e)
		if eb.BitLen() > 31 {
			return nil, fmt.Errorf("%w: RSA exponent too large", ErrInvalidKey)
		}
		pub = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(eb.Int64())}
	case "EC":
		crv, _, err := str("crv")
		if err != nil {
			return nil, err
		}
		var curve elliptic.Curve
		switch crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, fmt.Errorf("%w: curve %s", ErrInvalidKey, clip.Quote(crv, 64))
		}
		x, err := b64m("x")
		if err != nil {
			return nil, err
		}
		y, err := b64m("y")
		if err != nil {
			return nil, err
		}
		size := curveSize(curve)
		if len(x) != size || len(y) != size {
			return nil, fmt.Errorf("%w: EC coordinates must be %d bytes", ErrInvalidKey, size)
		}
		point := make([]byte, 0, 1+2*size)
		point = append(append(append(point, 4), x...), y...)
		p, err := ecdsa.ParseUncompressedPublicKey(curve, point)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
		}
		pub = p
	case "OKP":
		crv, _, err := str("crv")
		if err != nil {
			return nil, err
		}
		if crv != "Ed25519" {
			return nil, fmt.Errorf("%w: OKP curve %s", ErrInvalidKey, clip.Quote(crv, 64))
		}
		x, err := b64m("x")
		if err != nil {
			return nil, err
		}
		if len(x) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: Ed25519 key length %d", ErrInvalidKey, len(x))
		}
		pub = ed25519.PublicKey(x)
	default:
		return nil, fmt.Errorf("%w: kty %s", ErrInvalidKey, clip.Quote(kty, 64))
	}
	k, err := NewPublicKey(pub, kid, alg)
	if err != nil {
		return nil, err
	}
	k.Use = use
	return k, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// String describes the key for logs: kid, alg and type, never key material.
func (k *PublicKey) String() string {
	if k == nil {
		return "<nil key>"
	}
	var b strings.Builder
	b.WriteString("kid=")
	b.WriteString(k.KeyID)
	if k.Algorithm != "" {
		b.WriteString(" alg=")
		b.WriteString(k.Algorithm)
	}
	fmt.Fprintf(&b, " type=%T", k.Key)
	return b.String()
}
