package core

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`

func errKind(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

// initSession runs an initialize for tok and binds sid as the server's
// answer would.
func initSession(t *testing.T, g *Guard, tok, sid string) error {
	t.Helper()
	res, err := g.Check(context.Background(), post(tok, initBody))
	if err != nil {
		return err
	}
	if !res.CreatesSession() {
		t.Fatal("initialize does not create a session")
	}
	return res.BindSession(sid)
}

func TestSessionBinding(t *testing.T) {
	t.Parallel()
	now := testNow
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	g := newGuard(t, func(c *Config) { c.Now = clock; c.SessionTTL = time.Hour })
	sess := func(tok, sid string, hdr ...string) error {
		_, err := g.Check(context.Background(), post(tok, toolCall("ls"), append([]string{"Mcp-Session-Id", sid}, hdr...)...))
		return err
	}
	// Sessions are bound when the server creates them (initialize), never
	// by use: an unknown id is refused by the Guard, like a foreign one.
	if err := sess(tokBob, "s1"); errKind(err) != KindSession {
		t.Fatalf("unknown session id: %v", err)
	}
	if err := initSession(t, g, tokAlice, "s1"); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	if err := sess(tokAlice, "s1"); err != nil {
		t.Fatalf("same principal: %v", err)
	}
	if err := sess(tokBob, "s1"); errKind(err) != KindSession {
		t.Fatalf("other principal: %v", err)
	}
	// Foreign and unknown ids: byte-identical answers.
	foreign, unknown := g.Render(sess(tokBob, "s1")), g.Render(sess(tokBob, "s-never"))
	if foreign.Status != http.StatusNotFound || !reflect.DeepEqual(foreign, unknown) {
		t.Errorf("foreign %d %v %s != unknown %d %v %s", foreign.Status, foreign.Header, foreign.Body, unknown.Status, unknown.Header, unknown.Body)
	}
	// A denied request does not bind; invalid ids are refused.
	if _, err := g.Check(context.Background(), post(tokAlice, toolCall("rm"), "Mcp-Session-Id", "s1")); errKind(err) != KindForbidden {
		t.Fatal(err)
	}
	if err := sess(tokAlice, "bad id"); errKind(err) != KindMessage {
		t.Errorf("invalid id: %v", err)
	}
	// 2026-07-28 has no sessions, but an SDK behind the Guard may still
	// route on the header: it is checked on every version (§4).
	v26 := []string{"Mcp-Protocol-Version", "", "Mcp-Protocol-Version", "2026-07-28", "Mcp-Method", "tools/call", "Mcp-Name", "ls"}
	call26 := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"ls","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`
	for _, tc := range []struct {
		tok, sid string
		want     ErrorKind
	}{{tokBob, "s1", KindSession}, {tokBob, "s-never", KindSession}, {tokAlice, "s1", ""}} {
		_, err := g.Check(context.Background(), post(tc.tok, call26, append([]string{"Mcp-Session-Id", tc.sid}, v26...)...))
		if errKind(err) != tc.want {
			t.Errorf("2026-07-28 %s %s: %v, want %q", tc.tok, tc.sid, err, tc.want)
		}
	}
	if _, err := g.Check(context.Background(), post(tokBob, call26, v26...)); err != nil {
		t.Errorf("2026-07-28 without a session: %v", err)
	}
	// Expiry: after the TTL without use a binding is forgotten (refused).
	advance(30 * time.Minute)
	if err := sess(tokAlice, "s1"); err != nil { // touch
		t.Fatal(err)
	}
	advance(59 * time.Minute)
	if err := sess(tokAlice, "s1"); err != nil {
		t.Fatalf("touched binding expired: %v", err)
	}
	advance(61 * time.Minute)
	if err := sess(tokAlice, "s1"); errKind(err) != KindSession {
		t.Errorf("expired binding still usable: %v", err)
	}
	// Disabled.
	g2 := newGuard(t, func(c *Config) { c.DisableSessionBinding = true })
	for _, tok := range []string{tokAlice, tokBob} {
		if _, err := g2.Check(context.Background(), post(tok, toolCall("ls"), "Mcp-Session-Id", "s1")); err != nil {
			t.Errorf("binding disabled: %v", err)
		}
	}
}

// TestSessionDeleteUnbinds: an allowed DELETE ends the binding.
func TestSessionDeleteUnbinds(t *testing.T) {
	t.Parallel()
	g := newGuard(t)
	if err := initSession(t, g, tokAlice, "s1"); err != nil {
		t.Fatal(err)
	}
	del := func(tok string) error {
		r := post(tok, "", "Mcp-Session-Id", "s1")
		r.Method, r.Body = http.MethodDelete, nil
		_, err := g.Check(context.Background(), r)
		return err
	}
	if err := del(tokBob); errKind(err) != KindSession {
		t.Fatalf("bob deleted alice's session: %v", err)
	}
	if err := del(tokAlice); err != nil {
		t.Fatal(err)
	}
	if n, _ := g.sessions.store.(*MemorySessions).Stats(); n != 0 {
		t.Errorf("%d bindings after DELETE", n)
	}
	if _, err := g.Check(context.Background(), post(tokAlice, toolCall("ls"), "Mcp-Session-Id", "s1")); errKind(err) != KindSession {
		t.Errorf("deleted session still usable: %v", err)
	}
}

// TestSessionCapPerPrincipal is the figure of issue 10 §2: one principal
// sending 3,000 initialize requests holds at most the (default) cap; the rest get a
// clear JSON-RPC error (429, CodeSessionLimit, the initialize id echoed);
// no other principal's binding is evicted.
func TestSessionCapPerPrincipal(t *testing.T) {
	t.Parallel()
	const limit = DefaultMaxSessionsPerPrincipal
	for _, pre := range []bool{true, false} { // with and without the Count pre-check
		g := newGuard(t, func(c *Config) {
			if !pre {
				c.Sessions = bindOnly{mustMem(t)}
			}
		})
		if err := initSession(t, g, tokBob, "bob-1"); err != nil {
			t.Fatal(err)
		}
		bound, refused := 0, 0
		for i := range 3000 {
			err := initSession(t, g, tokAlice, fmt.Sprintf("alice-%d", i))
			switch {
			case err == nil:
				bound++
			case errKind(err) == KindSessionLimit:
				refused++
				r := g.Render(err)
				if r.Status != http.StatusTooManyRequests || !strings.Contains(string(r.Body), `"id":1`) || !strings.Contains(string(r.Body), fmt.Sprint(CodeSessionLimit)) {
					t.Fatalf("refusal: %d %s", r.Status, r.Body)
				}
			default:
				t.Fatalf("initialize %d: %v", i, err)
			}
		}
		if bound != limit || refused != 3000-limit {
			t.Errorf("pre=%v: bound %d, refused %d; want %d, %d", pre, bound, refused, limit, 3000-limit)
		}
		if _, err := g.Check(context.Background(), post(tokBob, toolCall("ls"), "Mcp-Session-Id", "bob-1")); err != nil {
			t.Errorf("bob's binding lost: %v", err)
		}
		if err := initSession(t, g, tokBob, "bob-2"); err != nil {
			t.Errorf("bob refused: %v", err)
		}
	}
}

// TestSessionBatchInitializeBound: a 2025-03-26 batch containing
// initialize creates a session, so it is bound (§4).
func TestSessionBatchInitializeBound(t *testing.T) {
	t.Parallel()
	g := newGuard(t)
	batch := `[{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"c","version":"1"}}},{"jsonrpc":"2.0","id":2,"method":"ping"}]`
	res, err := g.Check(context.Background(), post(tokAlice, batch, "Mcp-Protocol-Version", ""))
	if err != nil || !res.CreatesSession() {
		t.Fatalf("batch initialize: %v", err)
	}
	if err := res.BindSession("batch-sess"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Check(context.Background(), post(tokBob, toolCall("ls"), "Mcp-Session-Id", "batch-sess")); errKind(err) != KindSession {
		t.Errorf("bob used a batch-created session: %v", err)
	}
}

// TestSessionStoreDown: a failing store fails closed (503) for the requests
// that need it and no others.
func TestSessionStoreDown(t *testing.T) {
	t.Parallel()
	g := newGuard(t, func(c *Config) { c.Sessions = downStore{} })
	if _, err := g.Check(context.Background(), post(tokAlice, toolCall("ls"), "Mcp-Session-Id", "s1")); errKind(err) != KindUnavailable {
		t.Errorf("session request: %v", err)
	}
	if r := g.Render(func() error {
		_, err := g.Check(context.Background(), post(tokAlice, toolCall("ls"), "Mcp-Session-Id", "s1"))
		return err
	}()); r.Status != http.StatusServiceUnavailable {
		t.Errorf("status %d", r.Status)
	}
	if _, err := g.Check(context.Background(), post(tokAlice, toolCall("ls"))); err != nil {
		t.Errorf("request without a session: %v", err)
	}
	if _, err := g.Check(context.Background(), post(tokAlice, initBody)); errKind(err) != KindUnavailable {
		t.Errorf("initialize (count): %v", err)
	}
	g = newGuard(t, func(c *Config) { c.Sessions = bindOnly{downStore{}} })
	res, err := g.Check(context.Background(), post(tokAlice, initBody))
	if err != nil {
		t.Fatal(err)
	}
	if err := res.BindSession("s2"); errKind(err) != KindUnavailable {
		t.Errorf("bind: %v", err)
	}
}

func TestSessionBoundAtCreation(t *testing.T) {
	t.Parallel()
	g := newGuard(t)
	res, err := g.Check(context.Background(), post(tokAlice, initBody))
	if err != nil || !res.CreatesSession() {
		t.Fatalf("initialize: %v, CreatesSession=%v", err, res.CreatesSession())
	}
	if err := res.BindSession("bad id"); errKind(err) != KindInternal {
		t.Errorf("invalid id from the server: %v", err)
	}
	if err := res.BindSession("sess-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Check(context.Background(), post(tokBob, toolCall("ls"), "Mcp-Session-Id", "sess-1")); err == nil {
		t.Fatal("bob used alice's new session")
	}
	if _, err := g.Check(context.Background(), post(tokAlice, toolCall("ls"), "Mcp-Session-Id", "sess-1")); err != nil {
		t.Fatalf("alice: %v", err)
	}
	for _, r := range []*Request{
		post(tokAlice, toolCall("ls")),
		post(tokAlice, initBody, "Mcp-Session-Id", "sess-1"),
		post(tokAlice, strings.Replace(initBody, "2025-11-25", "2026-07-28", 1), "Mcp-Protocol-Version", "", "Mcp-Protocol-Version", "2026-07-28", "Mcp-Method", "initialize"),
	} {
		if res, err := g.Check(context.Background(), r); err == nil && res.CreatesSession() {
			t.Errorf("CreatesSession for %s", r.Body)
		}
	}
	g2 := newGuard(t, func(c *Config) { c.DisableSessionBinding = true })
	if res, err := g2.Check(context.Background(), post(tokAlice, initBody)); err != nil || res.CreatesSession() {
		t.Errorf("binding disabled: %v", err)
	}
}

func mustMem(t testing.TB) *MemorySessions {
	t.Helper()
	m, err := NewMemorySessions(MemorySessionsConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// bindOnly hides MemorySessions.Count, so only Bind enforces the cap.
type bindOnly struct{ m SessionBindings }

func (b bindOnly) Lookup(ctx context.Context, sid string) (string, error) {
	return b.m.Lookup(ctx, sid)
}
func (b bindOnly) Bind(ctx context.Context, sid, pid string, ttl time.Duration, n int) error {
	return b.m.Bind(ctx, sid, pid, ttl, n)
}
func (b bindOnly) Touch(ctx context.Context, sid, pid string, ttl time.Duration) error {
	return b.m.Touch(ctx, sid, pid, ttl)
}
func (b bindOnly) Unbind(ctx context.Context, sid, pid string) error {
	return b.m.Unbind(ctx, sid, pid)
}

// downStore is a store whose backend is unreachable.
type downStore struct{}

var errDown = fmt.Errorf("dial tcp 127.0.0.1:6379: connection refused: %w", ErrStoreUnavailable)

func (downStore) Lookup(context.Context, string) (string, error)                 { return "", errDown }
func (downStore) Bind(context.Context, string, string, time.Duration, int) error { return errDown }
func (downStore) Touch(context.Context, string, string, time.Duration) error     { return errDown }
func (downStore) Unbind(context.Context, string, string) error                   { return errDown }
func (downStore) Count(context.Context, string) (int, error)                     { return 0, errDown }

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
	g := newGuard(t, func(c *Config) { c.AllowEventReplay = true })
	if err := initSession(t, g, tokAlice, "s1"); err != nil {
		t.Fatal(err)
	}
	if err := get(g); err != nil {
		t.Fatalf("AllowEventReplay: %v", err)
	}
}

// TestBindSessionValues: every Mcp-Session-Id value of an answer is
// considered; more than one is refused only when the request creates a
// session, and one value is bound exactly as BindSession binds it.
func TestBindSessionValues(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		creates bool
		values  []string
		bound   []string
		refused bool
	}{
		{name: "none", creates: true},
		{name: "one", creates: true, values: []string{"s1"}, bound: []string{"s1"}},
		{name: "two", creates: true, values: []string{"s1", "s2"}, refused: true},
		{name: "two, no session created", values: []string{"s1", "s2"}},
		{name: "one invalid", creates: true, values: []string{"bad id"}, refused: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var bound []string
			res := &Result{}
			if tt.creates {
				res.bind = func(id string, refusal *Error) error {
					if refusal != nil {
						return refusal
					}
					bound = append(bound, id)
					return nil
				}
			}
			err := res.BindSessionValues(tt.values)
			if (err != nil) != tt.refused {
				t.Fatalf("err = %v, want refused=%t", err, tt.refused)
			}
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || e.Kind != KindInternal {
					t.Errorf("err = %#v, want a KindInternal *Error", err)
				}
			}
			if !slices.Equal(bound, tt.bound) {
				t.Errorf("bound %q, want %q", bound, tt.bound)
			}
		})
	}
}
