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
	"strings"
)

// sealer seals small JSON values with AES-256-GCM under a key ring shared
// by the replicas of one issuer, bound to a purpose (the additional data):
// a value sealed for one purpose never opens as another. The first key of
// the ring seals; every key of the ring opens what it sealed. A sealed
// value is "<key id>.<base64url(nonce || ciphertext)>", at most max bytes;
// the key id (keyID) names the ring key, so a value sealed under a key
// that is no longer in the ring is refused without trying the others.
type sealer struct {
	keys    []sealKey // keys[0] seals
	purpose []byte
	max     int
}

type sealKey struct {
	id   string
	aead cipher.AEAD
}

// ringKey is one key of the broker's code key ring, with its id.
type ringKey struct {
	id  string
	key []byte
}

// keyIDLen is the length of a key id: 6 bytes of a hash, base64url.
const keyIDLen = 8

// keyID names a shared key in sealed values: the first 6 bytes of
// SHA-256 over a purpose tag and the key, base64url. It is derived, not
// configured, so two replicas can never give one id to two keys; it tells
// nothing about the key.
func keyID(key []byte) string {
	h := sha256.New()
	h.Write([]byte("mcpauthz code key id v1\x00"))
	h.Write(key)
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:6])
}

// errSealed is wrapped by every open failure: the text is too long,
// malformed, sealed under another key or for another purpose.
var errSealed = errors.New("sealed value refused")

// errUnknownKeyID is wrapped (with errSealed) when the value names a key
// that is not in the ring: sealed before a key was removed, or forged.
var errUnknownKeyID = errors.New("unknown key id")

func newSealer(ring []ringKey, purpose string, max int) (*sealer, error) {
	if len(ring) == 0 {
		return nil, errors.New("no key")
	}
	s := &sealer{purpose: []byte(purpose), max: max}
	for _, k := range ring {
		if len(k.key) != 32 {
			return nil, errors.New("must be 32 bytes")
		}
		blk, err := aes.NewCipher(k.key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(blk)
		if err != nil {
			return nil, err
		}
		s.keys = append(s.keys, sealKey{id: k.id, aead: aead})
	}
	return s, nil
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
	k := s.keys[0]
	ns := k.aead.NonceSize()
	nonce := make([]byte, ns, ns+len(pt)+k.aead.Overhead())
	_, _ = rand.Read(nonce)
	out := k.id + "." + base64.RawURLEncoding.EncodeToString(k.aead.Seal(nonce, nonce, pt, s.purpose))
	if len(out) > s.max {
		return "", fmt.Errorf("sealed value of %d bytes exceeds %d", len(out), s.max)
	}
	return out, nil
}

// open authenticates text under the ring key it names and decodes it into
// v, keeping JSON numbers exact (claimSet's convention).
func (s *sealer) open(text string, v any) error {
	if len(text) > s.max {
		return fmt.Errorf("%w: too long", errSealed)
	}
	id, body, ok := strings.Cut(text, ".")
	if !ok || len(id) != keyIDLen {
		return fmt.Errorf("%w: malformed", errSealed)
	}
	var aead cipher.AEAD
	for _, k := range s.keys {
		if k.id == id {
			aead = k.aead
			break
		}
	}
	if aead == nil {
		return fmt.Errorf("%w: %w", errSealed, errUnknownKeyID)
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(body) // one encoding per value
	ns := aead.NonceSize()
	if err != nil || len(b) < ns+aead.Overhead() {
		return fmt.Errorf("%w: malformed", errSealed)
	}
	pt, err := aead.Open(nil, b[:ns], b[ns:], s.purpose)
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
