package core

import (
	"context"
	"net"
	"testing"
)

// TestCheckInto: CheckInto decides as Check does and fills the caller's
// Result, whatever that Result held before (here, a tools/list request's
// filter and an initialize's binding).
func TestCheckInto(t *testing.T) {
	t.Parallel()
	g := newGuard(t)
	tests := []struct {
		name string
		body string
		tok  string
	}{
		{"tool allowed", toolCall("ls"), tokAlice},
		{"tools/list filtered", toolsList, tokAlice},
		{"initialize creates a session", initBody, tokAlice},
		{"tool denied", toolCall("rm"), tokAlice},
		{"no token", toolCall("ls"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			want, werr := g.Check(ctx, post(tt.tok, tt.body))
			var stale Result // holds a filter and a binding of other requests
			for _, body := range []string{toolsList, initBody} {
				if _, err := g.CheckInto(ctx, post(tokBob, body), &stale); err != nil {
					t.Fatalf("stale request refused: %v", err)
				}
			}
			got, gerr := g.CheckInto(ctx, post(tt.tok, tt.body), &stale)
			if errKind(gerr) != errKind(werr) || (gerr == nil) != (werr == nil) {
				t.Fatalf("CheckInto error %v, Check error %v", gerr, werr)
			}
			if werr != nil {
				if got != nil {
					t.Error("result with error")
				}
				return
			}
			if got != &stale {
				t.Fatal("the Result is not the caller's")
			}
			if got.Principal.ID() != want.Principal.ID() || got.ProtocolVersion != want.ProtocolVersion ||
				got.SessionID != want.SessionID || got.NeedsFilter() != want.NeedsFilter() ||
				got.CreatesSession() != want.CreatesSession() {
				t.Errorf("CheckInto %+v, Check %+v", got, want)
			}
			if p, ok := PrincipalFromContext(got.Context(ctx)); !ok || p != got.Principal {
				t.Errorf("context principal %v, want %v", p, got.Principal)
			}
		})
	}
	if res, err := g.CheckInto(context.Background(), post(tokAlice, toolCall("ls")), nil); err != nil || res == nil {
		t.Errorf("nil Result: %v, %v", res, err)
	}
}

// TestRequestPeer: the audit event's RemoteAddr is Request.RemoteAddr, or
// Peer's String form when RemoteAddr is empty, on allowed and refused
// requests alike (a nil header included).
func TestRequestPeer(t *testing.T) {
	t.Parallel()
	mapped := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 41234} // 16-byte IPv4-mapped form
	v6 := &net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 8, Zone: "eth0"}
	tests := []struct {
		name   string
		req    *Request
		remote string
		peer   net.Addr
		want   string
	}{
		{"RemoteAddr only", post(tokAlice, toolCall("ls")), "192.0.2.9:1", nil, "192.0.2.9:1"},
		{"Peer only", post(tokAlice, toolCall("ls")), "", mapped, "192.0.2.7:41234"},
		{"Peer with a zone", post(tokAlice, toolCall("ls")), "", v6, "[fe80::1%eth0]:8"},
		{"RemoteAddr wins", post(tokAlice, toolCall("ls")), "192.0.2.9:1", mapped, "192.0.2.9:1"},
		{"neither", post(tokAlice, toolCall("ls")), "", nil, ""},
		{"refused", post(tokAlice, toolCall("rm")), "", mapped, "192.0.2.7:41234"},
		{"nil header", &Request{Method: "POST"}, "", mapped, "192.0.2.7:41234"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			g := newGuard(t, func(c *Config) { c.Audit = rec })
			tt.req.RemoteAddr, tt.req.Peer = tt.remote, tt.peer
			_, _ = g.Check(context.Background(), tt.req)
			evs := rec.events()
			if len(evs) != 1 || evs[0].RemoteAddr != tt.want {
				t.Fatalf("events %+v, want one with RemoteAddr %q", evs, tt.want)
			}
		})
	}
}
