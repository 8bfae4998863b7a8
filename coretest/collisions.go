package coretest

import (
	"net/http"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
)

// testHeaderCollisions: headers that appear twice, inbound or set both by
// the MCP server and by the Guard's session binding, are refused the same
// way on every adapter, before (or instead of) the handler's answer, and
// every refusal carries exactly one Content-Type and at most one
// WWW-Authenticate value (the Guard's own, never appended to another).
func testHeaderCollisions(t *testing.T, e *env) {
	alice := e.token("alice")
	init := initRequest()
	oneToken := &core.Error{Kind: core.KindInvalidRequest, Description: "send exactly one bearer token, in the Authorization header"}
	for _, c := range []struct {
		name   string
		body   string
		query  string
		hdr    []string
		status int
		code   int         // JSON-RPC error code of the refusal (0: not JSON-RPC)
		auth   *core.Error // the exact refusal, WWW-Authenticate included
		called bool        // the handler runs (and its answer is replaced)
	}{
		{name: "two Authorization headers", body: toolCall("ls"), hdr: []string{"Authorization", "Bearer " + alice},
			status: http.StatusBadRequest, auth: oneToken},
		{name: "Authorization header and access_token query", body: toolCall("ls"), query: "access_token=" + alice,
			status: http.StatusBadRequest, auth: oneToken},
		{name: "two Mcp-Session-Id headers", body: toolCall("ls"), hdr: []string{"Mcp-Session-Id", "a1", "Mcp-Session-Id", "b2"},
			status: http.StatusBadRequest, code: -32600},
		{name: "two MCP-Protocol-Version headers", body: toolCall("ls"), hdr: []string{"MCP-Protocol-Version", "2025-11-25"},
			status: http.StatusBadRequest, code: -32020},
		{name: "two Content-Type headers", body: toolCall("ls"), hdr: []string{"Content-Type", "application/json"},
			status: http.StatusUnsupportedMediaType},
		{name: "two Mcp-Method headers", body: toolCall("ls"), hdr: []string{"Mcp-Method", "tools/call", "Mcp-Method", "tools/call"},
			status: http.StatusBadRequest, code: -32020},
		{name: "two Mcp-Name headers", body: toolCall("ls"), hdr: []string{"Mcp-Name", "ls", "Mcp-Name", "ls"},
			status: http.StatusBadRequest, code: -32020},
		{name: "server answers two Mcp-Session-Id values", body: init, hdr: []string{HeaderAddSessionID, "forged-session"},
			status: http.StatusInternalServerError, called: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			n0, _, _, _ := e.spy.Snapshot()
			r := e.doQuery(http.MethodPost, c.query, alice, []byte(c.body), c.hdr...)
			if c.auth != nil {
				wantChallenge(t, e, r, c.status, c.auth)
			} else if r.status != c.status {
				t.Fatalf("status = %d, want %d; body %s", r.status, c.status, r.body)
			}
			if c.code != 0 {
				if m := r.message(t); m.Error == nil || m.Error.Code != c.code {
					t.Errorf("body = %s, want JSON-RPC error %d", r.body, c.code)
				}
			}
			if ct := r.header.Values("Content-Type"); len(ct) != 1 || ct[0] != "application/json" {
				t.Errorf("Content-Type = %q, want exactly [application/json]", ct)
			}
			if wa := r.header.Values("WWW-Authenticate"); len(wa) > 1 {
				t.Errorf("WWW-Authenticate = %q: more than one value", wa)
			}
			if sid := r.header.Values("Mcp-Session-Id"); len(sid) > 0 {
				t.Errorf("refusal carries Mcp-Session-Id %q", sid)
			}
			if n, _, _, _ := e.spy.Snapshot(); (n != n0) != c.called {
				t.Errorf("handler calls %d → %d, want called=%t", n0, n, c.called)
			}
		})
	}
	// Neither value of the colliding answer was bound: a second principal
	// presenting the forged one is refused like any unknown session, and the
	// Guard never pretends the session is alice's.
	r := e.post(e.token("bob"), toolCall("ls"), "Mcp-Session-Id", "forged-session")
	if r.status == http.StatusOK {
		t.Errorf("bob with the forged session id: %d %s", r.status, r.body)
	}
}
