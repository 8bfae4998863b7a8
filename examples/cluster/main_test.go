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

	"github.com/mcpauthz/mcpauthz/casbinmodels"

	"github.com/mcpauthz/mcpauthz/stores/postgres"
	"github.com/mcpauthz/mcpauthz/stores/postgres/pgtest"
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
		done <- run(ctx, []string{"-redis", srv.URL(), "-as-addr", "127.0.0.1:0", "-mcp-addr", "127.0.0.1:0", "-idp-addr", "127.0.0.1:0"},
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
	// every AS replica (the proxy goes round) agrees on the signing keys
	for i := range 3 {
		resp, err := http.Get(asURL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("AS /readyz %d (replica %s): %d %s", i, resp.Header.Get("X-Cluster-Replica"), resp.StatusCode, body)
		}
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

// With -policy-db the example runs the whole topology against a real
// PostgreSQL and Redis: the empty table is seeded, demo-client's echo call
// is allowed through every replica; a rule removed in PostgreSQL and
// announced with NOTIFY is followed by every replica within a second; and
// a second cluster started while PostgreSQL is down starts from the
// last-good file, not ready, still deciding with the last good policy.
func TestClusterPolicyDB(t *testing.T) {
	pg, rs := pgtest.Start(t), redistest.Start(t)
	lastGood := t.TempDir() + "/policy.lastgood"
	env := map[string]string{"DEMO_CLIENT_SECRET": "test-secret-0123456789", "POLICY_DB": pg.DSN(), "LAST_GOOD": lastGood}
	start := func(ctx context.Context) (asURL, mcpURL string, done chan error) {
		t.Helper()
		urls := make(chan [2]string, 1)
		done = make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"-redis", rs.URL(), "-as-addr", "127.0.0.1:0", "-mcp-addr", "127.0.0.1:0", "-idp-addr", "127.0.0.1:0", "-policy-poll", "500ms"},
				func(k string) string { return env[k] }, io.Discard, func(a, m string) { urls <- [2]string{a, m} })
		}()
		select {
		case u := <-urls:
			return u[0], u[1], done
		case err := <-done:
			t.Fatal(err)
		case <-time.After(30 * time.Second):
			t.Fatal("not ready")
		}
		return "", "", nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	asURL, mcpURL, done := start(ctx)
	tok := token(t, asURL)
	// echo calls the tool in a new session; false: denied by policy.
	echo := func(mcpURL, tok string) bool {
		t.Helper()
		sess := connect(t, ctx, mcpURL, tok)
		defer sess.Close()
		res, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "hi"}})
		switch {
		case err != nil && strings.Contains(err.Error(), "Forbidden"):
			return false
		case err != nil || res.IsError:
			t.Fatalf("echo: %v %+v", err, res)
		}
		return true
	}
	for range 3 { // round robin: every replica
		if !echo(mcpURL, tok) {
			t.Fatal("echo denied with the seeded policy")
		}
	}

	// Remove the rule in PostgreSQL and announce it: every replica denies.
	w, err := postgres.NewWatcher(postgres.WatcherConfig{DSN: pg.DSN()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	admin, err := postgres.NewSource(postgres.SourceConfig{DSN: pg.DSN(), Model: mustModel(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	rule := []string{"client:demo-client", "tool:echo", "call", "allow"}
	if err := admin.Adapter().RemovePolicy("p", "p", rule); err != nil {
		t.Fatal(err)
	}
	if err := w.Update(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for denied := 0; denied < 3; { // three denials in a row: every replica
		if echo(mcpURL, tok) {
			denied = 0
		} else {
			denied++
		}
		if time.Now().After(deadline) {
			t.Fatal("the replicas did not follow the change")
		}
	}

	// PostgreSQL down: a second cluster starts from the last-good file.
	pg.Stop()
	ctx2, cancel2 := context.WithCancel(ctx)
	defer cancel2()
	as2, mcp2, done2 := start(ctx2)
	resp, err := http.Get(strings.TrimSuffix(mcp2, "/mcp") + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "last-good") {
		t.Fatalf("readyz of a replica started from the last-good file: %d %s", resp.StatusCode, body)
	}
	if echo(mcp2, token(t, as2)) {
		t.Fatal("the last-good policy (echo removed) is not in force")
	}
	cancel2()
	if err := <-done2; err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func mustModel(t *testing.T) string {
	t.Helper()
	m, err := casbinmodels.Model("rbac")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func token(t *testing.T, asURL string) string {
	t.Helper()
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
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != 200 {
		t.Fatalf("grant: %d %v", resp.StatusCode, err)
	}
	return m.AccessToken
}

func connect(t *testing.T, ctx context.Context, mcpURL, tok string) *mcp.ClientSession {
	t.Helper()
	cl := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	sess, err := cl.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: mcpURL, HTTPClient: &http.Client{Transport: bearer{tok}, Timeout: 10 * time.Second}, DisableStandaloneSSE: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sess
}
