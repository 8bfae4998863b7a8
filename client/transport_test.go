package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// scopedEnv is an AS that remembers the scopes of each token and an RS whose
// authorize hook sees them.
type scopedEnv struct {
	as     *fakeAS
	rs     *fakeRS
	mu     sync.Mutex
	scopes map[string][]string
}

func newScopedEnv(t *testing.T) *scopedEnv {
	e := &scopedEnv{scopes: map[string][]string{}}
	n := 0
	e.as = newFakeAS(t, func(r recorded) (int, any) {
		e.mu.Lock()
		defer e.mu.Unlock()
		n++
		tok := fmt.Sprintf("at-%d", n)
		e.scopes[tok] = strings.Fields(r.Form.Get("scope"))
		return 200, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600}
	})
	e.rs = newFakeRS(t, e.as.srv.URL)
	return e
}

func (e *scopedEnv) has(tok, scope string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return containsString(e.scopes[tok], scope)
}

func insufficient(scope string) string {
	return `Bearer error="insufficient_scope", scope="` + scope + `", error_description="need more"`
}

func TestStepUpUnion(t *testing.T) {
	t.Parallel()
	e := newScopedEnv(t)
	e.rs.headerScope = "a"
	e.rs.authorize = func(tok string, r *http.Request) (int, string) {
		if !e.has(tok, "b") {
			return 403, insufficient("b")
		}
		return 0, ""
	}
	a := mustNew(t, Config{ServerURL: e.rs.url(), Grant: mustCC(t, basicCreds())})
	if resp := doGet(t, a.HTTPClient(nil), e.rs.url()); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	reqs := e.as.rec.all()
	if len(reqs) != 2 || reqs[0].Form.Get("scope") != "a" || reqs[1].Form.Get("scope") != "a b" {
		t.Fatalf("token requests %v", reqs)
	}
}

func TestStepUpBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		maxStepUps int
		authorize  func(e *scopedEnv) func(string, *http.Request) (int, string)
		wantStatus int
		wantTokens int
	}{
		{
			name: "endless new scopes stop after the budget", maxStepUps: 0,
			authorize: func(e *scopedEnv) func(string, *http.Request) (int, string) {
				n := 0
				var mu sync.Mutex
				return func(string, *http.Request) (int, string) {
					mu.Lock()
					defer mu.Unlock()
					n++
					return 403, insufficient(fmt.Sprintf("s%d", n))
				}
			},
			wantStatus: 403, wantTokens: 1 + DefaultMaxStepUps,
		},
		{
			name: "budget of one", maxStepUps: 1,
			authorize: func(e *scopedEnv) func(string, *http.Request) (int, string) {
				return func(tok string, _ *http.Request) (int, string) { return 403, insufficient("z" + tok) }
			},
			wantStatus: 403, wantTokens: 2,
		},
		{
			name: "step-up disabled", maxStepUps: -1,
			authorize: func(e *scopedEnv) func(string, *http.Request) (int, string) {
				return func(string, *http.Request) (int, string) { return 403, insufficient("b") }
			},
			wantStatus: 403, wantTokens: 1,
		},
		{
			name: "no new scope in challenge",
			authorize: func(e *scopedEnv) func(string, *http.Request) (int, string) {
				return func(string, *http.Request) (int, string) { return 403, insufficient("a") }
			},
			wantStatus: 403, wantTokens: 1,
		},
		{
			name: "403 policy denial without insufficient_scope",
			authorize: func(e *scopedEnv) func(string, *http.Request) (int, string) {
				return func(string, *http.Request) (int, string) { return 403, `Bearer error="access_denied"` }
			},
			wantStatus: 403, wantTokens: 1,
		},
		{
			name: "second 401 is returned",
			authorize: func(e *scopedEnv) func(string, *http.Request) (int, string) {
				return func(string, *http.Request) (int, string) { return 401, `Bearer error="invalid_token"` }
			},
			wantStatus: 401, wantTokens: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newScopedEnv(t)
			e.rs.headerScope = "a"
			e.rs.authorize = tc.authorize(e)
			a := mustNew(t, Config{ServerURL: e.rs.url(), Grant: mustCC(t, basicCreds()), MaxStepUps: tc.maxStepUps})
			resp := doGet(t, a.HTTPClient(nil), e.rs.url())
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if b, _ := io.ReadAll(resp.Body); !strings.Contains(string(b), "error") {
				t.Errorf("final response body lost: %q", b)
			}
			if n := len(e.as.rec.all()); n != tc.wantTokens {
				t.Errorf("token requests = %d, want %d", n, tc.wantTokens)
			}
		})
	}
}

// onceReader is a body without GetBody.
type onceReader struct{ io.Reader }

func (onceReader) Close() error { return nil }

func TestTransportReplaysBodyAndGuardsOrigin(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t, bearerOK(3600))
	var mu sync.Mutex
	var bodies, auths []string
	var rsURL string
	rs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, wellKnownPRM) {
			writeJSON(w, 200, map[string]any{"resource": rsURL, "authorization_servers": []string{as.srv.URL}})
			return
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies, auths = append(bodies, string(b)), append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		if r.Header.Get("Authorization") == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="x"`)
			w.WriteHeader(401)
			return
		}
		w.WriteHeader(200)
	}))
	defer rs.Close()
	rsURL = rs.URL + "/mcp"
	var foreignAuth []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		foreignAuth = append(foreignAuth, r.Header.Get("Authorization"))
	}))
	defer other.Close()

	a := mustNew(t, Config{ServerURL: rsURL, Grant: mustCC(t, basicCreds())})
	hc := a.HTTPClient(nil)
	req, _ := http.NewRequest(http.MethodPost, rsURL, onceReader{strings.NewReader(`{"jsonrpc":"2.0"}`)})
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(bodies) != 2 || bodies[0] != bodies[1] || bodies[1] != `{"jsonrpc":"2.0"}` {
		t.Fatalf("status %d bodies %q", resp.StatusCode, bodies)
	}
	if auths[0] != "" || auths[1] != "Bearer at-1" {
		t.Errorf("auth headers %q", auths)
	}
	if resp, err := hc.Get(other.URL + "/mcp"); err == nil {
		resp.Body.Close()
	}
	if len(foreignAuth) != 1 || foreignAuth[0] != "" {
		t.Errorf("foreign origin saw %q", foreignAuth)
	}
	// Too large to buffer.
	tr := &Transport{Authorizer: a, MaxReplayBytes: 4}
	req, _ = http.NewRequest(http.MethodPost, rsURL, onceReader{strings.NewReader("12345")})
	if _, err := tr.RoundTrip(req); !errors.Is(err, ErrBodyTooLarge) {
		t.Errorf("err = %v", err)
	}
}

func TestTokenBeforeDiscovery(t *testing.T) {
	t.Parallel()
	a := mustNew(t, Config{ServerURL: "https://mcp.example.com/mcp", Grant: mustCC(t, basicCreds())})
	if _, err := a.Token(context.Background()); !errors.Is(err, ErrNotAuthorized) {
		t.Errorf("err = %v", err)
	}
	for _, bad := range []Config{
		{ServerURL: "https://mcp.example.com/mcp"},
		{ServerURL: "http://mcp.example.com/mcp", Grant: mustCC(t, basicCreds())},
		{ServerURL: "https://u:p@mcp.example.com/mcp", Grant: mustCC(t, basicCreds())},
		{ServerURL: "mcp.example.com/mcp", Grant: mustCC(t, basicCreds())},
	} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%+v) accepted", bad)
		}
	}
}
