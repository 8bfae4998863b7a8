package main

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/stores/redis/internal/redisha"
)

// TestSentinelFromConfig: an authorization server replica (with the
// rueidis Sender) and a proxy replica reach a Sentinel-managed Redis from
// their files alone, passwords from the environment; after SENTINEL
// FAILOVER both work on the new master without a restart.
func TestSentinelFromConfig(t *testing.T) {
	// The data nodes and the sentinels require a password, given to the
	// files through the environment only.
	const pass = "a-redis-password"
	s := redisha.StartWith(t, redisha.Options{Password: pass})
	ctx := context.Background()
	t.Setenv("REDIS_PASSWORD", pass)
	dir := t.TempDir()
	asLn, proxyLn := listen(t), listen(t)
	issuer, resource := "http://"+asLn.Addr().String(), "http://"+proxyLn.Addr().String()+"/mcp"
	hash, err := authserver.HashSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	redisOpts := `sentinel: {master: ` + redisha.Master + `, addrs: ["` + s.Sentinels[0] + `", "` + s.Sentinels[1] + `"], password: "${REDIS_PASSWORD}"}
    password: "${REDIS_PASSWORD}"
    prefix: "{sentinel-cli}:"`
	up := httptest.NewServer(mcpServer())
	t.Cleanup(up.Close)
	writeFiles(t, dir, map[string]string{
		"as-key.pem": keyPEM(t),
		"as.yaml": `issuer: ` + issuer + `
resources: [{id: "` + resource + `", scopes: [mcp:tools]}]
signing_keys: [{file: as-key.pem}]
clients:
  - {client_id: alice-agent, secret_hash: "` + hash + `", grant_types: [client_credentials], scopes: [mcp:tools]}
stores:
  kind: redis
  options:
    sender: rueidis
    ` + redisOpts + `
`,
		"guard.yaml": `resource: ` + resource + `
issuers: [{issuer: "` + issuer + `", jwks_uri: "` + issuer + `/jwks.json"}]
authenticate_only: true
stores:
  sessions: redis
  options:
    ` + redisOpts + `
proxy: {upstream: "` + up.URL + `/mcp"}
`,
	})
	asURL, asLog := startLogged(t, asLn, "authserver", "-config", filepath.Join(dir, "as.yaml"))
	proxyURL, proxyLog := startLogged(t, proxyLn, "proxy", "-config", filepath.Join(dir, "guard.yaml"))
	for _, want := range []string{`redis="sentinel master \"` + redisha.Master + `\" via `, "sender=rueidis"} {
		if !strings.Contains(asLog.String(), want) {
			t.Fatalf("AS log lacks %q:\n%s", want, asLog.String())
		}
	}
	if !strings.Contains(proxyLog.String(), "Guard session bindings on Redis") {
		t.Fatalf("proxy log:\n%s", proxyLog.String())
	}
	if strings.Contains(asLog.String()+proxyLog.String(), "per process") {
		t.Fatalf("shared stores warned about as per process:\n%s%s", asLog.String(), proxyLog.String())
	}
	if strings.Contains(asLog.String()+proxyLog.String(), pass) {
		t.Fatal("a log repeats the Redis password")
	}
	session := func(phase string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			st, tok := token(t, asURL, "alice-agent")
			if st == 200 {
				const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
				st, body := mcpCall(t, proxyURL, tok, "", initBody)
				if sid, _ := body["session"].(string); st == 200 && sid != "" {
					if st, _ := mcpCall(t, proxyURL, tok, sid, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`); st == 200 {
						return
					}
				}
			} else if st != 503 {
				t.Fatalf("%s: token %d, want 200 (or 503 while switching)", phase, st)
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no token and session within 20 s (last token status %d)", phase, st)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	session("through the sentinels")
	if keys, err := s.Client(s.Nodes[0]).Keys(ctx, "{sentinel-cli}:*").Result(); err != nil || len(keys) == 0 {
		t.Fatalf("no keys on the master: %v %v", keys, err)
	}
	if m := s.Failover(ctx); m != s.Nodes[1] {
		t.Fatalf("new master %s", m)
	}
	session("after SENTINEL FAILOVER")
}
