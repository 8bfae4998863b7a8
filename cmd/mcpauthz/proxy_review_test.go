package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

// TestProxyPublicReadyzHidesDetail: without health_listen the probes share
// the public address, where anyone can call them. /readyz then says only
// "not ready"; the cause (which names the upstream and the IdP URLs) goes
// to the log.
func TestProxyPublicReadyzHidesDetail(t *testing.T) {
	dir := t.TempDir()
	yaml := "resource: https://mcp.example.com/mcp\nissuers:\n  - issuer: https://idp.internal.example\n    jwks_uri: http://127.0.0.1:1/jwks\nauthenticate_only: true\n" +
		"proxy:\n  upstream: http://127.0.0.1:1/internal-mcp\n"
	path := filepath.Join(dir, "guard.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	pr, pw := io.Pipe()
	stderr := &testkit.Buffer{}
	go func() {
		done <- runProxy(ctx, []string{"-config", path, "-listen", "127.0.0.1:0"}, pw, stderr)
		pw.Close()
	}()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("proxy did not stop")
		}
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("proxy did not start: %v\n%s", err, stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	f := strings.Fields(line)
	base := strings.TrimSuffix(f[3], "/mcp")
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/readyz = %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(string(body), "the cause is in the log") {
		t.Errorf("the public /readyz does not say where the cause is: %s", body)
	}
	for _, secret := range []string{"127.0.0.1:1", "internal-mcp", "idp.internal.example", "jwks"} {
		if strings.Contains(string(body), secret) {
			t.Errorf("the public /readyz names %q: %s", secret, body)
		}
	}
	if !strings.Contains(stderr.String(), "127.0.0.1:1") {
		t.Errorf("the log does not say why the proxy is not ready:\n%s", stderr.String())
	}
}
