package proxy_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
	"github.com/mcpauthz/mcpauthz/proxy"
)

// upstreamWithPrincipal serves mcp as an upstream server that trusts the
// proxy: it reads the forwarded principal headers into the request context
// and refuses (500) a request without them, so every request of the suite
// that reaches the MCP handler proves the forwarding.
func upstreamWithPrincipal(t testing.TB, mcp http.Handler) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := proxy.PrincipalFromHeader(r.Header)
		if err != nil {
			t.Errorf("upstream: %v", err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if r.Header.Get("Authorization") != "" {
			t.Errorf("upstream received the Authorization header")
		}
		mcp.ServeHTTP(w, r.WithContext(core.WithPrincipal(r.Context(), p)))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// harness runs mcp as a separate upstream server (a go-sdk server, via the
// suite's Spy) and serves the proxy in front of it. The proxy serves the
// metadata itself; the mount prefix is part of g.ResourcePath().
func harness(t testing.TB, g *core.Guard, mcp http.Handler, _ string) string {
	up := upstreamWithPrincipal(t, mcp)
	p, err := proxy.New(proxy.Config{Guard: g, Upstream: up.URL + "/internal/mcp", ForwardPrincipal: true})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(p)
	t.Cleanup(func() {
		p.CloseStreams()
		front.Close()
	})
	return front.URL
}

func TestAdapterSuite(t *testing.T) {
	coretest.RunAdapterSuite(t, coretest.HarnessFunc(harness))
}
