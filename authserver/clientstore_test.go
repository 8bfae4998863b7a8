package authserver_test

import (
	"sync"
	"testing"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/authserver/storetest"
)

// The in-memory client and consent stores pass the shared contracts
// (stores/redis runs the same suites against Redis).
func TestMemoryClientStoreContract(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	stores := map[*testing.T]*authserver.MemoryClientStore{}
	storetest.RunClientStoreSuite(t, func(t *testing.T, b storetest.ClientStoreBounds) authserver.ClientStore {
		mu.Lock()
		defer mu.Unlock()
		if stores[t] == nil {
			s, err := authserver.NewMemoryClientStore(authserver.MemoryClientStoreConfig{MaxBytes: b.MaxBytes, IdleLifetime: b.IdleLifetime, MaxPerSubject: b.MaxPerSubject})
			if err != nil {
				t.Fatal(err)
			}
			stores[t] = s
		}
		return stores[t]
	})
}

func TestMemoryConsentStoreContract(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	stores := map[*testing.T]*authserver.MemoryConsentStore{}
	storetest.RunConsentStoreSuite(t, func(t *testing.T) authserver.ConsentStore {
		mu.Lock()
		defer mu.Unlock()
		if stores[t] == nil {
			s, err := authserver.NewMemoryConsentStore(0, 0)
			if err != nil {
				t.Fatal(err)
			}
			stores[t] = s
		}
		return stores[t]
	})
}
