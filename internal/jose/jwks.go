package jose

import (
	"github.com/mcpauthz/mcpauthz/internal/clip"
	"github.com/mcpauthz/mcpauthz/internal/jsonscan"

	"fmt"
	"log/slog"
)

// JWK Set limits used when KeySetOptions fields are zero.
const (
	DefaultMaxKeySetBytes = 1 << 20 // 1 MiB
	DefaultMaxKeys        = 100
)

// KeySetOptions controls [ParseJWKS].
type KeySetOptions struct {
	// Algorithms, when non-empty, drops keys whose JWK "alg" is not listed.
	// OPTIONAL; keys without "alg" are kept either way (they are pinned to
	// their type at verification).
	Algorithms []string
	// MaxBytes caps the document size. OPTIONAL; zero means 1 MiB.
	MaxBytes int
	// MaxKeys caps the number of entries in "keys"; a larger set is refused
	// whole. OPTIONAL; zero means 100.
	MaxKeys int
	// Logger receives one debug line per dropped key (kid and reason).
	// OPTIONAL; nil discards.
	Logger *slog.Logger
}

// ParseJWKS parses a JWK Set document and returns its usable verification
// keys, possibly none.
//
// The whole set is refused (error wrapping ErrInvalidKeySet) when the
// document is larger than MaxBytes, is not strict JSON, is not an object
// with a "keys" array, has more than MaxKeys entries, or when ANY entry
// carries a private or symmetric member (d, p, q, dp, dq, qi, oth, k): such a
// set is a configuration error (Wycheproof MixedKeySet).
//
// Individual keys are dropped when: kty is not RSA, EC or OKP (so "oct" is
// dropped); use is present and not "sig"; key_ops is present without
// "verify"; alg is not supported, not allowed or does not match kty/crv; the
// RSA key is outside 2048..8192 bits, has e <= 1 or even, or the ROCA
// fingerprint; the EC point is off its curve or uses another curve; or
// another usable key has the same kid (all keys with a duplicated kid are
// dropped, so that kid fails closed).
func ParseJWKS(data []byte, opts KeySetOptions) ([]*PublicKey, error) {
	maxBytes := opts.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxKeySetBytes
	}
	maxKeys := opts.MaxKeys
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	if len(data) > maxBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrInvalidKeySet, len(data), maxBytes)
	}
	doc, err := jsonscan.DecodeObject(data, jsonscan.Options{})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKeySet, err)
	}
	list, ok := doc["keys"].([]any)
	if !ok {
		return nil, fmt.Errorf("%w: no \"keys\" array", ErrInvalidKeySet)
	}
	if len(list) > maxKeys {
		return nil, fmt.Errorf("%w: %d keys, limit %d", ErrInvalidKeySet, len(list), maxKeys)
	}
	objs := make([]map[string]any, 0, len(list))
	for i, v := range list {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: keys[%d] is not an object", ErrInvalidKeySet, i)
		}
		if hasPrivate(m) {
			return nil, fmt.Errorf("%w: keys[%d] has a private or symmetric member", ErrInvalidKeySet, i)
		}
		objs = append(objs, m)
	}
	log := opts.Logger
	keys := make([]*PublicKey, 0, len(objs))
	kids := make(map[string]int, len(objs))
	for i, m := range objs {
		k, err := parseJWK(m, opts.Algorithms)
		if err != nil {
			if log != nil {
				kid, _ := m["kid"].(string)
				log.Debug("jose: JWK dropped", "index", i, "kid", clip.String(kid, 128), "reason", err.Error())
			}
			continue
		}
		keys = append(keys, k)
		if k.KeyID != "" {
			kids[k.KeyID]++
		}
	}
	out := keys[:0]
	for _, k := range keys {
		if k.KeyID != "" && kids[k.KeyID] > 1 {
			if log != nil {
				log.Debug("jose: JWK dropped", "kid", clip.String(k.KeyID, 128), "reason", "duplicate kid")
			}
			continue
		}
		out = append(out, k)
	}
	return out, nil
}
