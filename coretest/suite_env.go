package coretest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
)

// env is one running server of the suite.
type env struct {
	t        *testing.T
	idp      *IdP
	g        *core.Guard
	spy      *Spy
	base     string
	resource string
}

type envConfig struct {
	prefix       string
	stateless    bool
	jsonResponse bool
	maxBody      int64
	maxSessions  int // Config.MaxSessionsPerPrincipal
}

func newEnv(t *testing.T, h Harness, idp *IdP, c envConfig) *env {
	t.Helper()
	resource := "https://mcp.example.com" + c.prefix + "/mcp"
	g, err := core.New(core.Config{
		Resource:                resource,
		Verifier:                idp.Verifier(t, resource),
		Authorizer:              SuitePolicy{},
		MaxBodyBytes:            c.maxBody,
		MaxSessionsPerPrincipal: c.maxSessions,
		Metadata: core.ProtectedResourceMetadata{
			AuthorizationServers: []string{idp.Issuer()},
			ScopesSupported:      []string{"mcp:tools"},
			ResourceName:         "coretest",
		},
	})
	if err != nil {
		t.Fatalf("core.New: %v", err)
	}
	spy := NewSpy(c.stateless, c.jsonResponse)
	base := h.Start(t, g, spy, c.prefix)
	return &env{t: t, idp: idp, g: g, spy: spy, base: strings.TrimSuffix(base, "/"), resource: resource}
}

// reply is a read response.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request to the MCP endpoint. hdr are name/value pairs added
// after the defaults; a value of "" deletes the header.
func (e *env) do(method, token string, body []byte, hdr ...string) reply {
	e.t.Helper()
	return e.doQuery(method, "", token, body, hdr...)
}

// doQuery is do with a raw query string on the endpoint URL.
func (e *env) doQuery(method, query, token string, body []byte, hdr ...string) reply {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	url := e.base + e.g.ResourcePath()
	if query != "" {
		url += "?" + query
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-11-25")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
			continue
		}
		req.Header.Add(hdr[i], hdr[i+1])
	}
	return e.send(req)
}

func (e *env) send(req *http.Request) reply {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("read: %v", err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

func (e *env) post(token, body string, hdr ...string) reply {
	e.t.Helper()
	return e.do(http.MethodPost, token, []byte(body), hdr...)
}

func (e *env) token(sub string, scopes ...string) string {
	return e.idp.Token(e.resource, sub, scopes...)
}

// rpc is a JSON-RPC response.
type rpc struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// message extracts the JSON-RPC response from a JSON or SSE body.
func (r reply) message(t *testing.T) rpc {
	t.Helper()
	var out rpc
	body := r.body
	if strings.HasPrefix(r.header.Get("Content-Type"), "text/event-stream") {
		body = nil
		sc := bufio.NewScanner(bytes.NewReader(r.body))
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data:"); ok {
				d = strings.TrimSpace(d)
				if strings.Contains(d, `"id"`) && (strings.Contains(d, `"result"`) || strings.Contains(d, `"error"`)) {
					body = []byte(d)
				}
			}
		}
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("response is not JSON-RPC (%d %s): %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	return out
}

func call(method, params string) string {
	return `{"jsonrpc":"2.0","id":1,"method":"` + method + `","params":` + params + `}`
}

// initRequest is the suite client's initialize request.
func initRequest() string {
	return call("initialize", `{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"suite","version":"1"}}`)
}

// openSession initializes a session as token's principal and returns its
// id; with initialized it also sends notifications/initialized.
func (e *env) openSession(t *testing.T, token string, initialized bool) string {
	t.Helper()
	r := e.post(token, initRequest())
	sid := r.header.Get("Mcp-Session-Id")
	if r.status != 200 || sid == "" {
		t.Fatalf("initialize: %d session %q; %s", r.status, sid, r.body)
	}
	if initialized {
		if r := e.post(token, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, "Mcp-Session-Id", sid); r.status >= 300 {
			t.Fatalf("initialized: %d %s", r.status, r.body)
		}
	}
	return sid
}

func toolCall(name string) string { return call("tools/call", `{"name":"`+name+`","arguments":{}}`) }

// names returns the "name" (or "uri") of each item of result[member].
func names(t *testing.T, result json.RawMessage, member, key string) []string {
	t.Helper()
	var m map[string]json.RawMessage
	var items []map[string]any
	if err := json.Unmarshal(result, &m); err != nil {
		t.Fatalf("list result %s: %v", result, err)
	}
	if err := json.Unmarshal(m[member], &items); err != nil {
		t.Fatalf("list result %s: %v", result, err)
	}
	if cs, ok := m["cacheScope"]; ok && string(cs) != `"private"` {
		t.Errorf("filtered list has cacheScope %s, want \"private\"", cs)
	}
	var out []string
	for _, it := range items {
		s, _ := it[key].(string)
		out = append(out, s)
	}
	return out
}
