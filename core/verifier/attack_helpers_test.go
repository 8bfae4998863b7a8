package verifier

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"testing"
)

func hmacToken(header, payload string, k []byte) string {
	input := b64([]byte(header)) + "." + b64([]byte(payload))
	m := hmac.New(sha256.New, k)
	m.Write([]byte(input))
	return input + "." + b64(m.Sum(nil))
}

// derES256 signs with an ASN.1 DER signature instead of raw r||s.
func derES256(t *testing.T, k crypto.Signer, header, payload string) string {
	t.Helper()
	input := b64([]byte(header)) + "." + b64([]byte(payload))
	d := sha256.Sum256([]byte(input))
	sig, err := ecdsa.SignASN1(rand.Reader, k.(*ecdsa.PrivateKey), d[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

// weakRSA returns a 1024-bit RSA public JWK as JSON (built by hand, since
// jose refuses to label it).
func weakRSA(t *testing.T) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	j := map[string]string{"kty": "RSA", "kid": "weak", "n": b64(k.N.Bytes()), "e": "AQAB"}
	b, _ := json.Marshal(j)
	return string(b)
}
