package jose

import (
	"context"
	"fmt"

	"github.com/mcpauthz/mcpauthz/internal/clip"
)

// MaxCandidates is how many keys are tried for a token without "kid".
const MaxCandidates = 4

// KeySet yields the verification keys that may check a token. Keys returns
// the keys with the given kid that are compatible with alg or, when kid is
// "", at most MaxCandidates keys compatible with alg. No key is an error
// wrapping ErrUnknownKey; a key set that cannot be obtained is an error
// wrapping ErrUnavailable. Implementations are safe for concurrent use.
type KeySet interface {
	Keys(ctx context.Context, kid, alg string) ([]*PublicKey, error)
}

// StaticKeySet is a fixed KeySet.
type StaticKeySet struct {
	all   []*PublicKey
	byKid map[string][]*PublicKey
}

// NewStaticKeySet returns a KeySet over keys (nil entries are ignored).
func NewStaticKeySet(keys ...*PublicKey) KeySet {
	return newIndex(keys)
}

func newIndex(keys []*PublicKey) *StaticKeySet {
	s := &StaticKeySet{byKid: make(map[string][]*PublicKey, len(keys))}
	for _, k := range keys {
		if k == nil {
			continue
		}
		s.all = append(s.all, k)
		if k.KeyID != "" {
			s.byKid[k.KeyID] = append(s.byKid[k.KeyID], k)
		}
	}
	return s
}

// Keys implements KeySet.
func (s *StaticKeySet) Keys(_ context.Context, kid, alg string) ([]*PublicKey, error) {
	if ks, err := s.lookup(kid, alg); ks != nil || err != nil {
		return ks, err
	}
	return nil, fmt.Errorf("%w: kid %s", ErrUnknownKey, clip.Quote(kid, 128))
}

// lookup returns (nil, nil) when nothing matches.
func (s *StaticKeySet) lookup(kid, alg string) ([]*PublicKey, error) {
	var src []*PublicKey
	if kid != "" {
		src = s.byKid[kid]
	} else {
		src = s.all
	}
	var out []*PublicKey
	for _, k := range src {
		if k.Compatible(alg) {
			if len(src) == 1 {
				return src, nil // common case: no allocation
			}
			out = append(out, k)
			if len(out) == MaxCandidates {
				break
			}
		}
	}
	if kid != "" && len(src) > 0 && out == nil {
		return nil, fmt.Errorf("%w: key %s cannot verify %s", ErrKeyMismatch, clip.Quote(kid, 128), alg)
	}
	return out, nil
}

// VerifyToken verifies t with the keys ks yields for its kid and alg and
// returns the key that verified it. Errors wrap ErrUnknownKey,
// ErrKeyMismatch, ErrSignature or ErrUnavailable.
func VerifyToken(ctx context.Context, t *Token, ks KeySet) (*PublicKey, error) {
	if ks == nil {
		return nil, fmt.Errorf("%w: no key set", ErrUnavailable)
	}
	keys, err := ks.Keys(ctx, t.Header.Kid, t.Header.Alg)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: kid %s", ErrUnknownKey, clip.Quote(t.Header.Kid, 128))
	}
	err = ErrSignature
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
