package authserver_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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

// One user logging in again and again no longer evicts other users'
// families from the in-memory store (it used to, through the global LRU);
// a family larger than the byte cap on its own is refused.
func TestMemoryRefreshStorePerSubject(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m, err := authserver.NewLimitedMemoryRefreshStore(100, authserver.RefreshLimits{FamiliesPerSubject: 5, BytesPerSubject: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tk := func(h string) authserver.RefreshToken {
		return authserver.RefreshToken{Handle: h, Generation: 1, SecretHash: "secret-" + h}
	}
	if err := m.Save(ctx, tk("victim"), authserver.RefreshFamily{ID: "v", ClientID: "app", Subject: "alice", Created: now, LastUsed: now}); err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		f := authserver.RefreshFamily{ID: "m" + strconv.Itoa(i), ClientID: "app", Subject: "mallory", Created: now, LastUsed: now.Add(time.Duration(i))}
		if err := m.Save(ctx, tk("m"+strconv.Itoa(i)), f); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.Peek(ctx, tk("victim")); err != nil {
		t.Fatalf("another user's family was evicted: %v", err)
	}
	if m.Len() != 6 {
		t.Fatalf("%d families, want 5 of mallory and 1 of alice", m.Len())
	}
	huge := authserver.RefreshFamily{ID: "huge", Subject: "bob", Extra: map[string]any{"x": strings.Repeat("y", 5<<10)}, Created: now, LastUsed: now}
	if err := m.Save(ctx, tk("huge"), huge); !errors.Is(err, authserver.ErrRefreshFamilyTooLarge) {
		t.Fatalf("family above the byte cap: %v", err)
	}
	if _, err := authserver.NewLimitedMemoryRefreshStore(1, authserver.RefreshLimits{FamiliesPerSubject: -1}); err == nil {
		t.Fatal("negative limit accepted")
	}
}
