package authserver

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// sealer seals small JSON values with AES-256-GCM under a key shared by
// the replicas of one issuer, bound to a purpose (the additional data): a
// value sealed for one purpose never opens as another. Sealed text is
// base64url and at most max bytes.
type sealer struct {
	aead    cipher.AEAD
	purpose []byte
	max     int
}

// errSealed is wrapped by every open failure: the text is too long,
// malformed, sealed under another key or for another purpose.
var errSealed = errors.New("sealed value refused")

func newSealer(key []byte, purpose string, max int) (*sealer, error) {
	if len(key) != 32 {
		return nil, errors.New("must be 32 bytes")
	}
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(blk)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead, purpose: []byte(purpose), max: max}, nil
}

// subKey derives the 32-byte key of one purpose from the shared key
// (HKDF-SHA256), so that the shared key itself seals only what it sealed
// before (authorization codes).
func subKey(shared []byte, purpose string) ([]byte, error) {
	return hkdf.Key(sha256.New, shared, nil, purpose, 32)
}

// randomKey returns 32 random bytes.
func randomKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}

func (s *sealer) seal(v any) (string, error) {
	pt, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	ns := s.aead.NonceSize()
	nonce := make([]byte, ns, ns+len(pt)+s.aead.Overhead())
	_, _ = rand.Read(nonce)
	out := base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, pt, s.purpose))
	if len(out) > s.max {
		return "", fmt.Errorf("sealed value of %d bytes exceeds %d", len(out), s.max)
	}
	return out, nil
}

// open authenticates text and decodes it into v, keeping JSON numbers
// exact (claimSet's convention).
func (s *sealer) open(text string, v any) error {
	if len(text) > s.max {
		return fmt.Errorf("%w: too long", errSealed)
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(text) // one encoding per value
	ns := s.aead.NonceSize()
	if err != nil || len(b) < ns+s.aead.Overhead() {
		return fmt.Errorf("%w: malformed", errSealed)
	}
	pt, err := s.aead.Open(nil, b[:ns], b[ns:], s.purpose)
	if err != nil {
		return fmt.Errorf("%w: does not authenticate", errSealed)
	}
	dec := json.NewDecoder(bytes.NewReader(pt))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: malformed payload", errSealed)
	}
	return nil
}
