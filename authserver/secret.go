package authserver

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// MinSecretLength is the shortest client secret [HashSecret] accepts, in
// bytes. Client secrets are machine credentials: use at least 128 bits of
// randomness, e.g. 32 characters of base64url.
const MinSecretLength = 16

const (
	secretHashPrefix = "sha256$"
	secretSaltLen    = 16
)

// hashedSecret is a parsed "sha256$<salt>$<digest>" value.
type hashedSecret struct {
	salt   []byte
	digest [sha256.Size]byte
}

// HashSecret returns the value to store in the configuration for a client
// secret: "sha256$" + base64url(16-byte random salt) + "$" +
// base64url(SHA-256(salt || secret)). The server never stores or needs the
// secret itself. It returns an error for a secret shorter than
// MinSecretLength bytes.
//
// A salted SHA-256 (rather than a slow password hash) is deliberate: client
// secrets are high-entropy random strings, and a slow hash on the token
// endpoint would hand attackers a cheap CPU-exhaustion lever.
//
// Secrets should use only unreserved characters (A-Z a-z 0-9 - . _ ~): with
// client_secret_basic the server form-urldecodes the id and secret after
// base64 decoding (RFC 6749 §2.3.1), so a client that forgets to encode
// "%" or "+" would present a different secret.
func HashSecret(secret string) (string, error) {
	if len(secret) < MinSecretLength {
		return "", fmt.Errorf("%w: client secret shorter than %d bytes", ErrInvalidConfig, MinSecretLength)
	}
	salt := make([]byte, secretSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	d := digestSecret(salt, secret)
	enc := base64.RawURLEncoding
	return secretHashPrefix + enc.EncodeToString(salt) + "$" + enc.EncodeToString(d[:]), nil
}

func parseSecretHash(s string) (*hashedSecret, error) {
	rest, ok := strings.CutPrefix(s, secretHashPrefix)
	if !ok {
		return nil, errors.New(`secret hash must start with "sha256$" (produce it with authserver.HashSecret)`)
	}
	saltB64, digB64, ok := strings.Cut(rest, "$")
	if !ok {
		return nil, errors.New("secret hash must be sha256$<salt>$<digest>")
	}
	enc := base64.RawURLEncoding.Strict()
	salt, err := enc.DecodeString(saltB64)
	if err != nil || len(salt) < 8 {
		return nil, errors.New("secret hash has a bad salt")
	}
	dig, err := enc.DecodeString(digB64)
	if err != nil || len(dig) != sha256.Size {
		return nil, errors.New("secret hash has a bad digest")
	}
	h := &hashedSecret{salt: salt}
	copy(h.digest[:], dig)
	return h, nil
}

func digestSecret(salt []byte, secret string) [sha256.Size]byte {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(secret))
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// matches reports whether secret hashes to h, in time independent of where
// the presented secret differs and of its length relative to the original
// (both sides are fixed-size digests compared with
// subtle.ConstantTimeCompare).
func (h *hashedSecret) matches(secret string) bool {
	d := digestSecret(h.salt, secret)
	return subtle.ConstantTimeCompare(d[:], h.digest[:]) == 1
}

// newDummySecret returns a hash no secret matches in practice, used so that
// an unknown client id costs the same work as a wrong secret.
func newDummySecret() *hashedSecret {
	salt := make([]byte, secretSaltLen)
	_, _ = rand.Read(salt)
	h := &hashedSecret{salt: salt}
	_, _ = rand.Read(h.digest[:])
	return h
}
