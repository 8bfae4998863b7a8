package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// entraLikeToken mints a token shaped like an Entra ID access token at its
// group limit: 200 group object ids (beyond 200 Entra sends an overage
// claim instead of the list) plus the usual claims.
func entraLikeToken(t *testing.T, e *proxyEnv) string {
	t.Helper()
	groups := make([]string, 200)
	for i := range groups {
		groups[i] = fmt.Sprintf("%08x-1f2e-4d3c-9b8a-%012x", i*7919, i*104729)
	}
	tok := e.idp.Mint(map[string]any{
		"aud": e.resource, "sub": "alice", "client_id": "test-client", "scope": "mcp:tools",
		"groups": groups, "name": "Alice Example", "preferred_username": "alice@contoso.example",
		"oid": "0b5f8c1e-4a2d-4c3b-9e8f-7a6b5c4d3e2f", "tid": "72f988bf-86f1-41af-91ab-2d7cd011db47",
		"appid": "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "ver": "2.0", "uti": "AbCdEfGhIjKlMnOpQrStUv",
		"rh": "0.AAAAv4j5cvGGr0GRqy180BHbR5V3sAQ", "wids": []string{"b79fbf4d-3ef9-4689-8143-76b194e85509"},
	})
	if len(tok) < 11<<10 {
		t.Fatalf("the Entra-like token is only %d bytes", len(tok))
	}
	return tok
}

// postList posts tools/list to e with the given Authorization value and one
// extra header of pad bytes ("" and 0 for none).
func postList(t *testing.T, e *proxyEnv, authz string, pad int) int {
	t.Helper()
	return postListQuery(t, e, authz, pad, "")
}

func postListQuery(t *testing.T, e *proxyEnv, authz string, pad int, query string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url+query, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-11-25")
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if pad > 0 {
		req.Header.Set("X-Pad", strings.Repeat("a", pad))
	}
	// A fresh connection each time: on a reused one net/http's slop grows.
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if testing.Verbose() {
		t.Logf("%d %s %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), b)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestProxyHeaderBudget: what an unauthenticated request can make the proxy
// read is bounded by the header budget, sized from max_token_bytes (8 KiB
// token + 4 KiB by default; net/http reads at most 4 KiB more), not 64 KiB.
// An Entra ID token with 200 groups needs max_token_bytes: 16384, which
// raises the budget with it; proxy.max_header_bytes moves it explicitly.
func TestProxyHeaderBudget(t *testing.T) {
	t.Parallel()
	t.Run("default", func(t *testing.T) {
		t.Parallel()
		e := startProxy(t, "", nil)
		if got := postList(t, e, "Bearer "+e.idp.Token(e.resource, "alice", "mcp:tools"), 0); got != http.StatusOK {
			t.Errorf("ordinary token: %d, want 200", got)
		}
		if got := postList(t, e, "", 17<<10); got != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("unauthenticated request with 17 KiB of headers: %d, want 431", got)
		}
		if got := postList(t, e, "Bearer "+strings.Repeat("x", 17<<10), 0); got != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("17 KiB garbage token: %d, want 431", got)
		}
		if got := postList(t, e, "Bearer "+entraLikeToken(t, e), 0); got != http.StatusUnauthorized {
			t.Errorf("12 KiB token over the default 8 KiB token cap: %d, want 401", got)
		}
	})
	t.Run("entra", func(t *testing.T) {
		t.Parallel()
		e := startProxy(t, "max_token_bytes: 16384\n", nil)
		if got := postList(t, e, "Bearer "+entraLikeToken(t, e), 0); got != http.StatusOK {
			t.Errorf("Entra-sized token with max_token_bytes 16384: %d, want 200", got)
		}
		if got := postList(t, e, "", 25<<10); got != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("unauthenticated request with 25 KiB of headers: %d, want 431", got)
		}
	})
	t.Run("explicit", func(t *testing.T) {
		t.Parallel()
		e := startProxy(t, "  max_header_bytes: 9000\n", nil)
		if got := postList(t, e, "Bearer "+e.idp.Token(e.resource, "alice", "mcp:tools"), 0); got != http.StatusOK {
			t.Errorf("ordinary token: %d, want 200", got)
		}
		if got := postList(t, e, "", 14<<10); got != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("14 KiB of headers over a 9000-byte budget: %d, want 431", got)
		}
	})
}

// TestProxyQueryKnob: proxy.forward_query reaches the library.
func TestProxyQueryKnob(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		yaml string
		want int
	}{{"", http.StatusBadRequest}, {"  forward_query: true\n", http.StatusOK}} {
		e := startProxy(t, tt.yaml, nil)
		if got := postListQuery(t, e, "Bearer "+e.idp.Token(e.resource, "alice", "mcp:tools"), 0, "?tenant=a"); got != tt.want {
			t.Errorf("%q: %d, want %d", tt.yaml, got, tt.want)
		}
	}
}
