package verifier

import (
	"context"
	"testing"
	"time"

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

// TestDiscoveryHitTakesNoLock: once discovery resolved, a cached token's
// key check (ContainsSince, on every cache hit) and Keys do not take the
// discovery set's mutex, which guards discovery itself: while it is held
// (here by the test, as by a discovery under way) they still answer.
func TestDiscoveryHitTakesNoLock(t *testing.T) {
	t.Parallel()
	p := newIDP(t, "/nolock")
	k := key(t, jose.ES256, "idp")
	p.setJWKS(jwksOf(t, k, "k1", jose.ES256))
	urls, err := discoveryURLs(p.issuer)
	if err != nil {
		t.Fatal(err)
	}
	d := newDiscoveryKeySet(p.issuer, urls, p.srv.Client(), jose.RemoteKeySetConfig{HTTPClient: p.srv.Client()})
	ctx := context.Background()
	keys, err := d.Keys(ctx, "k1", jose.ES256)
	if err != nil || len(keys) != 1 {
		t.Fatalf("Keys: %v %v", keys, err)
	}
	other, err := jose.NewPublicKey(key(t, jose.ES256, "other").Public(), "k1", jose.ES256)
	if err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	type answer struct {
		in, out bool
		err     error
	}
	done := make(chan answer, 1)
	go func() {
		now := time.Now()
		_, err := d.Keys(ctx, "k1", jose.ES256)
		done <- answer{d.ContainsSince(keys[0], now, time.Millisecond), d.ContainsSince(other, now, 0), err}
	}()
	select {
	case a := <-done:
		if !a.in || a.out || a.err != nil {
			t.Fatalf("with the lock held: Contains(key) %v, Contains(other key) %v, Keys %v; want true, false, nil", a.in, a.out, a.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the key check of a resolved discovery set waited for its mutex")
	}
}
