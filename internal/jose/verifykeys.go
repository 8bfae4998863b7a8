package jose

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
