package httpmcp_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/auth"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
)

// TestRestoredBodySizes: the handler reads exactly the inspected bytes,
// with the declared length, for bodies stored inside the request state
// (≤ 256 bytes), beyond it, and of unknown length (chunked), and Close is
// harmless.
func TestRestoredBodySizes(t *testing.T) {
	t.Parallel()
	g := newGuard(t, "https://mcp.example.com/mcp")
	call := func(n int) string { // a tools/call of exactly n bytes
		head := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls","arguments":{"p":"`
		tail := `"}}}`
		return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
	}
	for _, tt := range []struct {
		name    string
		size    int
		chunked bool
	}{
		{"small", 100, false},
		{"inline limit", 256, false},
		{"one past inline", 257, false},
		{"large", 20000, false},
		{"chunked small", 100, true},
		{"chunked large", 20000, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := call(tt.size)
			var got []byte
			var cl int64
			h := httpmcp.Middleware(g)(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				got, _ = io.ReadAll(r.Body)
				cl = r.ContentLength
				if err := r.Body.Close(); err != nil {
					t.Errorf("Close = %v", err)
				}
			}))
			r := newPost("/mcp", "good", body)
			if tt.chunked {
				r.Body, r.ContentLength = io.NopCloser(strings.NewReader(body)), -1
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if string(got) != body || cl != int64(len(body)) {
				t.Errorf("handler read %d bytes (ContentLength %d), want %d", len(got), cl, len(body))
			}
		})
	}
}

// TestSDKHandlerTwice: an extra SDKHandler behind Middleware passes the
// request through: both layers see the one TokenInfo the Guard's context
// carries, complete and for the principal.
func TestSDKHandlerTwice(t *testing.T) {
	t.Parallel()
	g := newGuard(t, "https://mcp.example.com/mcp")
	var outer, inner *auth.TokenInfo
	var id string
	h := httpmcp.Middleware(g)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		outer = auth.TokenInfoFromContext(r.Context())
		httpmcp.SDKHandler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			inner = auth.TokenInfoFromContext(r.Context())
			p, _ := httpmcp.PrincipalFrom(r)
			id = p.ID()
		})).ServeHTTP(w, r)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, newPost("/mcp", "good", callLS))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if outer == nil || inner != outer {
		t.Fatalf("TokenInfo outer %p inner %p: want the Guard's one", outer, inner)
	}
	for _, ti := range []*auth.TokenInfo{outer, inner} {
		if ti.UserID != id || len(ti.Scopes) != 1 || ti.Scopes[0] != "mcp:tools" || ti.Expiration.IsZero() {
			t.Errorf("TokenInfo = %+v, want UserID %q", ti, id)
		}
	}
}

// TestSDKHandlerWithoutGuard: without the Guard's principal the go-sdk
// wrapper refuses (fail closed), whatever the Authorization header says.
func TestSDKHandlerWithoutGuard(t *testing.T) {
	t.Parallel()
	h := httpmcp.SDKHandler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("handler called") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, newPost("/mcp", "good", callLS))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("status %d, want 401", rec.Code)
	}
}
