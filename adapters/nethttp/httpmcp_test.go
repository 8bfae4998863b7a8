package httpmcp_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/core"
)

// staticVerifier accepts the token "good" (alice) and "other" (bob).
type staticVerifier struct{}

func (staticVerifier) Verify(_ context.Context, tok string) (*core.Claims, error) {
	switch tok {
	case "good":
		return &core.Claims{Issuer: "https://idp.example", Subject: "alice", Scopes: []string{"mcp:tools"}, Expiry: time.Now().Add(time.Hour)}, nil
	case "other":
		return &core.Claims{Issuer: "https://idp.example", Subject: "bob", Expiry: time.Now().Add(time.Hour)}, nil
	}
	return nil, core.ErrSignature
}

type allowAll struct{}

func (allowAll) Authorize(context.Context, *core.Principal, core.Permission) (core.Decision, error) {
	return core.Decision{Allow: true}, nil
}

func newGuard(t testing.TB, resource string) *core.Guard {
	t.Helper()
	g, err := core.New(core.Config{
		Resource:   resource,
		Verifier:   staticVerifier{},
		Authorizer: allowAll{},
		Metadata:   core.ProtectedResourceMetadata{AuthorizationServers: []string{"https://idp.example"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

const callLS = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls","arguments":{}}}`

func newPost(target, token, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return r
}

// TestRouteCoverage is H04: on a real ServeMux, no spelling of the endpoint
// reaches the MCP handler without a token, and the metadata route is the
// only unauthenticated one.
func TestRouteCoverage(t *testing.T) {
	t.Parallel()
	g := newGuard(t, "https://mcp.example.com/mcp")
	var calls atomic.Int32
	mux := http.NewServeMux()
	httpmcp.Register(mux, g, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls.Add(1) }))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	paths := []string{"/mcp", "/mcp/", "//mcp", "/MCP", "/mcp%2F", "/mcp/x", "/./mcp", "/mcp/..", "/%6Dcp", "/mcp?x=1", "/mcp#f"}
	methods := []string{"GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range paths {
		for _, m := range methods {
			req, err := http.NewRequest(m, srv.URL+p, strings.NewReader(callLS))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode < 300 {
				t.Errorf("%s %s = %d without a token", m, p, resp.StatusCode)
			}
		}
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("MCP handler called %d times without a token", n)
	}
	resp, err := http.Get(srv.URL + g.MetadataPath())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("metadata = %d", resp.StatusCode)
	}
}

// TestHandlerSees checks the principal, the go-sdk TokenInfo and the
// restored body.
func TestHandlerSees(t *testing.T) {
	t.Parallel()
	g := newGuard(t, "https://mcp.example.com/mcp")
	var got struct {
		p    *core.Principal
		ti   *auth.TokenInfo
		body []byte
		cl   int64
	}
	h := httpmcp.Middleware(g)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.p, _ = httpmcp.PrincipalFrom(r)
		got.ti = auth.TokenInfoFromContext(r.Context())
		got.body, _ = io.ReadAll(r.Body)
		got.cl = r.ContentLength
	}))
	body := " " + callLS + "\n"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, newPost("/mcp", "good", body))
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if got.p == nil || got.p.Subject != "alice" {
		t.Fatalf("principal = %+v", got.p)
	}
	if got.ti == nil || got.ti.UserID != got.p.ID() || got.ti.Scopes[0] != "mcp:tools" || got.ti.Expiration.IsZero() {
		t.Errorf("TokenInfo = %+v", got.ti)
	}
	if string(got.body) != body || got.cl != int64(len(body)) {
		t.Errorf("body %q (%d)", got.body, got.cl)
	}
}

// TestRefusalCopiesRender: the response is exactly Guard.Render's, and the
// handler is not called.
func TestRefusalCopiesRender(t *testing.T) {
	t.Parallel()
	g := newGuard(t, "https://mcp.example.com/mcp")
	called := false
	h := httpmcp.Middleware(g)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	for _, tok := range []string{"", "bad"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, newPost("/mcp", tok, callLS))
		_, err := g.Check(context.Background(), &core.Request{Method: "POST", Header: newPost("/mcp", tok, callLS).Header, Body: []byte(callLS)})
		want := g.Render(err)
		if rec.Code != want.Status || !bytes.Equal(rec.Body.Bytes(), want.Body) ||
			rec.Header().Get("WWW-Authenticate") != want.Header.Get("WWW-Authenticate") {
			t.Errorf("token %q: got %d %v %s, want %d %v %s", tok, rec.Code, rec.Header(), rec.Body, want.Status, want.Header, want.Body)
		}
	}
	if called {
		t.Error("handler called on refusal")
	}
}

func TestBodyErrors(t *testing.T) {
	t.Parallel()
	g := newGuard(t, "https://mcp.example.com/mcp")
	h := httpmcp.Middleware(g)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("handler called") }))
	r := newPost("/mcp", "good", "")
	r.Body = io.NopCloser(iotest.ErrReader(errors.New("connection reset")))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("read error = %d", rec.Code)
	}
	r = newPost("/mcp", "good", strings.Repeat(" ", int(g.MaxBodyBytes())+1))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized = %d", rec.Code)
	}
}

func TestRegisterPaths(t *testing.T) {
	t.Parallel()
	tests := []struct{ resource, hit, miss string }{
		{"https://mcp.example.com/mcp/", "/mcp/", "/mcp/x"},
		{"https://mcp.example.com", "/", "/x"},
		{"https://mcp.example.com/a/b/mcp", "/a/b/mcp", "/a/b"},
	}
	for _, tt := range tests {
		g := newGuard(t, tt.resource)
		mux := http.NewServeMux()
		httpmcp.Register(mux, g, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(299) }))
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, newPost(tt.hit, "good", callLS))
		if rec.Code != 299 {
			t.Errorf("%s: %s = %d", tt.resource, tt.hit, rec.Code)
		}
		rec = httptest.NewRecorder()
		mux.ServeHTTP(rec, newPost(tt.miss, "good", callLS))
		if rec.Code == 299 {
			t.Errorf("%s: %s reached the handler", tt.resource, tt.miss)
		}
		rec = httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", g.MetadataPath(), nil))
		if rec.Code != 200 {
			t.Errorf("%s: metadata %s = %d", tt.resource, g.MetadataPath(), rec.Code)
		}
	}
}
