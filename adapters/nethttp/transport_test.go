package httpmcp_test

import (
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// TestHTTP2Bodies is J08 over HTTP/2: over the limit → 413 without calling
// the handler; under it the handler receives identical bytes.
func TestHTTP2Bodies(t *testing.T) {
	t.Parallel()
	g, err := core.New(core.Config{
		Resource:     "https://mcp.example.com/mcp",
		Verifier:     staticVerifier{},
		Authorizer:   allowAll{},
		MaxBodyBytes: 4096,
		Metadata:     core.ProtectedResourceMetadata{AuthorizationServers: []string{"https://idp.example"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got [][32]byte
	h := httpmcp.Middleware(g)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, sha256.Sum256(b))
	}))
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	small := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls","arguments":{"x":"` + strings.Repeat("é", 100) + `"}}}`
	big := strings.Replace(small, "é", strings.Repeat("x", 5000), 1)
	for _, tt := range []struct {
		body    string
		chunked bool
		status  int
	}{{small, false, 200}, {small, true, 200}, {big, false, 413}, {big, true, 413}} {
		var rd io.Reader = strings.NewReader(tt.body)
		if tt.chunked {
			rd = io.MultiReader(rd) // unknown length
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/mcp", rd)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer good")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.ProtoMajor != 2 || resp.StatusCode != tt.status {
			t.Errorf("len %d chunked %v: HTTP/%d %d", len(tt.body), tt.chunked, resp.ProtoMajor, resp.StatusCode)
		}
	}
	if len(got) != 2 || got[0] != sha256.Sum256([]byte(small)) || got[1] != got[0] {
		t.Errorf("handler saw %d bodies, or different bytes", len(got))
	}
}

// TestSDKSessionBinding checks the go-sdk wiring alone: with the Guard's
// binding disabled, the SDK itself refuses another user (TokenInfo.UserID).
func TestSDKSessionBinding(t *testing.T) {
	t.Parallel()
	const resource = "https://mcp.example.com/mcp"
	g, idp := coretest.NewSuiteGuard(t, resource, func(c *core.Config) { c.DisableSessionBinding = true })
	spy := coretest.NewSpy(false, true)
	mux := http.NewServeMux()
	httpmcp.Register(mux, g, spy)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	post := func(tok, sid, body string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/mcp", strings.NewReader(body))
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
	sid := post(idp.Token(resource, "alice"), "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`).Header.Get("Mcp-Session-Id")
	if resp := post(idp.Token(resource, "bob"), sid, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"ls","arguments":{}}}`); resp.StatusCode != http.StatusForbidden {
		t.Errorf("bob on alice's session = %d, want 403 from the SDK", resp.StatusCode)
	}
	if _, _, _, ops := spy.Snapshot(); len(ops) != 0 {
		t.Errorf("executed %q", ops)
	}
}
