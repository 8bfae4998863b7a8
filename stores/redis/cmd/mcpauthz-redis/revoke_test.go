package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/authserver/storetest"
	redisstore "github.com/mcpauthz/mcpauthz/stores/redis"
	"github.com/mcpauthz/mcpauthz/stores/redis/redistest"
)

// TestRevokeRefresh: "mcpauthz-redis revoke-refresh" ends the families of
// one subject (one client, then all) in the Redis of the AS file, leaves
// other users' alone, and exits 2 on usage and file errors and 1 with
// Redis down.
func TestRevokeRefresh(t *testing.T) {
	srv := redistest.Start(t)
	up := storetest.NewUpstream(t, "mcp-as", nil)
	dir := t.TempDir()
	const resource = "http://127.0.0.1:1/mcp"
	head := `issuer: http://127.0.0.1:2
resources: [{id: "` + resource + `", scopes: [mcp:tools]}]
signing_keys: [{file: as-key.pem}]
clients:
  - {client_id: native, auth_methods: [none], grant_types: [authorization_code, refresh_token], redirect_uris: ["http://127.0.0.1/callback"], scopes: [mcp:tools]}
`
	broker := `broker:
  upstream: {issuer: "` + up.URL() + `", client_id: mcp-as, client_secret: "${UP_SECRET}"}
  access: [{group: eng, resource: "` + resource + `", scopes: [mcp:tools]}]
  code_key: ${CODE_KEY}
`
	stores := `stores: {kind: redis, options: {url: "` + srv.URL() + `", prefix: "{revoke}:"}}
`
	writeFiles(t, dir, map[string]string{"as-key.pem": keyPEM(t),
		"as.yaml": head + broker + stores, "no-broker.yaml": head + stores, "memory.yaml": head + broker})
	t.Setenv("UP_SECRET", "up-secret")
	t.Setenv("CODE_KEY", "BcEQ9oH811tIddeD3kAW3GrujvDd6+g7Tsfr4/AoHF4=")

	o, err := redisstore.ClientOptions(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	rc := redis.NewClient(o)
	t.Cleanup(func() { _ = rc.Close() })
	rs, err := redisstore.NewRefreshStore(redisstore.RefreshConfig{Config: redisstore.Config{Client: rc, Prefix: "{revoke}:"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	tok := func(h string) authserver.RefreshToken {
		return authserver.RefreshToken{Handle: h, Generation: 1, SecretHash: "secret-" + h}
	}
	for _, f := range []struct{ h, sub, client string }{{"a1", "alice", "native"}, {"a2", "alice", "other"}, {"b1", "bob", "native"}} {
		if err := rs.Save(ctx, tok(f.h), authserver.RefreshFamily{ID: "fam-" + f.h, ClientID: f.client, Subject: f.sub, Created: now, LastUsed: now}); err != nil {
			t.Fatal(err)
		}
	}
	alive := func(h string) bool {
		t.Helper()
		_, err := rs.Peek(ctx, tok(h))
		if err != nil && !errors.Is(err, authserver.ErrRefreshUnknown) {
			t.Fatal(err)
		}
		return err == nil
	}
	cmd := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := run(ctx, append([]string{"revoke-refresh"}, args...), &out, &errOut, options())
		return code, out.String() + errOut.String()
	}
	as := filepath.Join(dir, "as.yaml")
	if code, out := cmd("-config", as, "-subject", "alice", "-client", "native"); code != 0 || !strings.Contains(out, `subject "alice" at client "native"`) {
		t.Fatalf("one client: %d %s", code, out)
	}
	if alive("a1") || !alive("a2") || !alive("b1") {
		t.Fatalf("after -client native: a1 %v a2 %v b1 %v", alive("a1"), alive("a2"), alive("b1"))
	}
	if code, out := cmd("-config", as, "-subject", "alice"); code != 0 || !strings.Contains(out, "every client") {
		t.Fatalf("every client: %d %s", code, out)
	}
	if alive("a2") || !alive("b1") {
		t.Fatal("alice's other family survived, or bob's was revoked")
	}
	for name, args := range map[string][]string{
		"no subject":     {"-config", as},
		"no config":      {"-subject", "alice"},
		"extra argument": {"-config", as, "-subject", "alice", "more"},
		"no broker":      {"-config", filepath.Join(dir, "no-broker.yaml"), "-subject", "alice"},
		"memory stores":  {"-config", filepath.Join(dir, "memory.yaml"), "-subject", "alice"},
		"no file":        {"-config", filepath.Join(dir, "absent.yaml"), "-subject", "alice"},
	} {
		if code, out := cmd(args...); code != 2 {
			t.Errorf("%s: exit %d, want 2: %s", name, code, out)
		}
	}
	srv.Stop()
	if code, out := cmd("-config", as, "-subject", "bob"); code != 1 || !strings.Contains(out, "unavailable") {
		t.Fatalf("Redis down: %d %s", code, out)
	}
}
