package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauthz/mcpauthz/stores/redis/redistest"
)

type bearer struct{ tok string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.tok)
	return http.DefaultTransport.RoundTrip(r)
}

// The example runs against a real redis-server: a token from the AS proxy
// works on every MCP replica; with Redis stopped, grants answer 503.
func TestCluster(t *testing.T) {
	srv := redistest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := map[string]string{"DEMO_CLIENT_SECRET": "test-secret-0123456789"}
	urls := make(chan [2]string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-redis", srv.URL(), "-as-addr", "127.0.0.1:0", "-mcp-addr", "127.0.0.1:0"},
			func(k string) string { return env[k] }, io.Discard, func(a, m string) { urls <- [2]string{a, m} })
	}()
	var asURL, mcpURL string
	select {
	case u := <-urls:
		asURL, mcpURL = u[0], u[1]
	case err := <-done:
		t.Fatal(err)
	case <-time.After(20 * time.Second):
		t.Fatal("not ready")
	}
	grant := func() (int, string) {
		req, _ := http.NewRequest(http.MethodPost, asURL+"/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("demo-client", "test-secret-0123456789")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m struct {
			AccessToken string `json:"access_token"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m.AccessToken
	}
	status, tok := grant()
	if status != 200 {
		t.Fatalf("grant: %d", status)
	}
	cl := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	sess, err := cl.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: mcpURL, HTTPClient: &http.Client{Transport: bearer{tok}, Timeout: 10 * time.Second}, DisableStandaloneSSE: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	call := func() {
		t.Helper()
		for range 3 {
			res, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "hi"}})
			if err != nil || res.IsError {
				t.Fatalf("echo: %v %+v", err, res)
			}
		}
	}
	call()
	srv.Stop()
	if status, _ := grant(); status != 503 {
		t.Fatalf("grant with Redis down: %d, want 503", status)
	}
	call()
	srv.Start()
	deadline := time.Now().Add(10 * time.Second)
	for {
		// Redis restarted empty: the replay store is in quarantine, but
		// client_credentials with a secret needs only the limiter.
		if status, _ := grant(); status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("grants did not resume")
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
