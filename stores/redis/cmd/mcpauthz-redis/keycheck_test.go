package main

import (
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/stores/redis/redistest"
)

// TestKeyCheckFromConfig: stores: {kind: redis} alone turns the signing
// key check on. Of three replicas of the binary, the one started with
// another key file than the first two answers /readyz 503 and logs the
// disagreement (it checks at start and sees the others' views); the
// others stay ready.
func TestKeyCheckFromConfig(t *testing.T) {
	srv := redistest.Start(t)
	dir := t.TempDir()
	lns := []net.Listener{listen(t), listen(t), listen(t)}
	file := func(key string) string {
		return `issuer: http://` + lns[0].Addr().String() + `
resources: [{id: "http://127.0.0.1:1/mcp", scopes: [mcp:tools]}]
signing_keys: [{file: ` + key + `}]
stores: {kind: redis, options: {url: "` + srv.URL() + `"}}
`
	}
	writeFiles(t, dir, map[string]string{"as-key.pem": keyPEM(t), "stale-key.pem": keyPEM(t),
		"as.yaml": file("as-key.pem"), "stale.yaml": file("stale-key.pem")})
	var urls []string
	for _, ln := range lns[:2] {
		urls = append(urls, start(t, ln, "authserver", "-config", filepath.Join(dir, "as.yaml")))
	}
	u, log := startLogged(t, lns[2], "authserver", "-config", filepath.Join(dir, "stale.yaml"))
	urls = append(urls, u)
	// the public /readyz hides the cause; the log names it
	if l := log.String(); !strings.Contains(l, "signing keys disagree") || !strings.Contains(l, "1 of 3 replicas publish") {
		t.Errorf("log of the replica with the stale key file: %s", l)
	}
	for i, u := range urls {
		resp, err := http.Get(u + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := http.StatusOK
		if i == 2 {
			want = http.StatusServiceUnavailable
		}
		if resp.StatusCode != want {
			t.Errorf("replica %d: /readyz %d, want %d: %s", i, resp.StatusCode, want, body)
		}
	}
}
