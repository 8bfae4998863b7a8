package core

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSessionBinding(t *testing.T) {
	t.Parallel()
	now := testNow
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	g := newGuard(t, func(c *Config) { c.Now = clock; c.SessionTTL = time.Hour; c.MaxSessions = 2 })
	sess := func(tok, sid string) error {
		_, err := g.Check(context.Background(), post(tok, toolCall("ls"), "Mcp-Session-Id", sid))
		return err
	}
	kind := func(err error) ErrorKind {
		var e *Error
		if errors.As(err, &e) {
			return e.Kind
		}
		return ""
	}
	// Sessions are bound when the server creates them (initialize), never by
	// use: an unknown id passes to the SDK (which answers 404) unbound.
	if err := sess(tokBob, "s1"); err != nil {
		t.Fatalf("unknown session id refused: %v", err)
	}
	res, err := g.Check(context.Background(), post(tokAlice, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`))
	if err != nil || !res.CreatesSession() {
		t.Fatalf("initialize: %v", err)
	}
	res.BindSession("s1")
	if err := sess(tokAlice, "s1"); err != nil {
		t.Fatalf("same principal: %v", err)
	}
	if err := sess(tokBob, "s1"); kind(err) != KindSession {
		t.Fatalf("other principal: %v", err)
	}
	if r := g.Render(sess(tokBob, "s1")); r.Status != http.StatusNotFound {
		t.Errorf("status = %d", r.Status)
	}
	// Neither allowed nor denied requests bind by use.
	if err := sess(tokBob, "s2"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Check(context.Background(), post(tokAlice, toolCall("rm"), "Mcp-Session-Id", "s3")); kind(err) != KindForbidden {
		t.Fatal(err)
	}
	if err := sess(tokBob, "s3"); err != nil {
		t.Fatalf("s3 was bound by a denied request: %v", err)
	}
	// Invalid ids are refused.
	if err := sess(tokAlice, "bad id"); kind(err) != KindMessage {
		t.Errorf("invalid id: %v", err)
	}
	// 2026-07-28 ignores the header (no sessions).
	if _, err := g.Check(context.Background(), post(tokBob, toolCall("ls"), "Mcp-Session-Id", "s1", "Mcp-Protocol-Version", "", "Mcp-Protocol-Version", "2026-07-28", "Mcp-Method", "tools/call", "Mcp-Name", "ls")); kind(err) == KindSession {
		t.Errorf("2026-07-28 request was session-checked: %v", err)
	}
	// Expiry: after the TTL a binding is forgotten.
	advance(2 * time.Hour)
	if err := sess(tokAlice, "s2"); err != nil {
		t.Errorf("expired binding still enforced: %v", err)
	}
	if n := g.sessions.len(); n > 2 {
		t.Errorf("store holds %d entries, cap 2", n)
	}
	// Disabled.
	g2 := newGuard(t, func(c *Config) { c.DisableSessionBinding = true })
	for _, tok := range []string{tokAlice, tokBob} {
		if _, err := g2.Check(context.Background(), post(tok, toolCall("ls"), "Mcp-Session-Id", "s1")); err != nil {
			t.Errorf("binding disabled: %v", err)
		}
	}
}

func TestSessionStoreEviction(t *testing.T) {
	t.Parallel()
	s := newSessionStore(time.Hour, 2)
	s.bind("a", "p1", testNow)
	s.bind("b", "p1", testNow)
	s.check("a", "p1", testNow)
	s.bind("a", "p1", testNow) // a is most recent
	s.bind("c", "p2", testNow) // evicts b
	if s.len() != 2 {
		t.Fatalf("len = %d", s.len())
	}
	if !s.check("b", "p9", testNow) {
		t.Error("b should have been evicted")
	}
	if s.check("a", "p9", testNow) || s.check("c", "p1", testNow) {
		t.Error("live bindings not enforced")
	}
	s.bind("a", "p9", testNow) // never overwrites a live binding
	if s.check("a", "p9", testNow) {
		t.Error("binding overwritten")
	}
}

func TestSessionBoundAtCreation(t *testing.T) {
	t.Parallel()
	g := newGuard(t)
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`
	res, err := g.Check(context.Background(), post(tokAlice, init))
	if err != nil || !res.CreatesSession() {
		t.Fatalf("initialize: %v, CreatesSession=%v", err, res.CreatesSession())
	}
	res.BindSession("bad id") // ignored
	res.BindSession("sess-1")
	if _, err := g.Check(context.Background(), post(tokBob, toolCall("ls"), "Mcp-Session-Id", "sess-1")); err == nil {
		t.Fatal("bob used alice's new session")
	}
	if _, err := g.Check(context.Background(), post(tokAlice, toolCall("ls"), "Mcp-Session-Id", "sess-1")); err != nil {
		t.Fatalf("alice: %v", err)
	}
	for _, r := range []*Request{
		post(tokAlice, toolCall("ls")),
		post(tokAlice, init, "Mcp-Session-Id", "sess-2"),
		post(tokAlice, strings.Replace(init, "2025-11-25", "2026-07-28", 1), "Mcp-Protocol-Version", "", "Mcp-Protocol-Version", "2026-07-28", "Mcp-Method", "initialize"),
	} {
		if res, err := g.Check(context.Background(), r); err == nil && res.CreatesSession() {
			t.Errorf("CreatesSession for %s", r.Body)
		}
	}
	g2 := newGuard(t, func(c *Config) { c.DisableSessionBinding = true })
	if res, err := g2.Check(context.Background(), post(tokAlice, init)); err != nil || res.CreatesSession() {
		t.Errorf("binding disabled: %v", err)
	}
}

// TestLastEventIDRefused: an SDK event store replays stored events, which
// were stored before list filtering; resumption is refused unless allowed.
func TestLastEventIDRefused(t *testing.T) {
	t.Parallel()
	get := func(g *Guard) error {
		req := &Request{Method: http.MethodGet, Path: "/mcp", Header: http.Header{
			"Authorization": {"Bearer " + tokAlice}, "Accept": {"text/event-stream"},
			"Mcp-Session-Id": {"s1"}, "Mcp-Protocol-Version": {"2025-11-25"}, "Last-Event-Id": {"abc_0"}}}
		_, err := g.Check(context.Background(), req)
		return err
	}
	err := get(newGuard(t))
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindMessage || newGuard(t).Render(err).Status != http.StatusBadRequest {
		t.Fatalf("Last-Event-ID accepted: %v", err)
	}
	if err := get(newGuard(t, func(c *Config) { c.AllowEventReplay = true })); err != nil {
		t.Fatalf("AllowEventReplay: %v", err)
	}
}
