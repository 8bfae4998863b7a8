package authserver_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
)

func boundClient(i int) authserver.RegisteredClient {
	return authserver.RegisteredClient{
		ID:           fmt.Sprintf("dcr-%043d", i), // as long as a generated id
		AuthMethod:   authserver.AuthNone,
		GrantTypes:   []string{authserver.GrantAuthorizationCode},
		RedirectURIs: []string{"http://127.0.0.1/cb"},
		IssuedAt:     time.Unix(1700000000, 0),
	}
}

// TestMemoryClientStoreTrackingBounded: the per-subject tracking of
// MarkUsed is bounded in bytes, whatever MaxPerSubject is. Before the
// byte bound, 256 subjects each using the same 200 clients with
// MaxPerSubject 1000 held about 3 MiB beside a 256 KiB store (about
// 48 KiB per subject at 1,000 clients each).
func TestMemoryClientStoreTrackingBounded(t *testing.T) {
	ctx := context.Background()
	const maxBytes = 256 << 10
	s, err := authserver.NewMemoryClientStore(authserver.MemoryClientStoreConfig{MaxBytes: maxBytes, MaxPerSubject: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; s.Bytes()+1024 < maxBytes; i++ {
		c := boundClient(i)
		if err := s.Register(ctx, c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	for u := range 256 {
		sub := fmt.Sprintf("user-%d", u)
		for _, id := range ids {
			// Each use names the client with its own copy of the id, as a
			// token redeemed over the network does.
			if err := s.MarkUsed(ctx, strings.Clone(id), sub); err != nil {
				t.Fatal(err)
			}
		}
	}
	grew := int64(heap()) - int64(before)
	runtime.KeepAlive(s)
	if tb := s.TrackedBytes(); tb > maxBytes || tb <= 0 {
		t.Fatalf("tracking counts %d bytes, want (0, %d]", tb, maxBytes)
	}
	// The count is conservative (it charges an id's bytes it shares with
	// the client); 64 KiB is the slack for the maps' buckets.
	if grew > maxBytes+64<<10 {
		t.Fatalf("the tracking of %d subjects × %d clients grew the heap by %d bytes, want at most %d", 256, len(ids), grew, maxBytes+64<<10)
	}
}

// TestMemoryClientStoreForgottenSubjectReleases: a subject the store no
// longer tracks protects nothing. Before, its clients stayed protected
// forever, so with enough other subjects' activity one insider could
// exceed MaxPerSubject (a new tracking started at zero).
func TestMemoryClientStoreForgottenSubjectReleases(t *testing.T) {
	ctx := context.Background()
	s, err := authserver.NewMemoryClientStore(authserver.MemoryClientStoreConfig{MaxBytes: 16 << 10, MaxPerSubject: 4})
	if err != nil {
		t.Fatal(err)
	}
	insider := []string{}
	for i := range 4 {
		c := boundClient(i)
		if err := s.Register(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkUsed(ctx, c.ID, "insider"); err != nil {
			t.Fatal(err)
		}
		insider = append(insider, c.ID)
	}
	shared := boundClient(100)
	if err := s.Register(ctx, shared); err != nil {
		t.Fatal(err)
	}
	for u := range 300 { // more subjects than the store tracks (256)
		if err := s.MarkUsed(ctx, shared.ID, fmt.Sprintf("user-%d", u)); err != nil {
			t.Fatal(err)
		}
	}
	// The insider, forgotten, starts again: four more clients protected,
	// and registrations evict the first four.
	for i := 4; i < 8; i++ {
		c := boundClient(i)
		if err := s.Register(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkUsed(ctx, c.ID, "insider"); err != nil {
			t.Fatal(err)
		}
	}
	for i := 200; i < 240; i++ {
		if err := s.Register(ctx, boundClient(i)); err != nil {
			t.Fatalf("registration %d: %v", i, err)
		}
	}
	for _, id := range insider {
		if _, err := s.Client(ctx, id); !errors.Is(err, authserver.ErrClientUnknown) {
			t.Fatalf("client %s of a forgotten subject is still protected: %v", id, err)
		}
	}
	if _, err := s.Client(ctx, shared.ID); err != nil {
		t.Fatalf("the client tracked subjects use was evicted: %v", err)
	}
}

// TestMaxPerSubjectCapped: a MaxPerSubject past
// MaxRegistrationMaxPerSubject is refused at start-up, in the store and
// in Registration.
func TestMaxPerSubjectCapped(t *testing.T) {
	for _, n := range []int{-1, authserver.MaxRegistrationMaxPerSubject + 1, 1 << 30} {
		_, err := authserver.NewMemoryClientStore(authserver.MemoryClientStoreConfig{MaxPerSubject: n})
		if !errors.Is(err, authserver.ErrInvalidConfig) || !strings.Contains(err.Error(), "max_per_subject") {
			t.Errorf("MaxPerSubject %d: %v", n, err)
		}
	}
	if _, err := authserver.NewMemoryClientStore(authserver.MemoryClientStoreConfig{MaxPerSubject: authserver.MaxRegistrationMaxPerSubject}); err != nil {
		t.Errorf("MaxPerSubject at the cap: %v", err)
	}
}
