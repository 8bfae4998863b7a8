package coretest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
)

// RunAdapterSuite runs the black-box conformance suite every adapter must
// pass: exact challenges and metadata, allow/deny per tool, resource and
// prompt against a real go-sdk MCP server, list filtering in JSON and SSE
// modes, byte-exact body restore, 413, 2026-07-28 header mismatch,
// principal propagation, metadata under a mounted prefix, routes that must
// never reach the handler unauthenticated, legacy session binding, and
// header collisions (repeated inbound headers, a server answer with two
// Mcp-Session-Id values).
func RunAdapterSuite(t *testing.T, h Harness) {
	idp := NewIdP(t)
	t.Run("Challenges", func(t *testing.T) {
		testChallenges(t, newEnv(t, h, idp, envConfig{stateless: true, jsonResponse: true}))
	})
	t.Run("Metadata", func(t *testing.T) { testMetadata(t, newEnv(t, h, idp, envConfig{stateless: true, jsonResponse: true})) })
	t.Run("MetadataUnderPrefix", func(t *testing.T) {
		testMetadataPrefix(t, newEnv(t, h, idp, envConfig{prefix: "/api/v1", stateless: true, jsonResponse: true}))
	})
	t.Run("Decisions", func(t *testing.T) {
		testDecisions(t, newEnv(t, h, idp, envConfig{stateless: true, jsonResponse: true}))
	})
	t.Run("DecisionsUnderPrefix", func(t *testing.T) {
		testDecisions(t, newEnv(t, h, idp, envConfig{prefix: "/api/v1", stateless: true, jsonResponse: true}))
	})
	t.Run("ListFilterJSON", func(t *testing.T) { testLists(t, newEnv(t, h, idp, envConfig{stateless: true, jsonResponse: true})) })
	t.Run("ListFilterSSE", func(t *testing.T) { testLists(t, newEnv(t, h, idp, envConfig{stateless: true})) })
	t.Run("BodyRestore", func(t *testing.T) {
		testBodyRestore(t, newEnv(t, h, idp, envConfig{stateless: true, jsonResponse: true}))
	})
	t.Run("BodyTooLarge", func(t *testing.T) {
		testTooLarge(t, newEnv(t, h, idp, envConfig{stateless: true, jsonResponse: true, maxBody: 4096}))
	})
	t.Run("HeaderMismatch", func(t *testing.T) {
		testHeaderMismatch(t, newEnv(t, h, idp, envConfig{stateless: true, jsonResponse: true}))
	})
	t.Run("Unauthenticated", func(t *testing.T) { testUnauthenticated(t, newEnv(t, h, idp, envConfig{})) })
	t.Run("SessionBinding", func(t *testing.T) { testSessions(t, newEnv(t, h, idp, envConfig{})) })
	t.Run("SessionCap", func(t *testing.T) { testSessionCap(t, newEnv(t, h, idp, envConfig{maxSessions: 2})) })
	t.Run("StatefulGETStream", func(t *testing.T) { testGETStream(t, newEnv(t, h, idp, envConfig{})) })
	t.Run("SessionBoundAtCreation", func(t *testing.T) {
		testSessionAtCreation(t, newEnv(t, h, idp, envConfig{jsonResponse: true}))
	})
	t.Run("HeaderCollisions", func(t *testing.T) {
		testHeaderCollisions(t, newEnv(t, h, idp, envConfig{jsonResponse: true}))
	})
	t.Run("SmallIdleBodies", func(t *testing.T) {
		testSmallIdleBodies(t, h, newEnv(t, h, idp, envConfig{stateless: true, jsonResponse: true}))
	})
	t.Run("IdleBodiesUnauthenticated", func(t *testing.T) {
		testIdleBodies(t, h, newEnv(t, h, idp, envConfig{stateless: true, jsonResponse: true}))
	})
}

// BodyPrereader is implemented by a Harness whose server reads the first
// bytes of a declared body before any handler runs (fasthttp with
// StreamRequestBody reads up to 8 KiB): the idle-body flood then sends that
// many bytes before going idle, and everything else is asserted alike.
type BodyPrereader interface {
	PrereadBytes() int
}

// testIdleBodies: 300 connections, each declaring a 1 MiB body without a
// valid token and then sending nothing, get an immediate 401 and cost
// less than 10 MiB in total (issue 10 §2): the token is verified before
// the body is read, and no buffer is sized from Content-Length.
func testIdleBodies(t *testing.T, h Harness, e *env) {
	prefix := 0
	if p, ok := h.(BodyPrereader); ok {
		prefix = p.PrereadBytes()
	}
	n0, _, _, _ := e.spy.Snapshot()
	for _, auth := range []string{"", "Bearer not-a-jwt", "Bearer " + e.idp.ExpiredToken(e.resource, "alice")} {
		f := IdleBodyFlood{Conns: 300, Declared: 1 << 20, Authorization: auth, Prefix: prefix, Wait: 20 * time.Second}
		r := f.Run(t, e.base+e.g.ResourcePath())
		t.Logf("idle-body flood, Authorization %.12q: %v", auth, r)
		if r.Statuses[http.StatusUnauthorized] != f.Conns {
			t.Errorf("statuses %v, want %d × 401", r.Statuses, f.Conns)
		}
		if r.HeapGrowth >= 10<<20 || r.AllocGrowth >= 10<<20 {
			t.Errorf("flood cost %v: want < 10 MiB", r)
		}
	}
	e.wantNotCalled(t, n0)
}

// wantChallenge compares the WWW-Authenticate header of r with the one
// Guard.Render produces for want, exactly.
func wantChallenge(t *testing.T, e *env, r reply, status int, want *core.Error) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	exp := e.g.Render(want)
	if got, w := r.header.Values("WWW-Authenticate"), exp.Header.Values("WWW-Authenticate"); !slices.Equal(got, w) {
		t.Errorf("WWW-Authenticate = %q, want %q", got, w)
	}
	if !bytes.Equal(r.body, exp.Body) {
		t.Errorf("body = %s, want %s", r.body, exp.Body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
}

func (e *env) wantNotCalled(t *testing.T, before int) {
	t.Helper()
	if n, _, _, _ := e.spy.Snapshot(); n != before {
		t.Errorf("the MCP handler was called (%d calls, had %d)", n, before)
	}
}

func testChallenges(t *testing.T, e *env) {
	n0, _, _, _ := e.spy.Snapshot()
	wantChallenge(t, e, e.post("", toolCall("ls")), 401, &core.Error{Kind: core.KindNoToken})
	wantChallenge(t, e, e.post("", toolCall("ls"), "Authorization", "Basic YTpi"), 401, &core.Error{Kind: core.KindNoToken})
	wantChallenge(t, e, e.post(e.idp.ExpiredToken(e.resource, "alice"), toolCall("ls")), 401,
		&core.Error{Kind: core.KindInvalidToken, Description: "token expired"})
	wantChallenge(t, e, e.post(e.idp.WrongAudienceToken("alice"), toolCall("ls")), 401,
		&core.Error{Kind: core.KindInvalidToken, Description: "audience mismatch"})
	wantChallenge(t, e, e.post(e.idp.WrongIssuerToken(e.resource, "alice"), toolCall("ls")), 401,
		&core.Error{Kind: core.KindInvalidToken, Description: "untrusted issuer"})
	wantChallenge(t, e, e.post("not-a-jwt", toolCall("ls")), 401,
		&core.Error{Kind: core.KindInvalidToken, Description: "malformed token"})
	bad := &core.Error{Kind: core.KindInvalidRequest, Description: "send exactly one bearer token, in the Authorization header"}
	tok := e.token("alice")
	wantChallenge(t, e, e.post(tok, toolCall("ls"), "Authorization", "Bearer "+tok), 400, bad)
	wantChallenge(t, e, e.post("", toolCall("ls"), "Authorization", "Bearer"), 400, bad)
	req, _ := http.NewRequest(http.MethodPost, e.base+e.g.ResourcePath()+"?access_token="+tok, strings.NewReader(toolCall("ls")))
	req.Header.Set("Content-Type", "application/json")
	wantChallenge(t, e, e.send(req), 400, bad)
	e.wantNotCalled(t, n0)

	r := e.post(e.token("alice"), toolCall("deploy"))
	if r.status != 403 {
		t.Fatalf("deploy without scope: %d %s", r.status, r.body)
	}
	p, err := core.ParseChallenge(r.header.Get("WWW-Authenticate"))
	if err != nil || p["error"] != "insufficient_scope" || p["scope"] != "mcp:tools "+DeployScope || p["resource_metadata"] != e.g.MetadataURL() {
		t.Errorf("step-up challenge = %q (%v)", r.header.Get("WWW-Authenticate"), err)
	}
	if m := r.message(t); m.Error == nil || m.Error.Code != core.DefaultDenyCode || string(m.ID) != "1" {
		t.Errorf("step-up body = %s", r.body)
	}
	e.wantNotCalled(t, n0)
	req, _ = http.NewRequest(http.MethodPost, e.base+e.g.ResourcePath(), strings.NewReader(toolCall("ls")))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "bearer "+e.token("alice"))
	if r := e.send(req); r.status != 200 {
		t.Errorf("lowercase bearer: %d %s", r.status, r.body)
	}
}

func testMetadata(t *testing.T, e *env) {
	for _, p := range e.g.MetadataPaths() {
		r := e.send(mustRequest(t, http.MethodGet, e.base+p))
		if r.status != 200 || !bytes.Equal(r.body, e.g.MetadataJSON()) {
			t.Errorf("GET %s = %d %s", p, r.status, r.body)
		}
		if r.header.Get("Access-Control-Allow-Origin") != "*" || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Errorf("GET %s headers: %v", p, r.header)
		}
		req := mustRequest(t, http.MethodGet, e.base+p)
		req.Host = "evil.example"
		req.Header.Set("X-Forwarded-Host", "evil.example")
		if r2 := e.send(req); !bytes.Equal(r2.body, r.body) {
			t.Errorf("spoofed Host changed the metadata: %s", r2.body)
		}
	}
	var doc map[string]any
	if err := json.Unmarshal(e.g.MetadataJSON(), &doc); err != nil || doc["resource"] != e.resource {
		t.Errorf("metadata resource = %v (%v)", doc["resource"], err)
	}
}

func testMetadataPrefix(t *testing.T, e *env) {
	if want := "/.well-known/oauth-protected-resource/api/v1/mcp"; e.g.MetadataPath() != want {
		t.Fatalf("MetadataPath = %q, want %q", e.g.MetadataPath(), want)
	}
	testMetadata(t, e)
	r := e.send(mustRequest(t, http.MethodGet, e.base+"/api/v1"+e.g.MetadataPath()))
	if r.status == 200 && bytes.Equal(r.body, e.g.MetadataJSON()) {
		t.Error("metadata is (also) served under the mount prefix")
	}
	if r := e.post(e.token("alice"), toolCall("ls")); r.status != 200 {
		t.Errorf("tools/call under prefix = %d %s", r.status, r.body)
	}
}

func testDecisions(t *testing.T, e *env) {
	tests := []struct {
		name, sub, body string
		scopes          []string
		status          int
		executed        string // "" = nothing executed
	}{
		{"tool allowed", "alice", toolCall("ls"), nil, 200, "tool:ls"},
		{"tool denied", "alice", toolCall("rm"), nil, 403, ""},
		{"tool needs scope", "alice", toolCall("deploy"), nil, 403, ""},
		{"tool with scope", "alice", toolCall("deploy"), []string{"mcp:tools", DeployScope}, 200, "tool:deploy"},
		{"resource allowed", "alice", call("resources/read", `{"uri":"`+PublicResource+`"}`), nil, 200, "resource:" + PublicResource},
		{"resource denied", "alice", call("resources/read", `{"uri":"`+SecretResource+`"}`), nil, 403, ""},
		{"prompt allowed", "alice", call("prompts/get", `{"name":"greet"}`), nil, 200, "prompt:greet"},
		{"prompt denied", "alice", call("prompts/get", `{"name":"admin"}`), nil, 403, ""},
		{"blocked subject", "mallory", toolCall("ls"), nil, 403, ""},
		{"case-variant smuggling", "alice", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls","NAME":"rm","arguments":{}}}`, nil, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, before := e.spy.Snapshot()
			r := e.post(e.token(tt.sub, tt.scopes...), tt.body)
			if r.status != tt.status {
				t.Fatalf("status = %d, want %d; body %s", r.status, tt.status, r.body)
			}
			_, _, sub, after := e.spy.Snapshot()
			newOps := after[len(before):]
			if tt.executed == "" {
				if len(newOps) != 0 {
					t.Errorf("executed %q", newOps)
				}
				m := r.message(t)
				if m.Error == nil || (tt.status == 403 && string(m.ID) != "1") {
					t.Errorf("refusal body = %s", r.body)
				}
				if tt.status == 403 && tt.name != "tool needs scope" && r.header.Get("WWW-Authenticate") != "" {
					t.Errorf("pure denial carries a challenge: %q", r.header.Get("WWW-Authenticate"))
				}
				return
			}
			if !slices.Equal(newOps, []string{tt.executed}) {
				t.Errorf("executed %q, want %q", newOps, tt.executed)
			}
			if m := r.message(t); m.Error != nil || len(m.Result) == 0 {
				t.Errorf("result = %s", r.body)
			}
			if sub != tt.sub {
				t.Errorf("handler saw principal %q, want %q", sub, tt.sub)
			}
		})
	}
}

func testLists(t *testing.T, e *env) {
	tok := e.token("alice")
	tests := []struct {
		method, member, key string
		want                []string
	}{
		{"tools/list", "tools", "name", []string{"deploy", "echo", "ls"}},
		{"prompts/list", "prompts", "name", []string{"greet"}},
		{"resources/list", "resources", "uri", []string{PublicResource}},
	}
	for _, tt := range tests {
		r := e.post(tok, call(tt.method, `{}`))
		if r.status != 200 {
			t.Fatalf("%s: %d %s", tt.method, r.status, r.body)
		}
		m := r.message(t)
		if m.Error != nil {
			t.Fatalf("%s: error %s", tt.method, r.body)
		}
		got := names(t, m.Result, tt.member, tt.key)
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: visible %q, want %q", tt.method, got, tt.want)
		}
	}
	r := e.post(e.token("mallory"), call("tools/list", `{}`))
	if r.status != 403 {
		t.Errorf("tools/list for a blocked subject = %d", r.status)
	}
}

func testBodyRestore(t *testing.T, e *env) {
	bodies := []string{
		toolCall("ls"),
		" \n{\"jsonrpc\" : \"2.0\",\"id\":\"a\\u0062\",\"method\":\"tools/call\",\"params\":{\"name\":\"l\\u0073\",\"arguments\":{\"x\":\"é\\n\",\"n\":1.50e3}}}\r\n\t",
	}
	for _, b := range bodies {
		r := e.post(e.token("alice"), b)
		if r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		if _, got, _, _ := e.spy.Snapshot(); !bytes.Equal(got, []byte(b)) {
			t.Errorf("handler body = %q, want %q", got, b)
		}
	}
}

func testTooLarge(t *testing.T, e *env) {
	big := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls","arguments":{"pad":"` + strings.Repeat("x", 8192) + `"}}}`
	n0, _, _, _ := e.spy.Snapshot()
	tok := e.token("alice")
	if r := e.post(tok, big); r.status != 413 {
		t.Errorf("oversized body = %d %s", r.status, r.body)
	}
	req, _ := http.NewRequest(http.MethodPost, e.base+e.g.ResourcePath(), io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1 // chunked
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	if r := e.send(req); r.status != 413 {
		t.Errorf("oversized chunked body = %d %s", r.status, r.body)
	}
	if r := e.post("", big); r.status != 401 {
		t.Errorf("oversized body without token = %d (authentication comes first)", r.status)
	}
	e.wantNotCalled(t, n0)
	if r := e.post(tok, toolCall("ls")); r.status != 200 {
		t.Errorf("small body after limit = %d %s", r.status, r.body)
	}
}

func testHeaderMismatch(t *testing.T, e *env) {
	n0, _, _, _ := e.spy.Snapshot()
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`
	r := e.post(e.token("alice"), body, "MCP-Protocol-Version", "", "MCP-Protocol-Version", "2026-07-28", "Mcp-Method", "tools/call", "Mcp-Name", "rm")
	if r.status != 400 {
		t.Fatalf("status = %d; body %s", r.status, r.body)
	}
	if m := r.message(t); m.Error == nil || m.Error.Code != -32020 {
		t.Errorf("body = %s", r.body)
	}
	e.wantNotCalled(t, n0)
}

func testUnauthenticated(t *testing.T, e *env) {
	n0, _, _, _ := e.spy.Snapshot()
	for _, m := range []string{"GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"} {
		r := e.do(m, "", nil)
		if r.status < 400 {
			t.Errorf("%s without token = %d", m, r.status)
		}
	}
	for _, p := range []string{"//mcp", e.g.ResourcePath() + "/", strings.ToUpper(e.g.ResourcePath()), e.g.ResourcePath() + "%2F", e.g.ResourcePath() + "/../mcp"} {
		req, err := http.NewRequest(http.MethodPost, e.base+p, strings.NewReader(toolCall("ls")))
		if err != nil {
			continue
		}
		req.Header.Set("Content-Type", "application/json")
		if r := e.send(req); r.status < 400 {
			t.Errorf("POST %s without token = %d", p, r.status)
		}
	}
	e.wantNotCalled(t, n0)
}

func testSessions(t *testing.T, e *env) {
	alice, bob := e.token("alice"), e.token("bob")
	sid := e.openSession(t, alice, true)
	_, _, _, before := e.spy.Snapshot()
	if r := e.post(bob, toolCall("ls"), "Mcp-Session-Id", sid); r.status != 404 && r.status != 403 {
		t.Errorf("bob on alice's session = %d %s", r.status, r.body)
	}
	if _, _, _, after := e.spy.Snapshot(); len(after) != len(before) {
		t.Errorf("bob executed %q on alice's session", after[len(before):])
	}
	if r := e.post(alice, toolCall("ls"), "Mcp-Session-Id", sid); r.status != 200 {
		t.Errorf("alice on her session = %d %s", r.status, r.body)
	}
	if r := e.do(http.MethodDelete, bob, nil, "Mcp-Session-Id", sid); r.status != 404 && r.status != 403 {
		t.Errorf("bob deleting alice's session = %d", r.status)
	}
	if r := e.post(alice, toolCall("ls"), "Mcp-Session-Id", sid); r.status != 200 {
		t.Errorf("alice's session after bob's DELETE = %d %s", r.status, r.body)
	}
	// Foreign and unknown session ids: byte-identical answers (issue 10
	// §4), on every version, and neither reaches the handler.
	n0, _, _, _ := e.spy.Snapshot()
	foreign := e.post(bob, toolCall("ls"), "Mcp-Session-Id", sid)
	unknown := e.post(bob, toolCall("ls"), "Mcp-Session-Id", "no-such-session-0123456789")
	if foreign.status != 404 || unknown.status != foreign.status || !bytes.Equal(foreign.body, unknown.body) ||
		foreign.header.Get("Content-Type") != unknown.header.Get("Content-Type") {
		t.Errorf("foreign %d %q %s != unknown %d %q %s", foreign.status, foreign.header.Get("Content-Type"), foreign.body,
			unknown.status, unknown.header.Get("Content-Type"), unknown.body)
	}
	v26 := call("tools/call", `{"name":"ls","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}`)
	if r := e.post(bob, v26, "Mcp-Session-Id", sid, "MCP-Protocol-Version", "", "MCP-Protocol-Version", "2026-07-28", "Mcp-Method", "tools/call", "Mcp-Name", "ls"); r.status != 404 {
		t.Errorf("bob on alice's session with MCP-Protocol-Version 2026-07-28 = %d %s", r.status, r.body)
	}
	e.wantNotCalled(t, n0)
	// DELETE ends the binding.
	if r := e.do(http.MethodDelete, alice, nil, "Mcp-Session-Id", sid); r.status >= 300 {
		t.Fatalf("alice's DELETE = %d %s", r.status, r.body)
	}
	if r := e.post(alice, toolCall("ls"), "Mcp-Session-Id", sid); r.status != 404 {
		t.Errorf("alice's session after her DELETE = %d %s", r.status, r.body)
	}
}

// testSessionCap: past Config.MaxSessionsPerPrincipal an initialize gets
// the Guard's 429 JSON-RPC error echoing its id, instead of a session;
// other principals are unaffected.
func testSessionCap(t *testing.T, e *env) {
	alice, bob := e.token("alice"), e.token("bob")
	init := `{"jsonrpc":"2.0","id":"init-9","method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"suite","version":"1"}}}`
	var sids []string
	for i := range 2 {
		r := e.post(alice, init)
		if r.status != 200 || r.header.Get("Mcp-Session-Id") == "" {
			t.Fatalf("initialize %d: %d %s", i, r.status, r.body)
		}
		sids = append(sids, r.header.Get("Mcp-Session-Id"))
	}
	r := e.post(alice, init)
	if r.status != http.StatusTooManyRequests || r.header.Get("Mcp-Session-Id") != "" || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("initialize past the cap: %d %v %s", r.status, r.header, r.body)
	}
	var body struct {
		ID    json.RawMessage    `json:"id"`
		Error struct{ Code int } `json:"error"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || string(body.ID) != `"init-9"` || body.Error.Code != core.CodeSessionLimit {
		t.Errorf("refusal body %s (%v)", r.body, err)
	}
	if r := e.post(bob, init); r.status != 200 {
		t.Errorf("bob refused: %d %s", r.status, r.body)
	}
	for _, sid := range sids {
		if r := e.post(alice, toolCall("ls"), "Mcp-Session-Id", sid); r.status != 200 {
			t.Errorf("alice's session %s = %d %s", sid, r.status, r.body)
		}
	}
	if r := e.do(http.MethodDelete, alice, nil, "Mcp-Session-Id", sids[0]); r.status >= 300 {
		t.Fatalf("DELETE: %d", r.status)
	}
	if r := e.post(alice, init); r.status != 200 {
		t.Errorf("initialize after DELETE: %d %s", r.status, r.body)
	}
}

// testGETStream: a stateful go-sdk session opens its server-to-client GET
// event stream through the adapter: the status and Content-Type arrive
// while the stream is open (a buffering adapter would hold them until the
// stream ends, i.e. never), another principal cannot open it, and the
// session still works alongside it and can be deleted by its owner.
func testGETStream(t *testing.T, e *env) {
	alice := e.token("alice")
	sid := e.openSession(t, alice, true)
	if r := e.do(http.MethodGet, e.token("bob"), nil, "Mcp-Session-Id", sid, "Accept", "", "Accept", "text/event-stream", "Content-Type", ""); r.status != 404 && r.status != 403 {
		t.Errorf("bob opening alice's GET stream = %d", r.status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.base+e.g.ResourcePath(), nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-11-25")
	req.Header.Set("Mcp-Session-Id", sid)
	req.Header.Set("Authorization", "Bearer "+alice)
	resp, err := http.DefaultClient.Do(req) // returns once the header arrives
	if err != nil {
		t.Fatalf("GET stream: no response header while the stream is open: %v", err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Errorf("GET stream: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if r := e.post(alice, toolCall("ls"), "Mcp-Session-Id", sid); r.status != 200 {
		t.Errorf("tools/call with the GET stream open = %d %s", r.status, r.body)
	}
	cancel()
	resp.Body.Close()
	if r := e.do(http.MethodDelete, alice, nil, "Mcp-Session-Id", sid); r.status >= 300 {
		t.Errorf("DELETE by the owner = %d %s", r.status, r.body)
	}
}

// testSessionAtCreation: the session an initialize response creates is
// bound to its creator before anyone uses it: another principal presenting
// it first is refused (404) and nothing runs; the creator keeps it.
func testSessionAtCreation(t *testing.T, e *env) {
	sid := e.openSession(t, e.token("alice"), false)
	_, _, _, before := e.spy.Snapshot()
	if r := e.post(e.token("bob"), toolCall("ls"), "Mcp-Session-Id", sid); r.status != http.StatusNotFound {
		t.Errorf("bob first on alice's session = %d, want 404", r.status)
	}
	if _, _, _, ops := e.spy.Snapshot(); len(ops) != len(before) {
		t.Errorf("executed %q", ops[len(before):])
	}
	if r := e.post(e.token("alice"), toolCall("ls"), "Mcp-Session-Id", sid); r.status != http.StatusOK {
		t.Errorf("alice on her session = %d %s", r.status, r.body)
	}
	if _, _, _, ops := e.spy.Snapshot(); len(ops) != len(before)+1 {
		t.Errorf("executed %q, want one call more", ops[len(before):])
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
