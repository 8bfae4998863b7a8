package client

import (
	"bytes"
	"context"
	"errors"
	"github.com/mcpauthz/mcpauthz/core/mcpext"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// sdkServer is a go-sdk MCP server behind a bearer check that accepts only
// tokens issued by as, answering 401 with a resource_metadata challenge.
func sdkServer(t *testing.T, as *fakeAS) (url string, bodies func() []string) {
	t.Helper()
	s := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "whoami"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "ok"}}}, nil, nil
	})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)
	var mu sync.Mutex
	var seen []string
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == wellKnownPRM+"/mcp" {
			writeJSON(w, 200, map[string]any{"resource": srv.URL + "/mcp", "authorization_servers": []string{as.srv.URL}})
			return
		}
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		mu.Lock()
		seen = append(seen, string(b))
		mu.Unlock()
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer at-") {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", resource_metadata="`+srv.URL+wellKnownPRM+`/mcp"`)
			w.WriteHeader(401)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/mcp", func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), seen...) }
}

func TestGoSDKIntegration(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"http-client", "oauth-handler"} {
		for _, pv := range []string{"", "2025-11-25"} {
			t.Run(mode+"/"+pv, func(t *testing.T) {
				t.Parallel()
				as := newFakeAS(t, bearerOK(3600))
				url, bodies := sdkServer(t, as)
				a := mustNew(t, Config{ServerURL: url, Grant: mustCC(t, basicCreds())})
				tr := &mcp.StreamableClientTransport{Endpoint: url}
				if mode == "http-client" {
					tr.HTTPClient = a.HTTPClient(nil)
				} else {
					tr.OAuthHandler = a.OAuthHandler()
				}
				c := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"},
					&mcp.ClientOptions{Capabilities: WithExtensions(nil, mcpext.OAuthClientCredentials)})
				ctx := context.Background()
				cs, err := c.Connect(ctx, tr, &mcp.ClientSessionOptions{ProtocolVersion: pv})
				if err != nil {
					t.Fatal(err)
				}
				defer cs.Close()
				res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "whoami", Arguments: map[string]any{}})
				if err != nil || res.IsError {
					t.Fatalf("call: %v %+v", err, res)
				}
				if n := len(as.rec.all()); n != 1 {
					t.Errorf("token requests = %d", n)
				}
				declared := false
				for _, b := range bodies() {
					if strings.Contains(b, `"extensions":{"`+mcpext.OAuthClientCredentials+`":{}}`) {
						declared = true
					}
				}
				if pv == "" && !strings.Contains(strings.Join(bodies(), "\n"), `"io.modelcontextprotocol/clientCapabilities":{"extensions":{"`+mcpext.OAuthClientCredentials+`":{}}`) {
					t.Errorf("2026-07-28: extension not in _meta: %q", bodies())
				}
				if !declared {
					t.Errorf("extension not declared in any request: %q", bodies())
				}
			})
		}
	}
}

func TestWithExtensions(t *testing.T) {
	t.Parallel()
	base := &mcp.ClientCapabilities{Extensions: map[string]any{"x/y": map[string]any{"k": 1}}}
	got := WithExtensions(base, mcpext.EnterpriseManagedAuthorization)
	if len(base.Extensions) != 1 {
		t.Error("input modified")
	}
	if len(got.Extensions) != 2 || got.Extensions["x/y"] == nil || got.Extensions[mcpext.EnterpriseManagedAuthorization] == nil {
		t.Errorf("extensions %v", got.Extensions)
	}
}

func TestOAuthHandlerAuthorize(t *testing.T) {
	t.Parallel()
	e := newScopedEnv(t)
	e.rs.headerScope = "a"
	a := mustNew(t, Config{ServerURL: e.rs.url(), Grant: mustCC(t, basicCreds())})
	h := a.OAuthHandler()
	ctx := context.Background()
	if ts, err := h.TokenSource(ctx); ts != nil || err != nil {
		t.Fatalf("before discovery: %v %v", ts, err)
	}
	req := httptest.NewRequest(http.MethodPost, e.rs.url(), nil)
	mk := func(status int, ch string) *http.Response {
		r := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("{}"))}
		if ch != "" {
			r.Header.Set("WWW-Authenticate", ch)
		}
		return r
	}
	if err := h.Authorize(ctx, req, mk(401, `Bearer scope="a", resource_metadata="`+e.rs.srv.URL+wellKnownPRM+`/mcp"`)); err != nil {
		t.Fatal(err)
	}
	ts, _ := h.TokenSource(ctx)
	tok, err := ts.Token()
	if err != nil || tok.AccessToken != "at-1" {
		t.Fatalf("token %v %v", tok, err)
	}
	req.Header.Set("Authorization", "Bearer at-1")
	if err := h.Authorize(ctx, req, mk(403, insufficient("b"))); err != nil {
		t.Fatal(err)
	}
	if got := e.as.rec.all()[1].Form.Get("scope"); got != "a b" {
		t.Errorf("step-up scope %q", got)
	}
	req.Header.Set("Authorization", "Bearer at-2")
	if err := h.Authorize(ctx, req, mk(403, `Bearer error="access_denied"`)); !errors.Is(err, ErrForbidden) {
		t.Errorf("policy 403: %v", err)
	}
	if err := h.Authorize(ctx, req, mk(500, "")); !errors.Is(err, ErrForbidden) {
		t.Errorf("500: %v", err)
	}
}

func TestTokenResponseTooLarge(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t, func(recorded) (int, any) {
		return 200, map[string]any{"access_token": strings.Repeat("x", 4096), "token_type": "Bearer"}
	})
	rs := newFakeRS(t, as.srv.URL)
	g, err := NewClientCredentials(ClientCredentialsConfig{Credentials: basicCreds(), MaxResponseBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if err := mustNew(t, Config{ServerURL: rs.url(), Grant: g}).Authorize(context.Background()); !errors.Is(err, ErrTokenResponse) {
		t.Errorf("err = %v", err)
	}
}
