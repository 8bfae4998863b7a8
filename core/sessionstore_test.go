package core_test

import (
	"sync"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// The in-memory session store passes the shared contract (stores/redis runs
// the same suite against Redis).
func TestMemorySessionsContract(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	stores := map[*testing.T]*core.MemorySessions{}
	coretest.RunSessionStoreSuite(t, func(t *testing.T) core.SessionBindings {
		mu.Lock()
		defer mu.Unlock()
		if stores[t] == nil {
			s, err := core.NewMemorySessions(core.MemorySessionsConfig{})
			if err != nil {
				t.Fatal(err)
			}
			stores[t] = s
		}
		return stores[t]
	})
}
