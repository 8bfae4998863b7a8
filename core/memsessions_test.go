package core

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"
)

func TestMemorySessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := testNow
	clock := func() time.Time { return now }
	entry := SessionEntryBytes("s-00", "p1")
	tests := []struct {
		name string
		cfg  MemorySessionsConfig
		run  func(t *testing.T, s *MemorySessions)
	}{
		{"never overwrites", MemorySessionsConfig{}, func(t *testing.T, s *MemorySessions) {
			if err := s.Bind(ctx, "a", "p1", time.Hour, 0); err != nil {
				t.Fatal(err)
			}
			if err := s.Bind(ctx, "a", "p2", time.Hour, 0); !errors.Is(err, ErrSessionBound) {
				t.Fatalf("rebind: %v", err)
			}
			if pid, _ := s.Lookup(ctx, "a"); pid != "p1" {
				t.Fatalf("owner %q", pid)
			}
			_ = s.Unbind(ctx, "a", "p2") // not the owner: no effect
			if pid, _ := s.Lookup(ctx, "a"); pid != "p1" {
				t.Fatal("unbound by another principal")
			}
			_ = s.Touch(ctx, "b", "p1", time.Hour) // never creates
			if n, _ := s.Stats(); n != 1 {
				t.Fatalf("%d entries", n)
			}
		}},
		{"per-principal cap", MemorySessionsConfig{}, func(t *testing.T, s *MemorySessions) {
			for i := range 3 {
				if err := s.Bind(ctx, fmt.Sprint("s", i), "p1", time.Hour, 3); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Bind(ctx, "s3", "p1", time.Hour, 3); !errors.Is(err, ErrSessionLimit) {
				t.Fatalf("past cap: %v", err)
			}
			if err := s.Bind(ctx, "q", "p2", time.Hour, 3); err != nil {
				t.Fatal(err)
			}
			_ = s.Unbind(ctx, "s0", "p1")
			if err := s.Bind(ctx, "s3", "p1", time.Hour, 3); err != nil {
				t.Fatalf("after unbind: %v", err)
			}
			if n, _ := s.Count(ctx, "p1"); n != 3 {
				t.Fatalf("count %d", n)
			}
		}},
		{"entry cap refuses, never evicts", MemorySessionsConfig{MaxEntries: 2}, func(t *testing.T, s *MemorySessions) {
			_ = s.Bind(ctx, "a", "p1", time.Hour, 0)
			_ = s.Bind(ctx, "b", "p1", time.Hour, 0)
			if err := s.Bind(ctx, "c", "p2", time.Hour, 0); !errors.Is(err, ErrStoreUnavailable) {
				t.Fatalf("full table: %v", err)
			}
			for _, id := range []string{"a", "b"} {
				if pid, _ := s.Lookup(ctx, id); pid != "p1" {
					t.Fatalf("%s evicted", id)
				}
			}
		}},
		{"byte cap", MemorySessionsConfig{MaxBytes: 2 * entry}, func(t *testing.T, s *MemorySessions) {
			_ = s.Bind(ctx, "s-00", "p1", time.Hour, 0)
			_ = s.Bind(ctx, "s-01", "p1", time.Hour, 0)
			if err := s.Bind(ctx, "s-02", "p1", time.Hour, 0); !errors.Is(err, ErrStoreUnavailable) {
				t.Fatalf("over bytes: %v", err)
			}
			if _, b := s.Stats(); b != 2*entry {
				t.Fatalf("bytes %d", b)
			}
		}},
		{"expired swept", MemorySessionsConfig{MaxEntries: 2, Now: func() time.Time { return now }}, func(t *testing.T, s *MemorySessions) {
			_ = s.Bind(ctx, "a", "p1", time.Minute, 1)
			_ = s.Bind(ctx, "b", "p2", time.Hour, 0)
			now = now.Add(2 * time.Minute)
			defer func() { now = testNow }()
			if pid, _ := s.Lookup(ctx, "a"); pid != "" {
				t.Fatal("expired binding returned")
			}
			if err := s.Bind(ctx, "c", "p1", time.Minute, 1); err != nil {
				t.Fatalf("expired binding still counted: %v", err)
			}
			if n, b := s.Stats(); n != 2 || b != SessionEntryBytes("b", "p2")+SessionEntryBytes("c", "p1") {
				t.Fatalf("stats %d %d", n, b)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.cfg.Now == nil {
				tc.cfg.Now = clock
			}
			s, err := NewMemorySessions(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			tc.run(t, s)
		})
	}
	if _, err := NewMemorySessions(MemorySessionsConfig{MaxBytes: -1}); err == nil {
		t.Error("negative cap accepted")
	}
}

// sessionStateBound is the documented bound (docs/security.md, "Sessions")
// on the heap the Guard's own session state keeps after 100,000 sessions
// were created and abandoned, with SessionTTL elapsed: the default table
// sweeps them, and Go maps are rebuilt after a burst.
const sessionStateBound = 4 << 20

// TestSessionMemoryAbandoned is issue 11 P8's deterministic figure: 100,000
// sessions created through the Guard (initialize + bind) and abandoned.
// While they live, the table is bounded by its caps; once their TTL has
// passed, one more initialize sweeps them and the retained heap falls
// under sessionStateBound.
func TestSessionMemoryAbandoned(t *testing.T) {
	t.Parallel()
	now := testNow
	g := newGuard(t, func(c *Config) {
		c.Now = func() time.Time { return now }
		c.SessionTTL = 10 * time.Minute
		c.MaxSessionsPerPrincipal = -1
	})
	mem := g.sessions.store.(*MemorySessions)
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	ctx := context.Background()
	for i := range 100_000 {
		res, err := g.Check(ctx, post(tokAlice, initBody))
		if err != nil {
			t.Fatal(err)
		}
		if err := res.BindSession(fmt.Sprintf("%032x", i)); err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
		now = now.Add(time.Millisecond) // 100 s in all
	}
	n, b := mem.Stats()
	if n != 100_000 || b > DefaultMaxSessionBytes {
		t.Fatalf("live: %d bindings, %d bytes (cap %d)", n, b, DefaultMaxSessionBytes)
	}
	live := heap() - before
	t.Logf("100,000 live bindings: %d accounted bytes, heap +%d bytes", b, live)
	if int64(live) > 2*int64(DefaultMaxSessionBytes) {
		t.Errorf("live heap +%d bytes, more than twice the accounted cap", live)
	}
	// Abandoned: the TTL passes; the next initialize sweeps.
	now = now.Add(11 * time.Minute)
	if err := initSession(t, g, tokBob, "after"); err != nil {
		t.Fatal(err)
	}
	n, b = mem.Stats()
	after := int64(heap()) - int64(before)
	t.Logf("after expiry: %d bindings, %d accounted bytes, heap %+d bytes", n, b, after)
	if n != 1 {
		t.Errorf("%d bindings left", n)
	}
	if after > sessionStateBound {
		t.Errorf("heap %+d bytes after expiry, bound %d", after, sessionStateBound)
	}
}
