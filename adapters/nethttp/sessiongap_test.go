package httpmcp_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/coretest"
)

// TestSessionGapsWithoutTokenInfo is issue 10 §4: the Guard's own binding
// holds even when the go-sdk handler behind it gets no TokenInfo (here the
// context is replaced before the SDK sees it, as a handler mounted without
// SDKHandler would be): another principal can use a session neither with a
// 2026-07-28 MCP-Protocol-Version header, nor when the session was created
// by a 2025-03-26 batch containing initialize. Nothing runs for him.
func TestSessionGapsWithoutTokenInfo(t *testing.T) {
	t.Parallel()
	const res = "https://mcp.example.com/mcp"
	g, idp := coretest.NewSuiteGuard(t, res, nil)
	spy := coretest.NewSpy(false, true)
	noTokenInfo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		spy.ServeHTTP(w, r.WithContext(context.Background()))
	})
	base := harness(t, g, noTokenInfo, "")
	alice, bob := idp.Token(res, "alice"), idp.Token(res, "bob")
	send := func(tok, body string, hdr ...string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", "Bearer "+tok)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	init := func(v string) string {
		return `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"` + v + `","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	}
	initialized := `{"jsonrpc":"2.0","method":"notifications/initialized"}`
	single, _ := send(alice, init("2025-11-25"), "MCP-Protocol-Version", "2025-11-25")
	batch, body := send(alice, "["+init("2025-03-26")+"]")
	sids := map[string]string{"single": single.Header.Get("Mcp-Session-Id"), "batch": batch.Header.Get("Mcp-Session-Id")}
	if sids["single"] == "" {
		t.Fatalf("no session from initialize: %d", single.StatusCode)
	}
	if sids["batch"] == "" {
		t.Logf("the go-sdk created no session from a batch initialize (%d %s); checking the single one only", batch.StatusCode, body)
		delete(sids, "batch")
	}
	call := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"ls","arguments":{}}}`
	call26 := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"ls","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`
	for name, sid := range sids {
		ver := "2025-11-25"
		if name == "batch" {
			ver = "2025-03-26"
		}
		if resp, b := send(alice, initialized, "Mcp-Session-Id", sid, "MCP-Protocol-Version", ver); resp.StatusCode >= 300 {
			t.Fatalf("%s: initialized = %d %s", name, resp.StatusCode, b)
		}
		_, _, _, before := spy.Snapshot()
		for _, tc := range []struct {
			label, body string
			hdr         []string
		}{
			{"legacy", call, []string{"Mcp-Session-Id", sid, "MCP-Protocol-Version", ver}},
			{"2026-07-28 header", call26, []string{"Mcp-Session-Id", sid, "MCP-Protocol-Version", "2026-07-28", "Mcp-Method", "tools/call", "Mcp-Name", "ls"}},
		} {
			if resp, b := send(bob, tc.body, tc.hdr...); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s session, %s: bob got %d %s", name, tc.label, resp.StatusCode, b)
			}
		}
		if _, _, _, ops := spy.Snapshot(); len(ops) != len(before) {
			t.Fatalf("%s session: executed %q for bob", name, ops[len(before):])
		}
		if resp, b := send(alice, call, "Mcp-Session-Id", sid, "MCP-Protocol-Version", ver); resp.StatusCode != http.StatusOK {
			t.Errorf("%s session: alice got %d %s", name, resp.StatusCode, b)
		}
		if _, _, _, ops := spy.Snapshot(); len(ops) != len(before)+1 {
			t.Fatalf("%s: ops %q", name, ops)
		}
	}
}
