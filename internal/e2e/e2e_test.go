package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

const resource = "https://mcp.example.com/mcp"

// allowedOps is everything coretest.SuitePolicy lets "alice" execute in this
// catalog; anything else executing is a bypass.
var allowedOps = []string{"tool:ls", "resource:" + coretest.PublicResource, "prompt:greet"}

// recorder records executed handlers.
type recorder struct {
	mu  sync.Mutex
	ops []string
}

func (r *recorder) add(op string) {
	r.mu.Lock()
	r.ops = append(r.ops, op)
	r.mu.Unlock()
}

func (r *recorder) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ops)
}

// newServer builds a go-sdk server: tools ls and rm, the public and secret
// resources, prompts greet and admin. Each handler records its execution.
func newServer(rec *recorder) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "e2e", Version: "1.0.0"}, nil)
	for _, name := range []string{"ls", "rm"} {
		s.AddTool(&mcp.Tool{Name: name, InputSchema: map[string]any{"type": "object"}},
			func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				rec.add("tool:" + name)
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: name}}}, nil
			})
	}
	for _, uri := range []string{coretest.PublicResource, coretest.SecretResource} {
		s.AddResource(&mcp.Resource{URI: uri, Name: uri},
			func(context.Context, *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
				rec.add("resource:" + uri)
				return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, Text: "x"}}}, nil
			})
	}
	for _, name := range []string{"greet", "admin"} {
		s.AddPrompt(&mcp.Prompt{Name: name},
			func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
				rec.add("prompt:" + name)
				return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: "hi"}}}}, nil
			})
	}
	return s
}

type env struct {
	url   string
	token string // alice
	bob   string
	rec   *recorder
}

func setup(t testing.TB, stateless, jsonResponse bool) *env {
	t.Helper()
	g, idp := coretest.NewSuiteGuard(t, resource, func(c *core.Config) { c.MaxBodyBytes = 64 << 10 })
	rec := &recorder{}
	srv := newServer(rec)
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{Stateless: stateless, JSONResponse: jsonResponse})
	mux := http.NewServeMux()
	httpmcp.Register(mux, g, h)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return &env{url: ts.URL + g.ResourcePath(), token: idp.Token(resource, "alice"), bob: idp.Token(resource, "bob"), rec: rec}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

// post sends body with default headers (alice's token, JSON, version
// 2025-11-25), then hdr pairs (value "" deletes the header).
func (e *env) post(t testing.TB, body []byte, hdr ...string) reply {
	t.Helper()
	return e.send(t, http.MethodPost, e.token, body, hdr...)
}

func (e *env) send(t testing.TB, method, token string, body []byte, hdr ...string) reply {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-11-25")
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Add(hdr[i], hdr[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, b}
}

// messages extracts the JSON-RPC messages of a JSON or SSE response body.
func (r reply) messages(t *testing.T) []map[string]json.RawMessage {
	t.Helper()
	var payloads [][]byte
	if strings.HasPrefix(r.header.Get("Content-Type"), "text/event-stream") {
		for _, ev := range strings.Split(strings.ReplaceAll(string(r.body), "\r\n", "\n"), "\n\n") {
			var data []string
			for _, l := range strings.Split(ev, "\n") {
				if v, ok := strings.CutPrefix(l, "data:"); ok {
					data = append(data, strings.TrimPrefix(v, " "))
				}
			}
			if d := strings.Join(data, "\n"); strings.TrimSpace(d) != "" {
				payloads = append(payloads, []byte(d))
			}
		}
	} else if len(bytes.TrimSpace(r.body)) > 0 {
		payloads = append(payloads, r.body)
	}
	var out []map[string]json.RawMessage
	for _, p := range payloads {
		if bytes.HasPrefix(bytes.TrimSpace(p), []byte("[")) {
			var arr []map[string]json.RawMessage
			if err := json.Unmarshal(p, &arr); err != nil {
				t.Fatalf("bad batch %q: %v", p, err)
			}
			out = append(out, arr...)
			continue
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(p, &m); err != nil {
			t.Fatalf("bad message %q: %v", p, err)
		}
		out = append(out, m)
	}
	return out
}

func call(id, method, params string) string {
	return `{"jsonrpc":"2.0","id":` + id + `,"method":"` + method + `","params":` + params + `}`
}

func tool(name string) string { return call("1", "tools/call", `{"name":"`+name+`","arguments":{}}`) }

const meta26 = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}`

func tool26(name string) string {
	return call("1", "tools/call", `{"name":"`+name+`","arguments":{},`+meta26+`}`)
}

func gzipped(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(s))
	_ = zw.Close()
	return b.Bytes()
}

type corpusCase struct {
	name   string
	body   []byte
	hdr    []string
	status int      // expected HTTP status
	want   []string // operations that must execute (in order); nil = none
}

func corpus() []corpusCase {
	b := func(s string) []byte { return []byte(s) }
	legacy := []string{"MCP-Protocol-Version", "", "MCP-Protocol-Version", "2025-03-26"}
	v26 := func(method, name string) []string {
		h := []string{"MCP-Protocol-Version", "", "MCP-Protocol-Version", "2026-07-28", "Mcp-Method", method}
		if name != "" {
			h = append(h, "Mcp-Name", name)
		}
		return h
	}
	return []corpusCase{
		// Allowed operations still work.
		{"allowed tool", b(tool("ls")), nil, 200, []string{"tool:ls"}},
		{"allowed resource", b(call("2", "resources/read", `{"uri":"`+coretest.PublicResource+`"}`)), nil, 200, []string{"resource:" + coretest.PublicResource}},
		{"allowed prompt", b(call("3", "prompts/get", `{"name":"greet"}`)), nil, 200, []string{"prompt:greet"}},
		{"J04 escaped allowed", b(`{"jsonrpc":"2.0","id":1,"\u006dethod":"tools\u002fcall","params":{"name":"l\u0073"}}`), nil, 200, []string{"tool:ls"}},
		{"J05 legacy batch all allowed", b(`[` + tool("ls") + `,` + strings.Replace(tool("ls"), `"id":1`, `"id":2`, 1) + `]`), legacy, 200, []string{"tool:ls", "tool:ls"}},

		// Denied operations are refused.
		{"denied tool", b(tool("rm")), nil, 403, nil},
		{"denied resource", b(call("2", "resources/read", `{"uri":"`+coretest.SecretResource+`"}`)), nil, 403, nil},
		{"denied prompt", b(call("3", "prompts/get", `{"name":"admin"}`)), nil, 403, nil},
		{"J04 escaped denied", b(`{"jsonrpc":"2.0","id":1,"method":"tools\u002fcall","params":{"name":"r\u006d"}}`), nil, 403, nil},
		{"J05 legacy batch allowed+denied", b(`[` + tool("ls") + `,` + strings.Replace(tool("rm"), `"id":1`, `"id":2`, 1) + `]`), legacy, 403, nil},
		{"denied completion of admin prompt", b(call("4", "completion/complete", `{"ref":{"type":"ref/prompt","name":"admin"},"argument":{"name":"a","value":""}}`)), nil, 403, nil},

		// Parser differentials.
		{"J01 case-variant method", b(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm"},"Method":"tools/list"}`), nil, 400, nil},
		{"J02 case-variant name", b(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm","NAME":"ls"}}`), nil, 400, nil},
		{"J02 Name only", b(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"Name":"rm"}}`), nil, 400, nil},
		{"J03 duplicate name", b(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls","name":"rm"}}`), nil, 400, nil},
		{"J03 duplicate params", b(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls"},"params":{"name":"rm"}}`), nil, 400, nil},
		{"J03 duplicate method", b(`{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{"name":"rm"}}`), nil, 400, nil},
		{"J03 escaped duplicate", b(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls","n\u0061me":"rm"}}`), nil, 400, nil},
		{"long s params", b(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls"},"param\u017f":{"name":"rm"}}`), nil, 400, nil},
		{"J05 batch on 2025-06-18", b(`[` + tool("ls") + `]`), []string{"MCP-Protocol-Version", "", "MCP-Protocol-Version", "2025-06-18"}, 400, nil},
		{"J05 batch on 2025-11-25", b(`[` + tool("rm") + `]`), nil, 400, nil},
		{"J05 empty batch", b(`[]`), legacy, 400, nil},
		{"J06 two values", b(tool("ls") + tool("rm")), nil, 400, nil},
		{"J06 NUL", b(tool("rm") + "\x00"), nil, 400, nil},
		{"J06 garbage", b(tool("ls") + "garbage"), nil, 400, nil},
		{"J07 invalid UTF-8", b(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"r` + "\xff" + `m"}}`), nil, 400, nil},
		{"J07 lone surrogate", b(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"\ud800"}}`), nil, 400, nil},
		{"J08 oversized", b(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm","arguments":{"p":"` + strings.Repeat("x", 70<<10) + `"}}}`), nil, 413, nil},
		{"J09 deep nesting", b(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls","arguments":{"a":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}}}`), nil, 400, nil},
		{"J10 text/plain", b(tool("rm")), []string{"Content-Type", "", "Content-Type", "text/plain"}, 415, nil},
		{"J10 utf-16", b(tool("ls")), []string{"Content-Type", "", "Content-Type", "application/json; charset=utf-16"}, 415, nil},
		{"J10 BOM", b("\xEF\xBB\xBF" + tool("ls")), nil, 400, nil},
		{"J11 gzip", gzipped(tool("rm")), []string{"Content-Encoding", "gzip"}, 415, nil},
		{"J12 method null", b(`{"jsonrpc":"2.0","id":1,"method":null,"params":{"name":"rm"}}`), nil, 400, nil},
		{"J12 method number", b(`{"jsonrpc":"2.0","id":1,"method":123}`), nil, 400, nil},
		{"J12 method empty", b(`{"jsonrpc":"2.0","id":1,"method":""}`), nil, 400, nil},
		{"J16 id object", b(`{"jsonrpc":"2.0","id":{"a":1},"method":"tools/call","params":{"name":"rm"}}`), nil, 400, nil},

		// 2026-07-28 standard headers (stateless server only; see TestHostileCorpus).
		{"2026 allowed", b(tool26("ls")), v26("tools/call", "ls"), 200, []string{"tool:ls"}},
		// The Guard decodes the =?base64?...?= sentinel (spec), but go-sdk
		// v1.8.0 compares the raw header with the body and refuses (400):
		// nothing executes either way.
		{"2026 base64 name", b(tool26("ls")), v26("tools/call", "=?base64?bHM=?="), 400, nil},
		{"2026 OWS-padded name", b(tool26("ls")), v26("tools/call", "  ls  "), 200, []string{"tool:ls"}},
		{"2026 denied", b(tool26("rm")), v26("tools/call", "rm"), 403, nil},
		{"J13 Mcp-Name lies", b(tool26("rm")), v26("tools/call", "ls"), 400, nil},
		{"J13 Mcp-Method lies", b(tool26("rm")), v26("tools/list", ""), 400, nil},
		{"J13 Mcp-Name missing", b(tool26("rm")), v26("tools/call", ""), 400, nil},
		{"J13 batch on 2026", b(`[` + tool26("ls") + `]`), v26("tools/call", "ls"), 400, nil},
		{"2026 response refused", b(`{"jsonrpc":"2.0","id":5,"result":{}}`), v26("", ""), 400, nil},
	}
}

// TestHostileCorpus: no denied operation ever executes, every allowed one
// does, with a stateless server (JSON and SSE responses).
func TestHostileCorpus(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct {
		name         string
		jsonResponse bool
	}{{"sse", false}, {"json", true}} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, true, mode.jsonResponse)
			for _, c := range corpus() {
				before := len(e.rec.snapshot())
				r := e.post(t, c.body, c.hdr...)
				ops := e.rec.snapshot()[before:]
				for _, op := range ops {
					if !slices.Contains(allowedOps, op) {
						t.Errorf("%s: BYPASS: executed %q", c.name, op)
					}
				}
				if r.status != c.status {
					t.Errorf("%s: status %d, want %d; body %.200s", c.name, r.status, c.status, r.body)
				}
				if !slices.Equal(ops, c.want) {
					t.Errorf("%s: executed %q, want %q", c.name, ops, c.want)
				}
			}
		})
	}
}

// names returns the values of key in result.<member>[*].
func names(t *testing.T, result json.RawMessage, member, key string) []string {
	t.Helper()
	var res map[string][]map[string]any
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(result, &raw); err != nil {
		t.Fatalf("result %s: %v", result, err)
	}
	res = map[string][]map[string]any{}
	var items []map[string]any
	if err := json.Unmarshal(raw[member], &items); err != nil {
		t.Fatalf("result.%s %s: %v", member, raw[member], err)
	}
	res[member] = items
	var out []string
	for _, it := range res[member] {
		s, _ := it[key].(string)
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// TestListFiltering: list responses only show permitted items, in JSON and
// SSE mode, and are marked cacheScope "private".
func TestListFiltering(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct {
		name         string
		jsonResponse bool
	}{{"sse", false}, {"json", true}} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, true, mode.jsonResponse)
			tests := []struct{ method, member, key, want string }{
				{"tools/list", "tools", "name", "ls"},
				{"prompts/list", "prompts", "name", "greet"},
				{"resources/list", "resources", "uri", coretest.PublicResource},
			}
			for _, tt := range tests {
				r := e.post(t, []byte(call("9", tt.method, `{}`)))
				if r.status != 200 {
					t.Fatalf("%s: %d %s", tt.method, r.status, r.body)
				}
				msgs := r.messages(t)
				if len(msgs) != 1 || msgs[0]["result"] == nil {
					t.Fatalf("%s: messages %s", tt.method, r.body)
				}
				if got := names(t, msgs[0]["result"], tt.member, tt.key); !slices.Equal(got, []string{tt.want}) {
					t.Errorf("%s: visible %q, want [%q]", tt.method, got, tt.want)
				}
				var scope struct {
					CacheScope string `json:"cacheScope"`
				}
				_ = json.Unmarshal(msgs[0]["result"], &scope)
				if scope.CacheScope != "private" {
					t.Errorf("%s: cacheScope %q", tt.method, scope.CacheScope)
				}
			}
			// 2026-07-28 list.
			r := e.post(t, []byte(call("9", "tools/list", `{`+meta26+`}`)),
				"MCP-Protocol-Version", "", "MCP-Protocol-Version", "2026-07-28", "Mcp-Method", "tools/list")
			msgs := r.messages(t)
			if r.status != 200 || len(msgs) != 1 {
				t.Fatalf("2026 tools/list: %d %s", r.status, r.body)
			}
			if got := names(t, msgs[0]["result"], "tools", "name"); !slices.Equal(got, []string{"ls"}) {
				t.Errorf("2026 tools/list: visible %q", got)
			}
		})
	}
}

// TestStatefulSession runs a legacy session (initialize, initialized,
// tools/list, tools/call) against a stateful server with SSE responses.
func TestStatefulSession(t *testing.T) {
	t.Parallel()
	e := setup(t, false, false)
	init := call("1", "initialize", `{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}`)
	r := e.post(t, []byte(init), "MCP-Protocol-Version", "")
	sid := r.header.Get("Mcp-Session-Id")
	if r.status != 200 || sid == "" {
		t.Fatalf("initialize: %d %q %s", r.status, sid, r.body)
	}
	s := []string{"Mcp-Session-Id", sid}
	if r := e.post(t, []byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`), s...); r.status != 202 {
		t.Fatalf("initialized: %d %s", r.status, r.body)
	}
	r = e.post(t, []byte(call("2", "tools/list", `{}`)), s...)
	msgs := r.messages(t)
	if r.status != 200 || len(msgs) != 1 {
		t.Fatalf("tools/list: %d %s", r.status, r.body)
	}
	if got := names(t, msgs[0]["result"], "tools", "name"); !slices.Equal(got, []string{"ls"}) {
		t.Errorf("tools/list: visible %q", got)
	}
	// J14: another principal cannot use alice's session (GET stream, POST,
	// DELETE); the session survives.
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		var body []byte
		if m == http.MethodPost {
			body = []byte(tool("ls"))
		}
		before := len(e.rec.snapshot())
		r := e.send(t, m, e.bob, body, s...)
		if r.status < 400 || len(e.rec.snapshot()) != before {
			t.Errorf("bob %s on alice's session: %d %s", m, r.status, r.body)
		}
	}
	if r := e.send(t, http.MethodGet, "", nil, s...); r.status != 401 {
		t.Errorf("GET without token: %d", r.status)
	}
	for _, c := range corpus() {
		if strings.HasPrefix(c.name, "2026") || strings.HasPrefix(c.name, "J13") || strings.Contains(c.name, "batch") {
			continue // 2026 needs a stateless server; legacy batches need no session
		}
		before := len(e.rec.snapshot())
		r := e.post(t, c.body, append(slices.Clone(c.hdr), s...)...)
		ops := e.rec.snapshot()[before:]
		for _, op := range ops {
			if !slices.Contains(allowedOps, op) {
				t.Errorf("%s: BYPASS: executed %q", c.name, op)
			}
		}
		if r.status != c.status || !slices.Equal(ops, c.want) {
			t.Errorf("%s: status %d executed %q, want %d %q; body %.200s", c.name, r.status, ops, c.status, c.want, r.body)
		}
	}
}

// FuzzE2E is J17 end to end: whatever the body and standard headers, the
// server never executes an operation the policy denies.
func FuzzE2E(f *testing.F) {
	for _, c := range corpus() {
		version, method, name := "2025-11-25", "", ""
		for i := 0; i+1 < len(c.hdr); i += 2 {
			switch c.hdr[i] {
			case "MCP-Protocol-Version":
				if c.hdr[i+1] != "" {
					version = c.hdr[i+1]
				}
			case "Mcp-Method":
				method = c.hdr[i+1]
			case "Mcp-Name":
				name = c.hdr[i+1]
			}
		}
		if len(c.body) < 4096 {
			f.Add(c.body, version, method, name)
		}
	}
	e := setup(f, true, true)
	f.Fuzz(func(t *testing.T, body []byte, version, method, name string) {
		hdr := []string{"MCP-Protocol-Version", ""}
		for _, kv := range [][2]string{{"MCP-Protocol-Version", version}, {"Mcp-Method", method}, {"Mcp-Name", name}} {
			if kv[1] != "" && validHeaderValue(kv[1]) {
				hdr = append(hdr, kv[0], kv[1])
			}
		}
		before := len(e.rec.snapshot())
		e.post(t, body, hdr...)
		for _, op := range e.rec.snapshot()[before:] {
			if !slices.Contains(allowedOps, op) {
				t.Fatalf("BYPASS: executed %q for body %q headers %q", op, body, hdr)
			}
		}
	})
}

// validHeaderValue reports whether net/http's client will send v.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// TestStatefulSessionEnd: alice can end her own session with DELETE; the
// session is gone afterwards.
func TestStatefulSessionEnd(t *testing.T) {
	t.Parallel()
	e := setup(t, false, true)
	init := call("1", "initialize", `{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}`)
	r := e.post(t, []byte(init), "MCP-Protocol-Version", "")
	sid := r.header.Get("Mcp-Session-Id")
	if r.status != 200 || sid == "" {
		t.Fatalf("initialize: %d %s", r.status, r.body)
	}
	if r := e.send(t, http.MethodDelete, e.token, nil, "Mcp-Session-Id", sid); r.status != 204 {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	if r := e.post(t, []byte(tool("ls")), "Mcp-Session-Id", sid); r.status != 404 || len(e.rec.snapshot()) != 0 {
		t.Fatalf("after DELETE: %d %s", r.status, r.body)
	}
}
