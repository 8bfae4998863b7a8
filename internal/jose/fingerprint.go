package jose

import (
	"crypto/sha256"
	"math/big"
)

// Fingerprint identifies the signed token t independently of the one
// malleability of its signature algorithms: SHA-256 of the signing input
// (ASCII header "." payload), a zero byte and the canonical signature. For
// ES256/ES384/ES512 the canonical signature is r || min(s, n−s), since
// (r, n−s) verifies whenever (r, s) does and anyone can compute it from a
// token they hold. RS*, PS* and EdDSA signatures are canonical as sent:
// Verify refuses the other encodings of one signature (an RSA value of the
// wrong length or not below the modulus, an Ed25519 S not reduced or R not
// in canonical form), and a different valid one needs the private key.
//
// It needs no key and does not verify anything: for a token whose
// signature verifies, two tokens with the same fingerprint are the same
// signed token; a forged token (one that does not verify) never has the
// fingerprint of one that does.
func (t *Token) Fingerprint() [sha256.Size]byte {
	h := sha256.New()
	h.Write(t.signingInput)
	h.Write([]byte{0})
	sig := t.sig
	if t.alg.fam == famEC && len(sig) == 2*t.alg.size {
		n := t.alg.curve.Params().N
		s := new(big.Int).SetBytes(sig[t.alg.size:])
		if s.Sign() > 0 && s.Cmp(n) < 0 {
			if low := new(big.Int).Sub(n, s); low.Cmp(s) < 0 {
				c := make([]byte, len(sig))
				copy(c, sig[:t.alg.size])
				low.FillBytes(c[t.alg.size:])
				sig = c
			}
		}
	}
	h.Write(sig)
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// VerifyKeys verifies t with keys (at most MaxCandidates are tried, in
// order) and returns the key that verified it: the offline half of
// [VerifyToken], for a caller that obtained the keys from a KeySet before.
// Errors wrap ErrUnknownKey (no key), ErrKeyMismatch or ErrSignature.
func VerifyKeys(t *Token, keys []*PublicKey) (*PublicKey, error) {
	if len(keys) == 0 {
		return nil, ErrUnknownKey
	}
	err := ErrSignature
	for i, k := range keys {
		if i == MaxCandidates {
			break
		}
		if err = t.Verify(k); err == nil {
			return k, nil
		}
	}
	return nil, err
}
