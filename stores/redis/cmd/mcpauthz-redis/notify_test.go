package main

import (
	"context"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
	"github.com/mcpauthz/mcpauthz/stores/redis/redistest"
)

// TestPolicyNotify: a proxy replica whose file names policy.watcher (kind
// redis) applies a policy change within 1 s of "mcpauthz-redis
// policy-notify -config guard.yaml" (its poll is 1 h); with Redis down the
// command exits 1.
func TestPolicyNotify(t *testing.T) {
	srv := redistest.Start(t)
	dir := t.TempDir()
	asLn, proxyLn := listen(t), listen(t)
	issuer, resource := "http://"+asLn.Addr().String(), "http://"+proxyLn.Addr().String()+"/mcp"
	hash, err := authserver.HashSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(mcpServer())
	t.Cleanup(up.Close)
	t.Setenv("WATCH_REDIS_URL", srv.URL())
	writeFiles(t, dir, map[string]string{
		"as-key.pem": keyPEM(t),
		"as.yaml": `issuer: ` + issuer + `
resources: [{id: "` + resource + `", scopes: [mcp:tools]}]
signing_keys: [{file: as-key.pem}]
clients:
  - {client_id: alice-agent, secret_hash: "` + hash + `", grant_types: [client_credentials], scopes: [mcp:tools]}
`,
		"guard.yaml": `resource: ` + resource + `
issuers: [{issuer: "` + issuer + `", jwks_uri: "` + issuer + `/jwks.json"}]
model: rbac
policy:
  files: [policy.csv]
  watch: true
  poll_interval: 1h
  watcher: {kind: redis, options: {url: "${WATCH_REDIS_URL}", prefix: "{notify}:"}}
proxy: {upstream: "` + up.URL + `/mcp"}
`,
		"policy.csv": "p, *, server, connect, allow\np, *, *, list, allow\n",
		"plain.yaml": "resource: " + resource + "\nissuers: [{issuer: \"" + issuer + "\"}]\nauthenticate_only: true\n",
	})
	asURL := start(t, asLn, "authserver", "-config", filepath.Join(dir, "as.yaml"))
	proxyURL, proxyLog := startLogged(t, proxyLn, "proxy", "-config", filepath.Join(dir, "guard.yaml"))
	// A watcher says "replicas": the memory session store is warned about.
	for _, want := range []string{"policy watcher on Redis", "stores are per process (memory) but the file suggests several replicas", "policy.watcher (replicas notified together)"} {
		if !strings.Contains(proxyLog.String(), want) {
			t.Fatalf("proxy log lacks %q:\n%s", want, proxyLog.String())
		}
	}
	_, tok := token(t, asURL, "alice-agent")
	const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	const call = `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{}}}`
	st, body := mcpCall(t, proxyURL, tok, "", initBody)
	sid, _ := body["session"].(string)
	if st != 200 || sid == "" {
		t.Fatalf("initialize: %d %v", st, body)
	}
	if st, _ := mcpCall(t, proxyURL, tok, sid, call); st != 403 {
		t.Fatalf("echo before the change: %d, want 403", st)
	}
	if err := os.WriteFile(filepath.Join(dir, "policy.csv"), []byte("p, *, server, connect, allow\np, *, *, list, allow\np, *, tool:echo, call, allow\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut testkit.Buffer
	start := time.Now()
	if code := run(context.Background(), []string{"policy-notify", "-config", filepath.Join(dir, "guard.yaml")}, &out, &errOut, options()); code != 0 || !strings.Contains(out.String(), "sent") {
		t.Fatalf("policy-notify: exit %d, %s%s", code, out.String(), errOut.String())
	}
	for {
		st, _ := mcpCall(t, proxyURL, tok, sid, call)
		if st == 200 {
			break
		}
		if time.Since(start) > time.Second {
			t.Fatalf("echo %v after policy-notify: %d, want 200 within 1 s", time.Since(start), st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("the proxy applied the change %v after policy-notify started", time.Since(start).Round(time.Millisecond))

	srv.Stop()
	errOut = testkit.Buffer{}
	if code := run(context.Background(), []string{"policy-notify", "-config", filepath.Join(dir, "guard.yaml")}, io.Discard, &errOut, options()); code != 1 {
		t.Fatalf("policy-notify with Redis down: exit %d, %s", code, errOut.String())
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"policy-notify"}, "-config is required"},
		{[]string{"policy-notify", "-config", filepath.Join(dir, "as.yaml")}, "config: invalid configuration"},
		{[]string{"policy-notify", "-config", filepath.Join(dir, "plain.yaml")}, "has no policy.watcher of kind redis"},
	} {
		var e testkit.Buffer
		if code := run(context.Background(), tc.args, io.Discard, &e, options()); code != 2 || !strings.Contains(e.String(), tc.want) {
			t.Errorf("%v: exit %d, %q, want %q", tc.args, code, e.String(), tc.want)
		}
	}
}
