package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"testing"
)

// TestFingerprint: the fingerprint is the same for every encoding of one
// valid signature (the ECDSA (r, n−s) twin included) and differs for any
// other token, a forged signature over the same signing input included.
func TestFingerprint(t *testing.T) {
	ec := map[string]elliptic.Curve{ES256: elliptic.P256(), ES384: elliptic.P384(), ES512: elliptic.P521()}
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signers := map[string]crypto.Signer{EdDSA: edKey, RS256: rsaKey, PS256: rsaKey}
	for alg, c := range ec {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		signers[alg] = k
	}
	for alg, signer := range signers {
		t.Run(alg, func(t *testing.T) {
			pub, err := NewPublicKey(signer.Public(), "k", alg)
			if err != nil {
				t.Fatal(err)
			}
			parse := func(raw string) *Token {
				t.Helper()
				tok, err := ParseCompact(raw, ParseOptions{Algorithms: []string{alg}})
				if err != nil {
					t.Fatal(err)
				}
				return tok
			}
			raw, err := Sign(signer, Header{Alg: alg, Kid: "k"}, []byte(`{"jti":"a"}`))
			if err != nil {
				t.Fatal(err)
			}
			tok := parse(raw)
			if _, err := VerifyKeys(tok, []*PublicKey{pub}); err != nil {
				t.Fatal(err)
			}
			fp := tok.Fingerprint()
			if again := parse(raw).Fingerprint(); again != fp {
				t.Fatal("the same token has two fingerprints")
			}
			dot := strings.LastIndexByte(raw, '.')
			sig, _ := base64.RawURLEncoding.DecodeString(raw[dot+1:])
			// a forged signature over the same signing input
			bad := append([]byte(nil), sig...)
			bad[len(bad)/2] ^= 1
			forged := parse(raw[:dot+1] + base64.RawURLEncoding.EncodeToString(bad))
			if _, err := VerifyKeys(forged, []*PublicKey{pub}); !errors.Is(err, ErrSignature) {
				t.Fatalf("forged token: %v", err)
			}
			if forged.Fingerprint() == fp {
				t.Fatal("a forged signature has the valid token's fingerprint")
			}
			// another token with the same claims (ECDSA, PSS: another signature)
			raw2, _ := Sign(signer, Header{Alg: alg, Kid: "k"}, []byte(`{"jti":"a","x":1}`))
			if parse(raw2).Fingerprint() == fp {
				t.Fatal("another token has the same fingerprint")
			}
			c, isEC := ec[alg]
			if !isEC {
				return
			}
			// the twin (r, n−s) verifies and has the same fingerprint
			size := len(sig) / 2
			s := new(big.Int).SetBytes(sig[size:])
			twin := append([]byte(nil), sig...)
			new(big.Int).Sub(c.Params().N, s).FillBytes(twin[size:])
			tw := parse(raw[:dot+1] + base64.RawURLEncoding.EncodeToString(twin))
			if _, err := VerifyKeys(tw, []*PublicKey{pub}); err != nil {
				t.Fatalf("the (r, n-s) twin does not verify: %v", err)
			}
			if tw.Fingerprint() != fp {
				t.Fatal("the (r, n-s) twin has another fingerprint")
			}
		})
	}
}

func TestVerifyKeysNoKey(t *testing.T) {
	if _, err := VerifyKeys(&Token{}, nil); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("got %v", err)
	}
}
