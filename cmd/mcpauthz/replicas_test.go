package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

// TestReplicaHintsWarn: "mcpauthz authserver" with memory stores warns at
// start when its file looks like one replica of several (behind_proxy;
// a shared broker code key is warned about by authserver.New, store by
// store), so that a replica whose file lacks the others' stores: section
// is noticed; a file without such hints is quiet.
func TestReplicaHintsWarn(t *testing.T) {
	dir := t.TempDir()
	doc := "issuer: http://127.0.0.1:9\nresources: [{id: \"http://127.0.0.1:8/mcp\", scopes: [mcp:tools]}]\ndev_generate_key: true\n"
	t.Setenv("CODE_KEY", "w+7RWtfjjqv8qqnpWEGi3tDm5f1AtUErU0EV+XYCiXQ=")
	const mine = "stores are per process (memory) but the file suggests several replicas"
	for _, tc := range []struct{ name, extra, want string }{
		{"single", "", ""},
		{"behind a load balancer", "behind_proxy: true\ntrusted_proxies: [10.0.0.0/8]\n", mine + "; if more than one replica serves it, each keeps its own replay store and rate limits"},
		{"shared code key", "broker:\n  upstream: {issuer: \"http://127.0.0.1:1/idp\", client_id: as}\n  access: [{group: eng, resource: \"http://127.0.0.1:8/mcp\", scopes: [mcp:tools]}]\n  code_key: ${CODE_KEY}\n",
			"broker.code_key is shared but Config.ReplayStore is per process"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml")
			if err := os.WriteFile(path, []byte(doc+tc.extra), 0o600); err != nil {
				t.Fatal(err)
			}
			var stderr testkit.Buffer
			// An address that cannot be served ends the command right after
			// start-up.
			code := runAuthServer(context.Background(), []string{"-config", path, "-listen", "127.0.0.1:99999"}, io.Discard, &stderr)
			if code == 0 || !strings.Contains(stderr.String(), "invalid port") {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			warned := strings.Contains(stderr.String(), "per process") && strings.Contains(stderr.String(), "replica")
			if warned != (tc.want != "") || !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("warned %v, want %q:\n%s", warned, tc.want, stderr.String())
			}
		})
	}
}
