package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

// TestAuthServerCommand: "mcpauthz authserver" serves the file's
// authorization server with its probes, and refuses at start a file that
// asks for a store kind this binary does not register.
func TestAuthServerCommand(t *testing.T) {
	dir := t.TempDir()
	hash, err := authserver.HashSecret("a-client-secret-of-some-length")
	if err != nil {
		t.Fatal(err)
	}
	doc := "issuer: http://127.0.0.1:9\nresources: [{id: \"http://127.0.0.1:8/mcp\", scopes: [mcp:tools]}]\ndev_generate_key: true\n" +
		"clients: [{client_id: agent, secret_hash: \"" + hash + "\", grant_types: [client_credentials], scopes: [mcp:tools]}]\n"
	for name, data := range map[string]string{"as.yaml": doc, "redis.yaml": doc + "stores: {kind: redis, options: {url: \"redis://127.0.0.1:6379\"}}\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var stderr testkit.Buffer
	if code := runAuthServer(context.Background(), []string{"-config", filepath.Join(dir, "redis.yaml")}, io.Discard, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), `unknown store kind "redis" (this program registers: memory); the mcpauthz-redis binary`) {
		t.Fatalf("redis kind: exit %d, %s", code, stderr.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	pr, pw := io.Pipe()
	go func() {
		done <- runAuthServer(ctx, []string{"-config", filepath.Join(dir, "as.yaml"), "-listen", "127.0.0.1:0"}, pw, &stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no start line: %v %s", err, stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	// "mcpauthz authserver: serving http://127.0.0.1:PORT (issuer ..., stores memory (per process))"
	f := strings.Fields(line)
	if len(f) < 4 || !strings.Contains(line, "stores memory (per process)") {
		t.Fatalf("start line %q", line)
	}
	base := f[3]
	resp, err := http.PostForm(base+"/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"agent"}, "client_secret": {"a-client-secret-of-some-length"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("token: %d", resp.StatusCode)
	}
	for _, p := range []string{"/readyz", "/livez"} {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", p, resp.StatusCode)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop")
	}
}
