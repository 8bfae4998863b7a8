package redisstore

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/authserver/storetest"
	"github.com/mcpauthz/mcpauthz/core"
)

// The Redis refresh store passes the contract the in-memory one passes;
// the two stores of a subtest are replicas: own client, same Redis.
func TestRefreshStoreContract(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	var mu sync.Mutex
	prefixes := map[*testing.T]string{}
	storetest.RunRefreshStoreSuite(t, func(t *testing.T) authserver.RefreshStore {
		mu.Lock()
		p, ok := prefixes[t]
		if !ok {
			p = "{rt" + strconv.Itoa(len(prefixes)) + "}:"
			prefixes[t] = p
		}
		mu.Unlock()
		s, err := NewRefreshStore(RefreshConfig{Config: Config{Client: srv.patient(t), Prefix: p}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// Families expire in Redis with their idle lifetime; Redis down fails
// closed and recovers.
func TestRefreshStoreExpiryAndOutage(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := context.Background()
	s, err := NewRefreshStore(RefreshConfig{Config: Config{Client: srv.client(t)}, IdleLifetime: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	f := authserver.RefreshFamily{ID: "f1", ClientID: "app", Subject: "alice", Created: now, LastUsed: now}
	if err := s.Save(ctx, "a0", f); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rotate(ctx, "a0", "a1", time.Now()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(450 * time.Millisecond)
	if _, err := s.Rotate(ctx, "a1", "a2", time.Now()); !errors.Is(err, authserver.ErrRefreshUnknown) {
		t.Fatalf("idle family: %v, want ErrRefreshUnknown", err)
	}
	if n, err := srv.client(t).DBSize(ctx).Result(); err != nil || n != 0 {
		t.Fatalf("%d keys left after expiry (%v)", n, err)
	}
	if err := s.Save(ctx, "b0", authserver.RefreshFamily{ID: "f2", ClientID: "app", Subject: "bob", Created: time.Now(), LastUsed: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	ops := map[string]func() error{
		"save": func() error {
			return s.Save(ctx, "c0", authserver.RefreshFamily{ID: "f3", Created: time.Now(), LastUsed: time.Now()})
		},
		"rotate": func() error { _, err := s.Rotate(ctx, "b0", "b1", time.Now()); return err },
		"peek":   func() error { _, err := s.Peek(ctx, "b0"); return err },
		"family": func() error { return s.RevokeFamily(ctx, "f2") },
		"sub":    func() error { return s.RevokeSubject(ctx, "bob", "") },
		"ready":  func() error { return s.Ready(ctx) },
	}
	for name, op := range ops {
		start := time.Now()
		if err := op(); !errors.Is(err, core.ErrStoreUnavailable) {
			t.Errorf("%s while down: %v", name, err)
		}
		if el := time.Since(start); el > 3*time.Second {
			t.Errorf("%s took %v while down", name, el)
		}
	}
	srv.Start()
	if err := s.Save(ctx, "d0", authserver.RefreshFamily{ID: "f4", Created: time.Now(), LastUsed: time.Now()}); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if _, err := s.Rotate(ctx, "d0", "d1", time.Now()); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}
