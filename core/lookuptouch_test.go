package core

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestMemorySessionsLookupTouch: LookupTouch answers what Lookup answers and
// extends only a live binding of the principal named, never creating one.
func TestMemorySessionsLookupTouch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name      string
		sid, pid  string
		ttl       time.Duration
		after     time.Duration // clock advance before LookupTouch
		wantOwner string
		wantLeft  time.Duration // remaining life of "s1" afterwards (0: gone)
		wantN     int
	}{
		{"own binding extended", "s1", "p1", time.Hour, 30 * time.Minute, "p1", time.Hour, 1},
		{"foreign principal: not extended", "s1", "p2", time.Hour, 30 * time.Minute, "p1", 30 * time.Minute, 1},
		{"unknown id: nothing created", "s9", "p1", time.Hour, 0, "", time.Hour, 1},
		{"ttl 0: looked up only", "s1", "p1", 0, 30 * time.Minute, "p1", 30 * time.Minute, 1},
		{"expired: dropped", "s1", "p1", time.Hour, time.Hour, "", 0, 0},
		{"one nanosecond before expiry: extended", "s1", "p1", time.Hour, time.Hour - time.Nanosecond, "p1", time.Hour, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := testNow
			s, err := NewMemorySessions(MemorySessionsConfig{Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Bind(ctx, "s1", "p1", time.Hour, 0); err != nil {
				t.Fatal(err)
			}
			now = now.Add(tt.after)
			owner, err := s.LookupTouch(ctx, tt.sid, tt.pid, tt.ttl)
			if err != nil || owner != tt.wantOwner {
				t.Fatalf("LookupTouch = %q, %v; want %q", owner, err, tt.wantOwner)
			}
			n, bytes := s.Stats()
			if n != tt.wantN || bytes != int64(tt.wantN)*SessionEntryBytes("s1", "p1") {
				t.Fatalf("%d bindings, %d bytes; want %d", n, bytes, tt.wantN)
			}
			if tt.wantLeft == 0 {
				return
			}
			now = now.Add(tt.wantLeft - time.Nanosecond)
			if pid, _ := s.Lookup(ctx, "s1"); pid != "p1" {
				t.Fatalf("binding gone before %v more", tt.wantLeft)
			}
			now = now.Add(time.Nanosecond)
			if pid, _ := s.Lookup(ctx, "s1"); pid != "" {
				t.Fatalf("binding alive %v later, want it expired", tt.wantLeft)
			}
		})
	}
}

// TestSessionRulesWithLookupToucher: the binding rules hold the same with a
// store that checks and touches in one call (the default MemorySessions)
// and with one that does not: bound at creation, refused to another
// principal and when unknown, kept alive by use, dropped on DELETE (never
// by another principal's) and on expiry.
func TestSessionRulesWithLookupToucher(t *testing.T) {
	t.Parallel()
	type hidden struct{ SessionBindings } // Lookup and Touch only
	for _, merged := range []bool{true, false} {
		t.Run(map[bool]string{true: "LookupTouch", false: "Lookup+Touch"}[merged], func(t *testing.T) {
			t.Parallel()
			now := testNow
			var mu sync.Mutex
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
			mem, err := NewMemorySessions(MemorySessionsConfig{Now: clock})
			if err != nil {
				t.Fatal(err)
			}
			var store SessionBindings = mem
			if !merged {
				store = hidden{mem}
			}
			g := newGuard(t, func(c *Config) { c.Now = clock; c.SessionTTL = time.Hour; c.Sessions = store })
			if _, ok := g.sessions.touch.(*MemorySessions); ok != merged {
				t.Fatalf("store used as a SessionLookupToucher: %v", ok)
			}
			call := func(tok, sid string) error {
				_, err := g.Check(context.Background(), post(tok, toolCall("ls"), "Mcp-Session-Id", sid))
				return err
			}
			del := func(tok, sid string) error {
				r := post(tok, "", "Mcp-Session-Id", sid)
				r.Method, r.Body = http.MethodDelete, nil
				_, err := g.Check(context.Background(), r)
				return err
			}
			steps := []struct {
				name string
				wait time.Duration
				do   func() error
				want ErrorKind
			}{
				{"unknown id", 0, func() error { return call(tokAlice, "s1") }, KindSession},
				{"initialize binds", 0, func() error { return initSession(t, g, tokAlice, "s1") }, ""},
				{"owner", 0, func() error { return call(tokAlice, "s1") }, ""},
				{"other principal", 0, func() error { return call(tokBob, "s1") }, KindSession},
				{"other principal's use does not extend", 50 * time.Minute, func() error { return call(tokBob, "s1") }, KindSession},
				{"owner's use extends", 9 * time.Minute, func() error { return call(tokAlice, "s1") }, ""},
				{"alive within the extended TTL", 59 * time.Minute, func() error { return call(tokAlice, "s1") }, ""},
				{"expired after the TTL unused", time.Hour, func() error { return call(tokAlice, "s1") }, KindSession},
				{"initialize binds again", 0, func() error { return initSession(t, g, tokAlice, "s2") }, ""},
				{"DELETE by another principal", 0, func() error { return del(tokBob, "s2") }, KindSession},
				{"still the owner's", 0, func() error { return call(tokAlice, "s2") }, ""},
				{"DELETE by the owner", 0, func() error { return del(tokAlice, "s2") }, ""},
				{"dropped on DELETE", 0, func() error { return call(tokAlice, "s2") }, KindSession},
			}
			for _, s := range steps {
				advance(s.wait)
				if err := s.do(); errKind(err) != s.want {
					t.Fatalf("%s: %v, want %q", s.name, err, s.want)
				}
			}
			if n, _ := mem.Stats(); n != 0 {
				t.Errorf("%d bindings left", n)
			}
		})
	}
}
