package ginmcp_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	ginmcp "github.com/mcpauthz/mcpauthz/adapters/gin"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

const resource = "https://mcp.example.com/api/mcp"

// TestPrincipalInNativeContext: later gin handlers see the principal with
// PrincipalFrom, in c.Request.Context(), and the body via GetRawData.
func TestPrincipalInNativeContext(t *testing.T) {
	t.Parallel()
	g, idp := coretest.NewSuiteGuard(t, resource, nil)
	r := gin.New()
	type seen struct {
		native, std string
		body        string
	}
	got := make(chan seen, 1)
	r.Group("/api", ginmcp.Middleware(g)).POST("/mcp", func(c *gin.Context) {
		var s seen
		if p, ok := ginmcp.PrincipalFrom(c); ok {
			s.native = p.Subject
		}
		if p, ok := core.PrincipalFromContext(c.Request.Context()); ok {
			s.std = p.Subject
		}
		b, _ := c.GetRawData()
		s.body = string(b)
		got <- s
		c.String(http.StatusOK, "ok")
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	body := coretest.RPC("tools/call", `{"name":"ls","arguments":{}}`)
	if resp := coretest.PostMCP(t, srv.URL+"/api/mcp", idp.Token(resource, "alice"), body); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if s := <-got; s != (seen{"alice", "alice", body}) {
		t.Errorf("handler saw %+v", s)
	}
}

func TestPrincipalFromWithoutMiddleware(t *testing.T) {
	t.Parallel()
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	for _, tc := range []struct {
		name string
		req  *http.Request
	}{
		{"no request", nil},
		{"no principal", httptest.NewRequest(http.MethodPost, "/mcp", nil)},
		{"nil principal", httptest.NewRequest(http.MethodPost, "/mcp", nil).WithContext(core.WithPrincipal(context.Background(), nil))},
		{"foreign value", httptest.NewRequest(http.MethodPost, "/mcp", nil).WithContext(context.WithValue(context.Background(), foreignKey{}, &core.Principal{Subject: "eve"}))},
	} {
		c.Request = tc.req
		if p, ok := ginmcp.PrincipalFrom(c); ok || p != nil {
			t.Errorf("%s: PrincipalFrom = %v, %v", tc.name, p, ok)
		}
	}
	if p, ok := ginmcp.PrincipalFrom(nil); ok || p != nil {
		t.Errorf("nil context: PrincipalFrom = %v, %v", p, ok)
	}
}

type foreignKey struct{}

// TestPrincipalNotInKeys: the middleware leaves c.Keys alone (no
// per-request map); the principal is in the request context only.
func TestPrincipalNotInKeys(t *testing.T) {
	t.Parallel()
	g, idp := coretest.NewSuiteGuard(t, resource, nil)
	r := gin.New()
	keys := make(chan int, 1)
	r.POST("/mcp", ginmcp.Middleware(g), func(c *gin.Context) {
		keys <- len(c.Keys)
		c.String(http.StatusOK, "ok")
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	if resp := coretest.PostMCP(t, srv.URL+"/mcp", idp.Token(resource, "alice"), coretest.RPC("tools/call", `{"name":"ls","arguments":{}}`)); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if n := <-keys; n != 0 {
		t.Errorf("c.Keys has %d entries", n)
	}
}

// TestRefusalAborts: a refused request never reaches later handlers and
// carries Render's response exactly.
func TestRefusalAborts(t *testing.T) {
	t.Parallel()
	g, _ := coretest.NewSuiteGuard(t, resource, nil)
	r := gin.New()
	called := false
	r.POST("/api/mcp", ginmcp.Middleware(g), func(c *gin.Context) { called = true })
	w := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/api/mcp", strings.NewReader(coretest.RPC("tools/list", `{}`)))
	r.ServeHTTP(w, req)
	want := g.Render(&core.Error{Kind: core.KindNoToken})
	if called || w.Code != want.Status || w.Body.String() != string(want.Body) ||
		w.Header().Get("WWW-Authenticate") != want.Header.Get("WWW-Authenticate") {
		t.Errorf("called=%v status=%d body=%s hdr=%v", called, w.Code, w.Body, w.Header())
	}
}

// TestMetadataAtOriginRoot: the document is served at the root path derived
// from the resource URL even though the MCP group is under /api, and not
// under the group.
func TestMetadataAtOriginRoot(t *testing.T) {
	t.Parallel()
	g, _ := coretest.NewSuiteGuard(t, resource, nil)
	r := newEngine(g, http.NotFoundHandler(), "/api")
	tests := []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/.well-known/oauth-protected-resource/api/mcp", 200},
		{http.MethodHead, "/.well-known/oauth-protected-resource/api/mcp", 200},
		{http.MethodOptions, "/.well-known/oauth-protected-resource/api/mcp", 204},
		{http.MethodGet, "/api/.well-known/oauth-protected-resource/api/mcp", 404},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
		if w.Code != tt.status {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, w.Code, tt.status)
		}
		if tt.status == 200 && tt.method == http.MethodGet && w.Body.String() != string(g.MetadataJSON()) {
			t.Errorf("body = %s", w.Body)
		}
	}
}

// TestEngineWideUse: metadata registered before an engine-wide Use stays
// public; the MCP route registered after it is protected.
func TestEngineWideUse(t *testing.T) {
	t.Parallel()
	g, _ := coretest.NewSuiteGuard(t, resource, nil)
	r := gin.New()
	ginmcp.RegisterMetadata(r, g)
	r.Use(ginmcp.Middleware(g))
	r.Any("/api/mcp", func(c *gin.Context) { c.String(http.StatusOK, "reached") })
	for _, tt := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, g.MetadataPath(), 200},
		{http.MethodPost, "/api/mcp", 401},
		{http.MethodGet, "/api/mcp", 401},
	} {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
		if w.Code != tt.status {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, w.Code, tt.status)
		}
	}
}

// TestStreamsPromptly: a non-list event stream reaches the client event by
// event (no buffering), and a list stream is filtered event by event.
func TestStreamsPromptly(t *testing.T) {
	t.Parallel()
	g, idp := coretest.NewSuiteGuard(t, resource, nil)
	release := make(chan struct{})
	r := gin.New()
	r.Group("/api", ginmcp.Middleware(g)).POST("/mcp", func(c *gin.Context) {
		c.Header("Content-Type", "text/event-stream")
		c.Status(http.StatusOK)
		tools := `{"tools":[{"name":"ls","inputSchema":{"type":"object"}},{"name":"rm","inputSchema":{"type":"object"}}]}`
		fmt.Fprintf(c.Writer, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":%s}\n\n", tools)
		c.Writer.Flush()
		<-release
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	tok := idp.Token(resource, "alice")
	for _, tt := range []struct{ method, want, hidden string }{
		{"tools/call", `"rm"`, ""},
		{"tools/list", `"ls"`, `"rm"`},
	} {
		params := `{}`
		if tt.method == "tools/call" {
			params = `{"name":"ls","arguments":{}}`
		}
		resp := coretest.PostMCP(t, srv.URL+"/api/mcp", tok, coretest.RPC(tt.method, params))
		line, err := readData(resp.Body)
		if err != nil || !strings.Contains(line, tt.want) || (tt.hidden != "" && strings.Contains(line, tt.hidden)) {
			t.Errorf("%s: first event %q (%v)", tt.method, line, err)
		}
	}
	close(release)
}

// readData returns the first "data:" line of an event stream.
func readData(r io.Reader) (string, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data:") {
			return sc.Text(), nil
		}
	}
	return "", fmt.Errorf("no data line: %v", sc.Err())
}
