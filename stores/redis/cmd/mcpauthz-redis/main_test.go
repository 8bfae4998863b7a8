package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
	"github.com/mcpauthz/mcpauthz/stores/redis/redistest"
)

// listen opens a loopback listener for a command the test starts: its
// address goes into the files, and start hands the listener itself to
// the command (serve.Options.Listen), so the port is never released for
// another process to take. It closes when the test ends at the latest.
func listen(t *testing.T) net.Listener {
	t.Helper()
	ln := testkit.Listen(t)
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

// start runs one command of the binary until the test ends and returns
// the URL of its start line ("<name> <cmd>: serving URL ..."). With ln,
// the command serves ln (-listen is its address).
func start(t *testing.T, ln net.Listener, args ...string) string {
	t.Helper()
	u, _ := startLogged(t, ln, args...)
	return u
}

// startLogged is start, also returning the command's stderr (its log).
func startLogged(t *testing.T, ln net.Listener, args ...string) (string, *testkit.Buffer) {
	t.Helper()
	o := options()
	if ln != nil {
		args = append(args, "-listen", ln.Addr().String())
		o.Listen = func(addr string) (net.Listener, error) {
			if addr != ln.Addr().String() {
				return nil, fmt.Errorf("test: no listener for %s", addr)
			}
			return ln, nil
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	pr, pw := io.Pipe()
	stderr := &testkit.Buffer{}
	go func() {
		done <- run(ctx, args, pw, stderr, o)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("%v did not stop", args)
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("%v did not start: %v\n%s", args, err, stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	f := strings.Fields(line)
	if len(f) < 4 || f[2] != "serving" {
		t.Fatalf("start line %q", line)
	}
	return f[3], stderr
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func keyPEM(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

type cluster struct {
	dir, asYAML       string
	issuer, resource  string
	asURLs, proxyURLs []string
}

const secret = "a-client-secret-of-some-length"

// startCluster starts two authorization server replicas and two proxy
// replicas of the binary from two files with every store on Redis: the
// issuer is the first AS replica's address (the load balancer's, in a
// real deployment), the resource the first proxy's.
func startCluster(t *testing.T, redisURL string) *cluster {
	t.Helper()
	c := &cluster{dir: t.TempDir()}
	asLns := []net.Listener{listen(t), listen(t)}
	proxyLns := []net.Listener{listen(t), listen(t)}
	c.issuer, c.resource = "http://"+asLns[0].Addr().String(), "http://"+proxyLns[0].Addr().String()+"/mcp"
	hash, err := authserver.HashSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	c.asYAML = `issuer: ` + c.issuer + `
resources: [{id: "` + c.resource + `", scopes: [mcp:tools]}]
signing_keys: [{file: as-key.pem}]
clients:
  - {client_id: alice-agent, secret_hash: "` + hash + `", grant_types: [client_credentials], scopes: [mcp:tools]}
  - {client_id: bob-agent, secret_hash: "` + hash + `", grant_types: [client_credentials], scopes: [mcp:tools]}
  - {client_id: carol-agent, secret_hash: "` + hash + `", grant_types: [client_credentials], scopes: [mcp:tools]}
rate_limit: {per_second: 0.001, burst: 3}
broker:
  upstream: {issuer: "http://127.0.0.1:1/idp", client_id: as}
  access: [{group: eng, resource: "` + c.resource + `", scopes: [mcp:tools]}]
  code_key: ${CODE_KEY}
registration: {loopback_redirects: true, allow_confidential: true}
stores:
  kind: redis
  options: {url: "` + redisURL + `", timeout: 500ms}
`
	up := httptest.NewServer(mcpServer())
	t.Cleanup(up.Close)
	guardYAML := `resource: ` + c.resource + `
issuers: [{issuer: "` + c.issuer + `", jwks_uri: "` + c.issuer + `/jwks.json"}]
authenticate_only: true
stores: {sessions: redis, options: {url: "` + redisURL + `"}}
proxy: {upstream: "` + up.URL + `/mcp"}
`
	writeFiles(t, c.dir, map[string]string{"as.yaml": c.asYAML, "guard.yaml": guardYAML, "as-key.pem": keyPEM(t)})
	t.Setenv("CODE_KEY", "B/Etam1/aHL4TsTUscyaBkg8EgVNqwSqMd1x5DvxVTo=") // 32 random bytes (openssl rand -base64 32)
	for _, ln := range asLns {
		c.asURLs = append(c.asURLs, start(t, ln, "authserver", "-config", filepath.Join(c.dir, "as.yaml")))
	}
	for _, ln := range proxyLns {
		c.proxyURLs = append(c.proxyURLs, start(t, ln, "proxy", "-config", filepath.Join(c.dir, "guard.yaml")))
	}
	return c
}

func mcpServer() http.Handler {
	s := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "echo"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "ok"}}}, nil, nil
	})
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{JSONResponse: true})
}

func post(t *testing.T, u string, form url.Values, user, pass string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&body)
	if sid := resp.Header.Get("Mcp-Session-Id"); sid != "" {
		if body == nil {
			body = map[string]any{}
		}
		body["session"] = sid
	}
	return resp.StatusCode, body
}

func token(t *testing.T, asURL, client string) (int, string) {
	t.Helper()
	st, body := post(t, asURL+"/token", url.Values{"grant_type": {"client_credentials"}}, client, secret)
	tok, _ := body["access_token"].(string)
	return st, tok
}

func mcpCall(t *testing.T, proxyURL, tok, sid, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", proxyURL, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	if sid != "" {
		req.Header.Set("Mcp-Session-Id", sid)
	}
	return do(t, req)
}

// TestReplicasFromConfig runs the deployment of docs/deployment.md
// ("several replicas from the files alone"): two authorization server
// replicas and two proxy replicas of this binary, configured by files only,
// share their state in a real Redis. Each check fails with memory stores.
func TestReplicasFromConfig(t *testing.T) {
	srv := redistest.Start(t)
	c := startCluster(t, srv.URL())
	a, b := c.asURLs[0], c.asURLs[1]

	t.Run("rate limit is one bucket across replicas", func(t *testing.T) {
		// burst 3: two tokens at A, one at B, then B refuses (with
		// per-process limiters B would still hold two).
		for i, u := range []string{a, a, b} {
			if st, _ := token(t, u, "bob-agent"); st != 200 {
				t.Fatalf("token %d: %d", i, st)
			}
		}
		if st, _ := token(t, b, "bob-agent"); st != 429 {
			t.Fatalf("4th token at B: %d, want 429", st)
		}
	})

	t.Run("a client registered at A is known at B", func(t *testing.T) {
		req, _ := http.NewRequest("POST", a+"/register", strings.NewReader(
			`{"redirect_uris":["http://127.0.0.1:7777/cb"],"token_endpoint_auth_method":"client_secret_basic","grant_types":["authorization_code"],"response_types":["code"]}`))
		req.Header.Set("Content-Type", "application/json")
		st, reg := do(t, req)
		id, sec := reg["client_id"].(string), reg["client_secret"].(string)
		if st != 201 || id == "" || sec == "" {
			t.Fatalf("register: %d %v", st, reg)
		}
		// Authenticated at B: the code is refused, not the client.
		form := url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {"http://127.0.0.1:7777/cb"}, "code_verifier": {strings.Repeat("v", 43)}}
		if st, body := post(t, b+"/token", form, id, sec); st != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("registered client at B: %d %v", st, body)
		}
		if st, body := post(t, b+"/token", form, id, sec+"x"); st != 401 {
			t.Fatalf("wrong secret at B: %d %v", st, body)
		}
	})

	t.Run("a session created through proxy A is bound on proxy B", func(t *testing.T) {
		_, alice := token(t, a, "alice-agent")
		_, carol := token(t, b, "carol-agent") // signed at B, verified with A's key set: one key
		if alice == "" || carol == "" {
			t.Fatal("no token")
		}
		const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
		const list = `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`
		st, body := mcpCall(t, c.proxyURLs[0], alice, "", initBody)
		sid, _ := body["session"].(string)
		if st != 200 || sid == "" {
			t.Fatalf("initialize at proxy A: %d %v", st, body)
		}
		if st, body := mcpCall(t, c.proxyURLs[1], alice, sid, list); st != 200 {
			t.Fatalf("alice's session at proxy B: %d %v", st, body)
		}
		if st, _ := mcpCall(t, c.proxyURLs[1], carol, sid, list); st != 404 {
			t.Fatalf("carol on alice's session at proxy B: %d, want 404", st)
		}
	})

	t.Run("redis down at start: the replica starts not ready and recovers", func(t *testing.T) {
		srv.Stop()
		u := start(t, nil, "authserver", "-config", filepath.Join(c.dir, "as.yaml"), "-listen", "127.0.0.1:0")
		resp, err := http.Get(u + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 503 {
			t.Fatalf("/readyz with Redis down: %d", resp.StatusCode)
		}
		if st, body := post(t, u+"/token", url.Values{"grant_type": {"client_credentials"}}, "alice-agent", secret); st != 503 || body["error"] != "temporarily_unavailable" {
			t.Fatalf("token with Redis down: %d %v", st, body)
		}
		srv.Start()
		deadline := time.Now().Add(10 * time.Second)
		for {
			st, _ := token(t, u, "alice-agent")
			if st == 200 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no recovery after Redis restarted: %d", st)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// TestUnknownKindFailsStart: a file naming a kind no binary registers
// fails at start, naming the registered kinds; it never runs on memory.
func TestUnknownKindFailsStart(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"as.yaml":    "issuer: http://127.0.0.1:1\nresources: [{id: \"http://127.0.0.1:2/mcp\", scopes: [a]}]\ndev_generate_key: true\nstores: {kind: memcached}\n",
		"guard.yaml": "resource: http://127.0.0.1:2/mcp\nissuers: [{issuer: \"http://127.0.0.1:1\"}]\nauthenticate_only: true\nstores: {sessions: memcache}\nproxy: {upstream: \"http://127.0.0.1:3/mcp\"}\n",
		"bad.yaml":   "issuer: http://127.0.0.1:1\nresources: [{id: \"http://127.0.0.1:2/mcp\", scopes: [a]}]\ndev_generate_key: true\nstores: {kind: redis, options: {host: x}}\n",
	})
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"authserver", "-config", filepath.Join(dir, "as.yaml")}, `unknown store kind "memcached" (this program registers: memory, redis)`},
		{[]string{"proxy", "-config", filepath.Join(dir, "guard.yaml")}, `unknown store "memcache" (registered: memory, redis)`},
		{[]string{"authserver", "-config", filepath.Join(dir, "bad.yaml")}, `stores.options.host: unknown key (known: url, sentinel, cluster, username, password, db, prefix, timeout, quarantine, sender, trust_append_fsync_always)`},
		{[]string{"explain"}, `unknown command "explain"`},
	}
	for _, tc := range tests {
		var stderr testkit.Buffer
		if code := run(context.Background(), tc.args, io.Discard, &stderr, options()); code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}
