package fibermcp_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// TestSessionBoundAtCreation: the session an initialize response creates
// is bound to its creator before anyone uses it: another principal
// presenting it first is refused (404) and nothing runs; the creator keeps
// it.
func TestSessionBoundAtCreation(t *testing.T) {
	t.Parallel()
	idp := coretest.NewIdP(t)
	const res = "https://mcp.example.com/mcp"
	g, err := core.New(core.Config{
		Resource:   res,
		Verifier:   idp.Verifier(t, res),
		Authorizer: coretest.SuitePolicy{},
		Metadata:   core.ProtectedResourceMetadata{AuthorizationServers: []string{idp.Issuer()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	spy := coretest.NewSpy(false, true)
	base := harness(t, g, spy, "")
	send := func(tok, sid, body string) *http.Response {
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
	resp := send(idp.Token(res, "alice"), "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	sid := resp.Header.Get("Mcp-Session-Id")
	if sid == "" {
		t.Fatalf("no session: %d", resp.StatusCode)
	}
	call := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"ls","arguments":{}}}`
	if resp := send(idp.Token(res, "bob"), sid, call); resp.StatusCode != http.StatusNotFound {
		t.Errorf("bob first on alice's session = %d, want 404", resp.StatusCode)
	}
	if _, _, _, ops := spy.Snapshot(); len(ops) != 0 {
		t.Errorf("executed %q", ops)
	}
	if resp := send(idp.Token(res, "alice"), sid, call); resp.StatusCode != http.StatusOK {
		t.Errorf("alice on her session = %d", resp.StatusCode)
	}
}
