package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/json"
	"fmt"
	"math/big"

	"github.com/mcpauthz/mcpauthz/internal/clip"
)

// Header is the protected header [Sign] writes.
type Header struct {
	Alg string // REQUIRED: the signature algorithm, which must suit the key
	Kid string // OPTIONAL: written when non-empty
	Typ string // OPTIONAL: written when non-empty, e.g. "at+jwt"
	// Extra holds additional members, written as given (tests use it for
	// hostile headers such as crit or jku). A member named alg, kid or typ
	// replaces the field above in the output; signing still uses Alg.
	Extra map[string]any
}

// Sign returns the compact JWS base64url(header JSON) "." base64url(payload)
// "." base64url(signature). payload is signed as given (normally JSON claims
// bytes). Supported: RS256/384/512, PS256/384/512 (salt length = hash
// length), ES256/384/512 (raw r||s of twice the field size) and EdDSA. The
// key type and curve must match h.Alg.
func Sign(key crypto.Signer, h Header, payload []byte) (string, error) {
	if key == nil {
		return "", fmt.Errorf("%w: nil signer", ErrInvalidKey)
	}
	info, ok := lookupAlg(h.Alg)
	if !ok {
		return "", fmt.Errorf("%w: cannot sign with %s", ErrAlgorithm, clip.Quote(h.Alg, 64))
	}
	if !(&PublicKey{Key: key.Public()}).fits(info) {
		return "", fmt.Errorf("%w: %s with a %T key", ErrInvalidKey, h.Alg, key.Public())
	}
	members := make(map[string]any, 3+len(h.Extra))
	members["alg"] = h.Alg
	if h.Kid != "" {
		members["kid"] = h.Kid
	}
	if h.Typ != "" {
		members["typ"] = h.Typ
	}
	for k, v := range h.Extra {
		members[k] = v
	}
	hj, err := json.Marshal(members)
	if err != nil {
		return "", fmt.Errorf("jose: header: %w", err)
	}
	input := b64url.EncodeToString(hj) + "." + b64url.EncodeToString(payload)
	sig, err := signBytes(key, info, []byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + b64url.EncodeToString(sig), nil
}

// SignInput signs already-encoded signing input (header "." payload) and
// returns the raw signature, for tests that hand-craft headers or payloads.
func SignInput(key crypto.Signer, alg string, input []byte) ([]byte, error) {
	info, ok := lookupAlg(alg)
	if !ok {
		return nil, fmt.Errorf("%w: cannot sign with %s", ErrAlgorithm, clip.Quote(alg, 64))
	}
	if key == nil || !(&PublicKey{Key: key.Public()}).fits(info) {
		return nil, fmt.Errorf("%w: key does not suit %s", ErrInvalidKey, alg)
	}
	return signBytes(key, info, input)
}

func signBytes(key crypto.Signer, info algInfo, input []byte) ([]byte, error) {
	switch info.fam {
	case famEd:
		return key.Sign(rand.Reader, input, crypto.Hash(0))
	case famRSA:
		return key.Sign(rand.Reader, digest(info.hash, input), info.hash)
	case famPSS:
		return key.Sign(rand.Reader, digest(info.hash, input),
			&rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: info.hash})
	case famEC:
		der, err := key.Sign(rand.Reader, digest(info.hash, input), info.hash)
		if err != nil {
			return nil, err
		}
		var rs struct{ R, S *big.Int }
		rest, err := asn1.Unmarshal(der, &rs)
		if err != nil || len(rest) != 0 || rs.R == nil || rs.S == nil {
			return nil, fmt.Errorf("jose: ECDSA signer returned a malformed signature")
		}
		out := make([]byte, 2*info.size)
		rs.R.FillBytes(out[:info.size])
		rs.S.FillBytes(out[info.size:])
		return out, nil
	}
	return nil, fmt.Errorf("%w: unsupported", ErrAlgorithm)
}

// GenerateKey returns a new private key for alg: RSA 2048 for RS*/PS*,
// P-256/P-384/P-521 for ES256/ES384/ES512, Ed25519 for EdDSA.
func GenerateKey(alg string) (crypto.Signer, error) {
	info, ok := lookupAlg(alg)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrAlgorithm, clip.Quote(alg, 64))
	}
	switch info.fam {
	case famRSA, famPSS:
		return rsa.GenerateKey(rand.Reader, 2048)
	case famEC:
		return ecdsa.GenerateKey(info.curve, rand.Reader)
	default:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	}
}
