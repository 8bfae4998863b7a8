package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// TestCheckReach: a URL an MCP server's answers point at may not be closer
// to the client than the server itself.
func TestCheckReach(t *testing.T) {
	tests := []struct {
		server, target string
		ok             bool
	}{
		{"https://mcp.example.com/mcp", "https://mcp.example.com/.well-known/oauth-protected-resource/mcp", true},
		{"https://mcp.example.com/mcp", "https://as.example.net", true},
		{"https://mcp.example.com/mcp", "http://127.0.0.1:8080/admin", false},
		{"https://mcp.example.com/mcp", "http://[::1]:8080/", false},
		{"https://mcp.example.com/mcp", "http://localhost:9000/", false},
		{"https://mcp.example.com/mcp", "https://app.localhost/", false},
		{"https://mcp.example.com/mcp", "https://LOCALHOST./", false},
		{"https://mcp.example.com/mcp", "https://0.0.0.0/", false},
		{"https://mcp.example.com/mcp", "https://169.254.169.254/latest/meta-data/", false},
		{"https://mcp.example.com/mcp", "https://10.0.0.5/", false},
		{"https://mcp.example.com/mcp", "https://192.168.1.1/", false},
		{"https://mcp.example.com/mcp", "https://[fd00::1]/", false},
		{"https://mcp.example.com/mcp", "https://[::ffff:10.0.0.5]/", false},
		{"https://mcp.example.com/mcp", "https://100.64.0.1/", false},
		{"https://mcp.example.com/mcp", "https://8.8.8.8/", true},
		{"https://10.0.0.9/mcp", "https://10.0.0.5/", true},
		{"https://10.0.0.9/mcp", "http://127.0.0.1/", false},
		{"http://127.0.0.1:3000/mcp", "http://127.0.0.1:4000/as", true},
		{"http://localhost:3000/mcp", "https://10.0.0.5/", true},
	}
	for _, tc := range tests {
		su, _ := url.Parse(tc.server)
		err := checkReach("resource_metadata", tc.target, su)
		if (err == nil) != tc.ok {
			t.Errorf("server %s, target %s: %v, want ok=%v", tc.server, tc.target, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrDiscovery) {
			t.Errorf("%s: %v does not wrap ErrDiscovery", tc.target, err)
		}
	}
}

// TestHostileServerCannotAimDiscovery: a remote MCP server (reached through
// a transport that maps its name to a loopback listener) answers 401 with a
// resource_metadata URL, or serves metadata naming an authorization server,
// on the client's own loopback. Before checkReach the client sent requests
// there (blind request forgery against the client's machine); now discovery
// fails and the internal service sees nothing.
func TestHostileServerCannotAimDiscovery(t *testing.T) {
	var hits atomic.Int64
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.NotFound(w, r)
	}))
	defer internal.Close()
	const server = "http://mcp.evil.example/mcp"
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"resource": server, "authorization_servers": []string{internal.URL}})
	}))
	defer evil.Close()
	evilAddr := strings.TrimPrefix(evil.URL, "http://")
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == "mcp.evil.example:80" {
			addr = evilAddr
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}}
	tests := []struct {
		name      string
		challenge string
		allow     bool // Config.AllowLocalDiscovery
	}{
		{"resource_metadata on the client's loopback", `Bearer resource_metadata="` + internal.URL + `/admin/reset?confirm=1"`, false},
		{"authorization server on the client's loopback", `Bearer resource_metadata="http://mcp.evil.example/.well-known/oauth-protected-resource/mcp"`, false},
		{"opted in: followed", `Bearer resource_metadata="` + internal.URL + `/prm"`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hits.Store(0)
			g, err := NewClientCredentials(ClientCredentialsConfig{Credentials: Credentials{ClientID: "c", ClientSecret: "s"}, HTTPClient: hc})
			if err != nil {
				t.Fatal(err)
			}
			a, err := New(Config{ServerURL: server, Grant: g, HTTPClient: hc, AllowInsecureHTTP: true, AllowLocalDiscovery: tc.allow})
			if err != nil {
				t.Fatal(err)
			}
			err = a.HandleUnauthorized(context.Background(), http.Header{"Www-Authenticate": {tc.challenge}}, "")
			if tc.allow {
				if hits.Load() != 1 || strings.Contains(fmt.Sprint(err), "client's own machine") {
					t.Errorf("AllowLocalDiscovery: %d request(s) sent, error %v", hits.Load(), err)
				}
				return
			}
			if !errors.Is(err, ErrDiscovery) || !strings.Contains(err.Error(), "client's own machine") {
				t.Errorf("HandleUnauthorized: %v, want the reach refusal", err)
			}
			if n := hits.Load(); n != 0 {
				t.Errorf("the client sent %d request(s) to its own loopback", n)
			}
		})
	}
}
