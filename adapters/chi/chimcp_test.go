package chimcp_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	chimcp "github.com/mcpauthz/mcpauthz/adapters/chi"
	"github.com/mcpauthz/mcpauthz/coretest"
)

const resource = "https://mcp.example.com/api/mcp"

// TestPrincipalFrom: a handler mounted with r.Mount under the middleware
// sees the principal, chi's URL params and the identical body.
func TestPrincipalFrom(t *testing.T) {
	t.Parallel()
	g, idp := coretest.NewSuiteGuard(t, resource, nil)
	r := chi.NewRouter()
	chimcp.RegisterMetadata(r, g)
	sub := chi.NewRouter()
	sub.Use(chimcp.Middleware(g))
	var got string
	sub.Post("/{name}", func(w http.ResponseWriter, r *http.Request) {
		p, ok := chimcp.PrincipalFrom(r)
		b, _ := io.ReadAll(r.Body)
		if ok {
			got = p.Subject + " " + chi.URLParam(r, "name") + " " + string(b)
		}
	})
	r.Mount("/api", sub)
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls","arguments":{}}}`
	req := httptest.NewRequest(http.MethodPost, "/api/mcp", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+idp.Token(resource, "alice"))
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	if w.Code != 200 || got != "alice mcp "+body {
		t.Errorf("status %d, handler saw %q", w.Code, got)
	}
	if p, ok := chimcp.PrincipalFrom(httptest.NewRequest(http.MethodGet, "/", nil)); ok || p != nil {
		t.Errorf("PrincipalFrom without middleware = %v, %v", p, ok)
	}
}

// TestMetadataAtOriginRoot: the document is at the root path derived from
// the resource URL whatever the mount prefix, unauthenticated, for GET,
// HEAD and OPTIONS, and nowhere under the prefix.
func TestMetadataAtOriginRoot(t *testing.T) {
	t.Parallel()
	g, _ := coretest.NewSuiteGuard(t, resource, nil)
	r := newRouter(g, http.NotFoundHandler(), "/api")
	tests := []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/.well-known/oauth-protected-resource/api/mcp", 200},
		{http.MethodHead, "/.well-known/oauth-protected-resource/api/mcp", 200},
		{http.MethodOptions, "/.well-known/oauth-protected-resource/api/mcp", 204},
		{http.MethodPost, "/.well-known/oauth-protected-resource/api/mcp", 405},
		{http.MethodGet, "/api/.well-known/oauth-protected-resource/api/mcp", 401}, // the sub-router middleware runs first
		{http.MethodPost, "/api/mcp", 401},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
		if w.Code != tt.status {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, w.Code, tt.status)
		}
	}
}
