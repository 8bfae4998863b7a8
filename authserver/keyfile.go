package authserver

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	gojose "github.com/go-jose/go-jose/v4"

	"github.com/mcpauthz/mcpauthz/internal/secretfile"
)

const maxKeyFileBytes = 64 << 10

// LoadSigningKey reads a private signing key from a file: PEM ("PRIVATE
// KEY" PKCS#8, "EC PRIVATE KEY" SEC 1, or "RSA PRIVATE KEY" PKCS#1) or a
// private JWK (JSON object with "d"). For a JWK, its "kid" and "alg"
// become the SigningKey's KeyID and Algorithm. Encrypted PEM is not
// supported. The key type must be ECDSA, RSA or Ed25519.
//
// The file must be readable and writable by its owner only (mode 0600 or
// 0400, after symbolic links): a key that group or others may read or
// write is refused with an error that names the file and the fix (chmod
// 600). To load a key whose access you control otherwise, read the file
// yourself and call [ParseSigningKey].
func LoadSigningKey(path string) (SigningKey, error) {
	return loadSigningKey(path, secretfile.Policy{})
}

func loadSigningKey(path string, p secretfile.Policy) (SigningKey, error) {
	data, err := secretfile.Read(path, maxKeyFileBytes, p)
	if err != nil {
		return SigningKey{}, err
	}
	return ParseSigningKey(data)
}

// ParseSigningKey is [LoadSigningKey] on the file's contents.
func ParseSigningKey(data []byte) (SigningKey, error) {
	trimmed := strings.TrimSpace(string(data))
	if strings.HasPrefix(trimmed, "{") {
		var jwk gojose.JSONWebKey
		if err := jwk.UnmarshalJSON([]byte(trimmed)); err != nil {
			return SigningKey{}, fmt.Errorf("invalid JWK: %v", err)
		}
		signer, err := asSigner(jwk.Key)
		if err != nil {
			return SigningKey{}, err
		}
		return SigningKey{Signer: signer, KeyID: jwk.KeyID, Algorithm: jwk.Algorithm}, nil
	}
	block, rest := pem.Decode(data)
	if block == nil {
		return SigningKey{}, errors.New("no PEM block or JWK found")
	}
	if strings.TrimSpace(string(rest)) != "" {
		return SigningKey{}, errors.New("unexpected data after the PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return SigningKey{}, fmt.Errorf("unsupported PEM block %q", block.Type)
	}
	if err != nil {
		return SigningKey{}, fmt.Errorf("invalid %s: %v", block.Type, err)
	}
	signer, err := asSigner(key)
	if err != nil {
		return SigningKey{}, err
	}
	return SigningKey{Signer: signer}, nil
}

func asSigner(k any) (crypto.Signer, error) {
	switch p := k.(type) {
	case *ecdsa.PrivateKey:
		return p, nil
	case *rsa.PrivateKey:
		return p, nil
	case ed25519.PrivateKey:
		return p, nil
	}
	return nil, fmt.Errorf("not a private ECDSA, RSA or Ed25519 key (%T)", k)
}
