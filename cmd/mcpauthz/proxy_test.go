package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
	"github.com/mcpauthz/mcpauthz/proxy"
)

const proxyPolicy = `p, *, server, connect, allow
p, *, *, list, allow
p, *, tool:ls, call, allow
p, *, tool:echo, call, allow
p, *, tool:slow, call, allow
`

// proxyEnv runs "mcpauthz proxy" (runProxy) in front of a go-sdk server
// with the coretest catalog, from a YAML file on a loopback IdP.
type proxyEnv struct {
	idp      *coretest.IdP
	spy      *coretest.Spy
	url      string // the proxy's MCP endpoint
	base     string
	cancel   context.CancelFunc
	done     chan int
	stderr   *testkit.Buffer
	resource string
	gets     atomic.Int32 // GET requests that reached the upstream
	slow     atomic.Int32 // slow calls that reached the upstream
}

func startProxy(t *testing.T, extraYAML string, slowRelease <-chan struct{}) *proxyEnv {
	t.Helper()
	return startProxyScheme(t, extraYAML, slowRelease, "http")
}

func startProxyScheme(t *testing.T, extraYAML string, slowRelease <-chan struct{}, scheme string) *proxyEnv {
	t.Helper()
	e := &proxyEnv{idp: coretest.NewIdP(t), spy: coretest.NewSpy(false, false), resource: "https://mcp.example.com/mcp",
		done: make(chan int, 1), stderr: &testkit.Buffer{}}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := proxy.PrincipalFromHeader(r.Header)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if r.Method == http.MethodGet {
			e.gets.Add(1)
		}
		if r.Method == http.MethodPost && r.Header.Get("X-Test") == "slow" {
			_, _ = io.ReadAll(r.Body)
			e.slow.Add(1)
			<-slowRelease
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":9,"result":{"content":[{"type":"text","text":"slow done"}]}}`)
			return
		}
		e.spy.ServeHTTP(w, r.WithContext(core.WithPrincipal(r.Context(), p)))
	}))
	t.Cleanup(up.Close)
	dir := t.TempDir()
	yaml := "resource: " + e.resource + "\nissuers:\n  - issuer: " + e.idp.Issuer() + "\n    jwks_uri: " + e.idp.JWKSURL() +
		"\nmodel: quickstart\npolicy:\n  files: [policy.csv]\nproxy:\n  upstream: http://127.0.0.1:1/not-this\n  forward_principal: true\n" + extraYAML
	for name, data := range map[string]string{"guard.yaml": yaml, "policy.csv": proxyPolicy} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	pr, pw := io.Pipe()
	go func() {
		e.done <- runProxy(ctx, []string{"-config", filepath.Join(dir, "guard.yaml"), "-listen", "127.0.0.1:0", "-upstream", up.URL + "/mcp"}, pw, e.stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("proxy did not start: %v\n%s", err, e.stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	// "mcpauthz proxy: serving http://127.0.0.1:PORT/mcp -> upstream"
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[3], scheme+"://127.0.0.1:") {
		t.Fatalf("start line %q", line)
	}
	e.url = f[3]
	e.base = strings.TrimSuffix(e.url, "/mcp")
	t.Cleanup(func() {
		cancel()
		select {
		case <-e.done:
		case <-time.After(10 * time.Second):
			t.Error("proxy did not stop")
		}
	})
	return e
}

type bearerRT struct{ tok string }

func (b bearerRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.tok)
	r.Header.Set("X-Mcpauthz-Subject", "root") // a spoof the proxy must strip
	return http.DefaultTransport.RoundTrip(r)
}

// TestProxyCommand drives "mcpauthz proxy" with the go-sdk client: the
// list is filtered, an allowed call runs as the caller (the forwarded
// principal, not the spoofed header), a denied call is refused, the
// probes answer, and SIGTERM-style cancellation shuts down promptly with
// the client's GET event stream open.
func TestProxyCommand(t *testing.T) {
	e := startProxy(t, "", nil)
	tok := e.idp.Token(e.resource, "alice", "mcp:tools")
	c := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	ctx := context.Background()
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: e.url, HTTPClient: &http.Client{Transport: bearerRT{tok}}}, nil)
	if err != nil {
		t.Fatalf("connect: %v\n%s", err, e.stderr.String())
	}
	defer cs.Close()
	list, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range list.Tools {
		names = append(names, tl.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"echo", "ls"}) {
		t.Errorf("visible tools %v, want [echo ls]", names)
	}
	if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "ls"}); err != nil || res.IsError {
		t.Errorf("allowed call: %v %+v", err, res)
	}
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "rm"}); err == nil {
		t.Error("denied call succeeded")
	}
	if _, _, sub, executed := e.spy.Snapshot(); sub != "alice" || !slices.Equal(executed, []string{"tool:ls"}) {
		t.Errorf("upstream saw subject %q and executed %v", sub, executed)
	}
	for _, p := range []string{"/readyz", "/livez", "/.well-known/oauth-protected-resource/mcp"} {
		resp, err := http.Get(e.base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s = %d", p, resp.StatusCode)
		}
	}
	for i := 0; e.gets.Load() == 0; i++ { // the client's standalone GET stream
		if i == 100 {
			t.Fatal("the go-sdk client opened no GET stream")
		}
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	e.cancel()
	select {
	case code := <-e.done:
		e.done <- code
		if code != 0 {
			t.Errorf("exit code %d\n%s", code, e.stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("shutdown did not finish")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown took %v with the default 30s drain: the GET stream held it", d)
	}
}

// TestProxyDrain: a request in progress when shutdown begins completes;
// one that outlives shutdown_timeout is cut.
func TestProxyDrain(t *testing.T) {
	for _, tt := range []struct {
		name      string
		yaml      string
		releaseIn time.Duration
		wantOK    bool
	}{
		{"finishes within the drain", "  shutdown_timeout: 5s\n", 300 * time.Millisecond, true},
		{"cut at the deadline", "  shutdown_timeout: 300ms\n", 1500 * time.Millisecond, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			e := startProxy(t, tt.yaml, release)
			req, _ := http.NewRequest(http.MethodPost, e.url, strings.NewReader(`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"slow","arguments":{}}}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("MCP-Protocol-Version", "2025-11-25")
			req.Header.Set("Authorization", "Bearer "+e.idp.Token(e.resource, "alice"))
			req.Header.Set("X-Test", "slow")
			type result struct {
				status int
				body   string
				err    error
			}
			got := make(chan result, 1)
			go func() {
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					got <- result{err: err}
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				got <- result{resp.StatusCode, string(b), err}
			}()
			for i := 0; e.slow.Load() == 0; i++ { // wait until the call is upstream
				if i == 500 {
					t.Fatal("the slow call never reached the upstream")
				}
				time.Sleep(10 * time.Millisecond)
			}
			e.cancel()
			time.AfterFunc(tt.releaseIn, func() { close(release) })
			r := <-got
			ok := r.err == nil && r.status == 200 && strings.Contains(r.body, "slow done")
			if ok != tt.wantOK {
				t.Errorf("call during shutdown: %d %q %v; want completed=%v", r.status, r.body, r.err, tt.wantOK)
			}
			select {
			case <-e.done:
			case <-time.After(8 * time.Second):
				t.Fatal("shutdown did not finish")
			}
			e.done <- 0
		})
	}
}

// TestProxyTLS: with tls_cert_file and tls_key_file the proxy serves HTTPS.
func TestProxyTLS(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	e := startProxyScheme(t, "  tls_cert_file: "+certFile+"\n  tls_key_file: "+keyFile+"\n", nil, "https")
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(e.base + "/livez")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Errorf("GET /livez over TLS = %d (TLS %v)", resp.StatusCode, resp.TLS != nil)
	}
}

// TestProxyCommandRefuses: configuration errors exit 2 with a message,
// before anything listens.
func TestProxyCommandRefuses(t *testing.T) {
	dir := t.TempDir()
	base := "resource: https://mcp.example.com/mcp\nissuers:\n  - issuer: https://idp.example.com\n    jwks_uri: https://idp.example.com/jwks\nauthenticate_only: true\n"
	for _, tt := range []struct {
		name, yaml string
		args       []string
		want       string
	}{
		{"no upstream", base, nil, "Upstream is required"},
		{"bad upstream flag", base, []string{"-upstream", "ftp://x/mcp"}, "want http(s)://"},
		{"half TLS", base + "proxy:\n  upstream: http://127.0.0.1:1/mcp\n  tls_cert_file: c.pem\n", nil, "go together"},
		{"unknown proxy key", base + "proxy:\n  upstreams: http://127.0.0.1:1/mcp\n", nil, "upstreams"},
		{"probe collision", strings.Replace(base, "/mcp\n", "/readyz\n", 1) + "proxy:\n  upstream: http://127.0.0.1:1/mcp\n", nil, "collides"},
		{"no config", "", []string{}, "-config is required"},
		{"header budget too small", base + "proxy:\n  upstream: http://127.0.0.1:1/mcp\n  max_header_bytes: 1024\n", nil, "max_header_bytes"},
		{"header budget too large", base + "proxy:\n  upstream: http://127.0.0.1:1/mcp\n  max_header_bytes: 1048576\n", nil, "max_header_bytes"},
		{"header budget below the token cap", base + "proxy:\n  upstream: http://127.0.0.1:1/mcp\n  max_header_bytes: 6000\n", nil, "cannot carry a token"},
		{"token cap too large", base + "max_token_bytes: 65536\nproxy:\n  upstream: http://127.0.0.1:1/mcp\n", nil, "max_token_bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.yaml != "" {
				path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".yaml")
				if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append([]string{"-config", path, "-listen", "127.0.0.1:0"}, args...)
			}
			var out, errb strings.Builder
			code := runProxy(context.Background(), args, &out, &errb)
			if code != 2 || !strings.Contains(errb.String(), tt.want) || out.Len() != 0 {
				t.Errorf("exit %d, stderr %q, stdout %q; want 2 and %q", code, errb.String(), out.String(), tt.want)
			}
		})
	}
}

// TestTLSKeyFileMode: the proxy's tls_key_file and the authserver's
// -tls-key-file are refused at start-up (exit 2, before listening) when
// group or others may read or write them; the opt-out accepts the
// group-read bit only.
func TestTLSKeyFileMode(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	base := "resource: https://mcp.example.com/mcp\nissuers:\n  - issuer: https://idp.example.com\n    jwks_uri: https://idp.example.com/jwks\nauthenticate_only: true\n"
	for _, tt := range []struct {
		mode      os.FileMode
		groupRead bool
		refused   bool
	}{
		{0o600, false, false}, {0o400, false, false},
		{0o640, false, true}, {0o644, false, true}, {0o604, false, true}, {0o660, false, true},
		{0o640, true, false}, {0o440, true, false},
		{0o644, true, true}, {0o660, true, true}, {0o606, true, true},
	} {
		name := fmt.Sprintf("%04o group-read=%v", tt.mode, tt.groupRead)
		t.Run(name, func(t *testing.T) {
			keyFile := filepath.Join(t.TempDir(), "key.pem")
			if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(keyFile, tt.mode); err != nil {
				t.Fatal(err)
			}
			// The proxy: a refused key exits 2 before the upstream (port 1,
			// nothing listens) or the listener matter; an accepted one gets
			// past the key check and fails on a later start-up step that
			// this test provokes: a listen address that cannot be bound.
			yaml := base + "proxy:\n  upstream: http://127.0.0.1:1/mcp\n  tls_cert_file: " + certFile + "\n  tls_key_file: " + keyFile + "\n"
			if tt.groupRead {
				yaml += "  tls_key_allow_group_read: true\n"
			}
			cfg := filepath.Join(t.TempDir(), "guard.yaml")
			if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			code := runProxy(context.Background(), []string{"-config", cfg, "-listen", "256.0.0.1:0"}, io.Discard, &stderr)
			refused := strings.Contains(stderr.String(), "readable or writable by group or others")
			if code != 2 || refused != tt.refused {
				t.Fatalf("proxy: exit %d, refused %v (want %v): %s", code, refused, tt.refused, stderr.String())
			}
			if tt.refused && (!strings.Contains(stderr.String(), "proxy.tls_key_file") || !strings.Contains(stderr.String(), "chmod")) {
				t.Errorf("proxy: the error names neither the field nor the fix: %s", stderr.String())
			}
			// The authserver: the key is checked before the configuration
			// is loaded (a missing one fails after).
			args := []string{"-config", filepath.Join(dir, "missing.yaml"), "-tls-cert-file", certFile, "-tls-key-file", keyFile}
			if tt.groupRead {
				args = append(args, "-tls-key-allow-group-read")
			}
			stderr.Reset()
			code = runAuthServer(context.Background(), args, io.Discard, &stderr)
			refused = strings.Contains(stderr.String(), "readable or writable by group or others")
			if code != 2 || refused != tt.refused {
				t.Fatalf("authserver: exit %d, refused %v (want %v): %s", code, refused, tt.refused, stderr.String())
			}
			if tt.refused && !strings.Contains(stderr.String(), "-tls-key-file") {
				t.Errorf("authserver: the error does not name the flag: %s", stderr.String())
			}
		})
	}
}
