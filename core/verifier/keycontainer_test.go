package verifier

import (
	"testing"

	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// TestKeySetsTellRemovedKeys (reviewp3): every key set the verifier builds
// itself can tell whether a cached token's key is still current. A set
// that stopped implementing keyContainer (the method was renamed from
// Contains to ContainsAt once) would silently trust cached tokens until
// the cache TTL, after the key was rotated out.
func TestKeySetsTellRemovedKeys(t *testing.T) {
	t.Parallel()
	for name, ks := range map[string]jose.KeySet{
		"static":    jose.NewStaticKeySet(),
		"remote":    new(jose.RemoteKeySet),
		"discovery": new(discoveryKeySet),
	} {
		if _, ok := ks.(keyContainer); !ok {
			t.Errorf("%s key set is not a keyContainer", name)
		}
	}
}
