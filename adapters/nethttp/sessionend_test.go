package httpmcp_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// TestUnbindOnClose: when the go-sdk closes an idle session
// (SessionTimeout), the Guard's binding goes with it, long before its own
// SessionTTL.
func TestUnbindOnClose(t *testing.T) {
	t.Parallel()
	const res = "https://mcp.example.com/mcp"
	mem, err := core.NewMemorySessions(core.MemorySessionsConfig{})
	if err != nil {
		t.Fatal(err)
	}
	g, idp := coretest.NewSuiteGuard(t, res, func(c *core.Config) { c.Sessions, c.SessionTTL = mem, time.Hour })
	opts := &mcp.ServerOptions{}
	called := make(chan struct{}, 1)
	opts.InitializedHandler = func(_ context.Context, _ *mcp.InitializedRequest) { called <- struct{}{} }
	httpmcp.UnbindOnClose(g, opts, nil)
	server := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, opts)
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server },
		&mcp.StreamableHTTPOptions{JSONResponse: true, SessionTimeout: 300 * time.Millisecond})
	base := harness(t, g, h, "")
	tok := idp.Token(res, "alice")
	send := func(body, sid string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("MCP-Protocol-Version", "2025-11-25")
		req.Header.Set("Authorization", "Bearer "+tok)
		if sid != "" {
			req.Header.Set("Mcp-Session-Id", sid)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	resp := send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`, "")
	sid := resp.Header.Get("Mcp-Session-Id")
	if sid == "" {
		t.Fatalf("no session: %d", resp.StatusCode)
	}
	if resp := send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`, sid); resp.StatusCode >= 300 {
		t.Fatalf("initialized: %d", resp.StatusCode)
	}
	select {
	case <-called:
	case <-time.After(5 * time.Second):
		t.Fatal("the previous InitializedHandler was not called")
	}
	if n, _ := mem.Stats(); n != 1 {
		t.Fatalf("%d bindings after initialize", n)
	}
	start := time.Now()
	for deadline := start.Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if n, _ := mem.Stats(); n == 0 {
			t.Logf("binding dropped %v after initialized", time.Since(start).Round(10*time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("binding still present 20 s after the SDK's 300 ms SessionTimeout")
		}
	}
}
