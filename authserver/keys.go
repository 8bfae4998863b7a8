package authserver

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"fmt"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/clip"
	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// signingKey is a validated SigningKey.
type signingKey struct {
	signer crypto.Signer
	kid    string
	alg    string
	thumb  string // RFC 7638 thumbprint of the public key (SHA-256)
}

// keyState is an immutable snapshot: the current key and the published set.
type keyState struct {
	current *signingKey
	all     []*signingKey // current first
	jwks    []byte        // the JWK Set document, public members only
}

// newSigningKey validates k and fills in its defaults.
func newSigningKey(k SigningKey) (*signingKey, error) {
	if k.Signer == nil {
		return nil, fmt.Errorf("signer is nil")
	}
	pub := k.Signer.Public()
	alg := k.Algorithm
	if alg == "" {
		alg = defaultAlgorithm(pub)
		if alg == "" {
			return nil, fmt.Errorf("unsupported key type %T", pub)
		}
	}
	if _, err := jose.NewPublicKey(pub, "", alg); err != nil {
		return nil, err
	}
	kid := k.KeyID
	if kid == "" {
		kid = jose.KeyID(pub)
	}
	if kid == "" || len(kid) > jose.MaxKeyIDLength || hasControl(kid) {
		return nil, fmt.Errorf("invalid key id %s", clip.Quote(kid, core.MaxLogField))
	}
	thumb := jose.KeyID(pub)
	if thumb == "" {
		return nil, fmt.Errorf("unsupported key type %T", pub)
	}
	return &signingKey{signer: k.Signer, kid: kid, alg: alg, thumb: thumb}, nil
}

func defaultAlgorithm(pub crypto.PublicKey) string {
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		switch p.Curve {
		case elliptic.P256():
			return jose.ES256
		case elliptic.P384():
			return jose.ES384
		case elliptic.P521():
			return jose.ES512
		}
	case *rsa.PublicKey:
		return jose.RS256
	case ed25519.PublicKey:
		return jose.EdDSA
	}
	return ""
}

// newKeyState builds the published set; kids must be unique.
func newKeyState(keys []*signingKey) (*keyState, error) {
	set := jose.JWKS{Keys: make([]jose.JWK, 0, len(keys))}
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if seen[k.kid] {
			return nil, fmt.Errorf("duplicate key id %q", k.kid)
		}
		seen[k.kid] = true
		j, err := jose.PublicJWK(k.signer.Public(), k.kid, k.alg)
		if err != nil {
			return nil, err
		}
		set.Keys = append(set.Keys, j)
	}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, err
	}
	return &keyState{current: keys[0], all: keys, jwks: b}, nil
}

// RotateSigningKey makes k the current signing key. The previous current key
// stays published in the JWK Set (so tokens it signed keep verifying until
// they expire) and any older key is dropped. Publish the new key before
// relying on it elsewhere: resource servers that cache the JWK Set pick it
// up on their next refresh for an unknown kid. It is safe to call
// concurrently with request handling.
func (s *Server) RotateSigningKey(k SigningKey) error {
	nk, err := newSigningKey(k)
	if err != nil {
		return fmt.Errorf("%w: signing key: %v", ErrInvalidConfig, err)
	}
	s.rotateMu.Lock()
	defer s.rotateMu.Unlock()
	old := s.keys.Load()
	st, err := newKeyState([]*signingKey{nk, old.current})
	if err != nil {
		return fmt.Errorf("%w: signing key: %v", ErrInvalidConfig, err)
	}
	s.keys.Store(st)
	s.log.Info("authserver: signing key rotated", "kid", nk.kid, "previous_kid", old.current.kid)
	return nil
}

// SetSigningKeys replaces the whole signing key set atomically: keys[0]
// becomes the current key and every key is published in the JWK Set. It
// accepts what Config.SigningKeys accepts. With several replicas it is the
// tool for rotating together without a restart (see docs/deployment.md):
// first publish the new key everywhere as a non-current key
// ([old, new]), then make it current everywhere ([new, old]), and drop the
// old key once the tokens it signed have expired ([new]). It is safe to
// call concurrently with request handling.
func (s *Server) SetSigningKeys(keys []SigningKey) error {
	if len(keys) == 0 {
		return fmt.Errorf("%w: signing_keys: at least one key is required", ErrInvalidConfig)
	}
	list := make([]*signingKey, 0, len(keys))
	for i, k := range keys {
		sk, err := newSigningKey(k)
		if err != nil {
			return fmt.Errorf("%w: signing_keys[%d]: %v", ErrInvalidConfig, i, err)
		}
		list = append(list, sk)
	}
	st, err := newKeyState(list)
	if err != nil {
		return fmt.Errorf("%w: signing_keys: %v", ErrInvalidConfig, err)
	}
	s.rotateMu.Lock()
	defer s.rotateMu.Unlock()
	old := s.keys.Load()
	s.keys.Store(st)
	s.log.Info("authserver: signing keys replaced", "kid", st.current.kid, "previous_kid", old.current.kid, "published", len(list))
	return nil
}
