package authserver_test

import (
	"sync"
	"testing"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/authserver/storetest"
)

// The in-memory refresh store passes the shared contract (stores/redis runs
// the same suite against Redis).
func TestMemoryRefreshStoreContract(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	stores := map[*testing.T]*authserver.MemoryRefreshStore{}
	storetest.RunRefreshStoreSuite(t, func(t *testing.T) authserver.RefreshStore {
		mu.Lock()
		defer mu.Unlock()
		if stores[t] == nil {
			stores[t] = authserver.NewMemoryRefreshStore(100)
		}
		return stores[t]
	})
}
