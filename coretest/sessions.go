package coretest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/replicas"
)

// RunSessionStoreSuite runs the [core.SessionBindings] contract against
// stores made by newStore. Stores made for one *testing.T must share their
// state (replicas of one backend): the suite calls newStore twice per
// subtest and expects a binding made through one to hold on the other.
// When the store implements [core.SessionCounter], its counts are checked
// too. The suite sleeps a few hundred milliseconds for expiry.
func RunSessionStoreSuite(t *testing.T, newStore func(t *testing.T) core.SessionBindings) {
	t.Helper()
	ctx := context.Background()
	const ttl = time.Minute
	t.Run("bind lookup touch unbind", func(t *testing.T) {
		a, b := newStore(t), newStore(t)
		steps := []struct {
			name string
			do   func() error
			want error
		}{
			{"bind s1 to alice", func() error { return a.Bind(ctx, "s1", "alice", ttl, 2) }, nil},
			{"rebind s1 to alice on the other replica", func() error { return b.Bind(ctx, "s1", "alice", ttl, 2) }, nil},
			{"bind s1 to bob", func() error { return b.Bind(ctx, "s1", "bob", ttl, 2) }, core.ErrSessionBound},
			{"bind s2 to alice", func() error { return b.Bind(ctx, "s2", "alice", ttl, 2) }, nil},
			{"third session for alice", func() error { return a.Bind(ctx, "s3", "alice", ttl, 2) }, core.ErrSessionLimit},
			{"no cap", func() error { return a.Bind(ctx, "s3", "alice", ttl, 0) }, nil},
			{"bob unbinds s1 (no effect)", func() error { return b.Unbind(ctx, "s1", "bob") }, nil},
			{"bob touches s1 (no effect)", func() error { return b.Touch(ctx, "s1", "bob", ttl) }, nil},
			{"alice unbinds s3", func() error { return b.Unbind(ctx, "s3", "alice") }, nil},
		}
		for _, st := range steps {
			if err := st.do(); !errors.Is(err, st.want) {
				t.Errorf("%s: %v, want %v", st.name, err, st.want)
			}
		}
		for _, s := range []core.SessionBindings{a, b} {
			for id, want := range map[string]string{"s1": "alice", "s2": "alice", "s3": "", "nope": ""} {
				if got, err := s.Lookup(ctx, id); err != nil || got != want {
					t.Errorf("Lookup(%s) = %q, %v; want %q", id, got, err, want)
				}
			}
			if c, ok := s.(core.SessionCounter); ok {
				for pid, want := range map[string]int{"alice": 2, "bob": 0} {
					if n, err := c.Count(ctx, pid); err != nil || n != want {
						t.Errorf("Count(%s) = %d, %v; want %d", pid, n, err, want)
					}
				}
			}
		}
	})
	t.Run("expiry frees the cap", func(t *testing.T) {
		a, b := newStore(t), newStore(t)
		if err := a.Bind(ctx, "t1", "carol", 150*time.Millisecond, 1); err != nil {
			t.Fatal(err)
		}
		if err := a.Bind(ctx, "t2", "dave", 150*time.Millisecond, 1); err != nil {
			t.Fatal(err)
		}
		if err := b.Touch(ctx, "t2", "dave", time.Minute); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		if got, _ := b.Lookup(ctx, "t1"); got != "" {
			t.Fatalf("expired binding still there: %q", got)
		}
		if got, _ := b.Lookup(ctx, "t2"); got != "dave" {
			t.Fatalf("touched binding gone: %q", got)
		}
		if c, ok := b.(core.SessionCounter); ok {
			if n, err := c.Count(ctx, "carol"); err != nil || n != 0 {
				t.Fatalf("Count of an expired principal: %d, %v", n, err)
			}
		}
		if err := b.Bind(ctx, "t3", "carol", time.Minute, 1); err != nil {
			t.Fatalf("slot not freed by expiry: %v", err)
		}
	})
	t.Run("the cap holds under concurrent binds on both replicas", func(t *testing.T) {
		a, b := newStore(t), newStore(t)
		var ok atomic.Int32
		replicas.Concurrently(40, a, b, func(i int, s core.SessionBindings) {
			switch err := s.Bind(ctx, "c"+string(rune('A'+i)), "erin", ttl, 5); {
			case err == nil:
				ok.Add(1)
			case !errors.Is(err, core.ErrSessionLimit):
				t.Error(err)
			}
		})
		if ok.Load() != 5 {
			t.Fatalf("%d bindings under a cap of 5", ok.Load())
		}
		if c, isC := a.(core.SessionCounter); isC {
			if n, err := c.Count(ctx, "erin"); err != nil || n != 5 {
				t.Fatalf("Count = %d, %v; want 5", n, err)
			}
		}
	})
	t.Run("invalid ids", func(t *testing.T) {
		a := newStore(t)
		if err := a.Bind(ctx, "s9", "", ttl, 0); err == nil {
			t.Error("empty principal accepted")
		}
	})
}
