package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"math/big"

	"github.com/mcpauthz/mcpauthz/internal/clip"
)

// Verify checks the signature with k. The algorithm is pinned to the key:
// k.Algorithm (when set) must equal the header alg, k.Use must be "" or
// "sig", ES256/ES384/ES512 need a P-256/P-384/P-521 key, EdDSA an Ed25519
// key, RS*/PS* an RSA key of 2048..8192 bits. ECDSA signatures must be raw
// r||s of exactly twice the field size; PSS requires a salt as long as the
// hash. Errors wrap ErrUnknownKey (nil key), ErrKeyMismatch or ErrSignature.
func (t *Token) Verify(k *PublicKey) error {
	if k == nil || k.Key == nil {
		return ErrUnknownKey
	}
	if !k.Compatible(t.Header.Alg) {
		return fmt.Errorf("%w: %s with key %s", ErrKeyMismatch, t.Header.Alg, clip.Quote(k.KeyID, 128))
	}
	if !verifySig(t.alg, k.Key, t.signingInput, t.sig) {
		return ErrSignature
	}
	if t.headers != nil {
		// The header is authentic now: parse it only once.
		t.headers.remember(t.headerSeg, t)
		t.headers, t.headerSeg = nil, ""
	}
	return nil
}

func digest(h crypto.Hash, msg []byte) []byte {
	var buf [sha512.Size]byte
	return append([]byte(nil), digestInto(&buf, h, msg)...)
}

// digestInto hashes msg into buf (no allocation) and returns the digest.
func digestInto(buf *[sha512.Size]byte, h crypto.Hash, msg []byte) []byte {
	switch h {
	case crypto.SHA256:
		d := sha256.Sum256(msg)
		return buf[:copy(buf[:], d[:])]
	case crypto.SHA384:
		d := sha512.Sum384(msg)
		return buf[:copy(buf[:], d[:])]
	case crypto.SHA512:
		*buf = sha512.Sum512(msg)
		return buf[:]
	}
	return nil
}

func verifySig(info algInfo, key crypto.PublicKey, msg, sig []byte) bool {
	switch info.fam {
	case famRSA, famPSS:
		pub, ok := key.(*rsa.PublicKey)
		if !ok || pub.N == nil || pub.N.BitLen() < MinRSABits || pub.N.BitLen() > MaxRSABits || len(sig) != pub.Size() {
			return false
		}
		if info.fam == famRSA {
			var buf [sha512.Size]byte // stays on the stack
			return rsa.VerifyPKCS1v15(pub, info.hash, digestInto(&buf, info.hash, msg), sig) == nil
		}
		var buf [sha512.Size]byte // VerifyPSS makes it escape
		opts := rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: info.hash}
		return rsa.VerifyPSS(pub, info.hash, digestInto(&buf, info.hash, msg), sig, &opts) == nil
	case famEC:
		pub, ok := key.(*ecdsa.PublicKey)
		if !ok || pub.Curve != info.curve || len(sig) != 2*info.size {
			return false
		}
		var buf [sha512.Size]byte
		r := new(big.Int).SetBytes(sig[:info.size])
		s := new(big.Int).SetBytes(sig[info.size:])
		return ecdsa.Verify(pub, digestInto(&buf, info.hash, msg), r, s)
	case famEd:
		pub, ok := key.(ed25519.PublicKey)
		if !ok || len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
			return false
		}
		return ed25519.Verify(pub, msg, sig)
	}
	return false
}
