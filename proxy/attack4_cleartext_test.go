package proxy_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/proxy"
)

// TestCleartextUpstreamWarned (attack-4): an operator who points the
// proxy at a plain-http upstream on another host with forward_token (or
// forward_principal) sends every bearer token (or identity headers that
// the upstream trusts) across the network in cleartext; it started
// without a word. New now warns once; https, loopback upstreams and a
// proxy that forwards neither stay quiet.
func TestCleartextUpstreamWarned(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name     string
		upstream string
		token    bool
		princ    bool
		warn     bool
	}{
		{"token over http to a private address", "http://10.9.9.9/mcp", true, false, true},
		{"principal over http to a name", "http://mcp.internal:3000/mcp", false, true, true},
		{"token over https", "https://mcp.internal/mcp", true, true, false},
		{"token over http to loopback", "http://127.0.0.1:3000/mcp", true, true, false},
		{"token over http to localhost", "http://localhost:3000/mcp", true, false, false},
		{"nothing forwarded", "http://10.9.9.9/mcp", false, false, false},
	} {
		var logs bytes.Buffer
		_, err := proxy.New(proxy.Config{Guard: f.g, Upstream: tc.upstream, ForwardToken: tc.token, ForwardPrincipal: tc.princ,
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := strings.Contains(logs.String(), "cleartext"); got != tc.warn {
			t.Errorf("%s: warned %v, want %v; logs %q", tc.name, got, tc.warn, logs.String())
		}
	}
}
