package oidcprovider

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// envInterop makes missing prerequisites a failure instead of a skip.
	envInterop = "MCPAUTHZ_INTEROP"
	// testTimeout bounds one whole test (OP start, logins, MCP calls). A test
	// takes about 1-3 s; the margin is for loaded CI machines under -race.
	testTimeout = 60 * time.Second
	// opStartTimeout bounds the wait for the OP's {"issuer": ...} line.
	opStartTimeout = 30 * time.Second
	// httpTimeout bounds every HTTP exchange made by the tests themselves.
	httpTimeout = 15 * time.Second

	scopeTools  = "mcp:tools"
	scopeDeploy = "mcp:deploy"
)

// nodeDir is interop/node relative to this package's directory (go test runs
// tests in the package directory).
var nodeDir = filepath.Join("..", "node")

// requireInterop returns the node binary, or skips (MCPAUTHZ_INTEROP unset)
// or fails (MCPAUTHZ_INTEROP set) when a prerequisite is missing.
func requireInterop(t *testing.T) string {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv(envInterop) != "" {
			t.Fatalf("interop prerequisite missing (%s is set, so this is a failure): %s", envInterop, msg)
		}
		t.Skipf("interop prerequisite missing: %s (set %s=1 to make this a failure)", msg, envInterop)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node not found in PATH: %v", err)
	}
	for _, p := range []string{"op-server.mjs", "node_modules/oidc-provider/package.json", "node_modules/jose/package.json"} {
		if _, err := os.Stat(filepath.Join(nodeDir, p)); err != nil {
			missing("%s: %v (run \"npm ci\" in interop/node)", filepath.Join("interop/node", p), err)
		}
	}
	return node
}

type startKey struct{}

// testContext is the per-test deadline; it also carries the test's start
// time for the transcript.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return context.WithValue(ctx, startKey{}, time.Now())
}

// step logs one transcript line, prefixed with the time since the test
// started. Never pass token material.
func step(t *testing.T, ctx context.Context, format string, args ...any) {
	t.Helper()
	start, _ := ctx.Value(startKey{}).(time.Time)
	t.Logf("[%6.2fs] "+format, append([]any{time.Since(start).Seconds()}, args...)...)
}

// opMetadata is the part of the OP's discovery document the tests use.
type opMetadata struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	JWKSURI               string   `json:"jwks_uri"`
	GrantTypesSupported   []string `json:"grant_types_supported"`
}

// op is a running oidc-provider.
type op struct {
	Issuer string
	Meta   opMetadata
}

// opArgs are the op-server.mjs arguments.
type opArgs struct {
	Resource, OtherResource, ASIssuer, ASClientID string
}

// startOP runs interop/node/op-server.mjs, waits for its issuer line and
// reads its discovery document. The process is killed when the test ends.
func startOP(t *testing.T, ctx context.Context, node string, a opArgs) *op {
	t.Helper()
	pctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(pctx, node, "op-server.mjs", a.Resource, a.OtherResource, a.ASIssuer, a.ASClientID)
	cmd.Dir = nodeDir
	cmd.WaitDelay = 2 * time.Second
	stdout := newFirstLine()
	var stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start oidc-provider: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel() // SIGKILL via CommandContext
		<-exited
		if t.Failed() {
			t.Logf("oidc-provider stderr:\n%s", stderr.String())
		}
	})

	var line string
	select {
	case line = <-stdout.line:
	case err := <-exited:
		exited <- err
		t.Fatalf("oidc-provider exited before it was ready: %v\nstderr:\n%s", err, stderr.String())
	case <-time.After(opStartTimeout):
		t.Fatalf("oidc-provider printed no issuer within %v\nstderr:\n%s", opStartTimeout, stderr.String())
	case <-ctx.Done():
		t.Fatalf("oidc-provider start: %v", ctx.Err())
	}
	var ready struct {
		Issuer string `json:"issuer"`
	}
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ready); err != nil || !strings.HasPrefix(ready.Issuer, "http://127.0.0.1:") {
		t.Fatalf("oidc-provider ready line %q: issuer %q, err %v", line, ready.Issuer, err)
	}
	o := &op{Issuer: ready.Issuer}
	status, body := httpDo(t, ctx, http.MethodGet, o.Issuer+"/.well-known/openid-configuration", nil, nil)
	if status != http.StatusOK {
		t.Fatalf("OP discovery: status %d: %s", status, body)
	}
	if err := json.Unmarshal(body, &o.Meta); err != nil {
		t.Fatalf("OP discovery: %v", err)
	}
	if o.Meta.Issuer != o.Issuer || o.Meta.TokenEndpoint == "" || o.Meta.JWKSURI == "" || o.Meta.AuthorizationEndpoint == "" {
		t.Fatalf("OP discovery document incomplete: %+v", o.Meta)
	}
	step(t, ctx, "OP  oidc-provider ready: issuer=%s token_endpoint=%s jwks_uri=%s grants=%v",
		o.Issuer, o.Meta.TokenEndpoint, o.Meta.JWKSURI, o.Meta.GrantTypesSupported)
	return o
}

// firstLine is an io.Writer that delivers the first complete line written
// to it on a channel and discards everything after it.
type firstLine struct {
	mu   sync.Mutex
	buf  []byte
	done bool
	line chan string
}

func newFirstLine() *firstLine { return &firstLine{line: make(chan string, 1)} }

func (w *firstLine) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	if i := bytes.IndexByte(w.buf, '\n'); i >= 0 {
		w.done = true
		w.line <- string(w.buf[:i])
		w.buf = nil
	} else if len(w.buf) > 64<<10 {
		w.done = true
		w.line <- string(w.buf)
		w.buf = nil
	}
	return len(p), nil
}

// lockedBuffer is a bytes.Buffer safe for a writer goroutine and a reader.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 {
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// httpDo sends one request with a bounded client (no redirects followed) and
// returns the status and body (at most 1 MiB).
func httpDo(t *testing.T, ctx context.Context, method, u string, form url.Values, hdr http.Header) (int, []byte) {
	t.Helper()
	resp, body := httpDoResp(t, ctx, method, u, form, hdr)
	return resp.StatusCode, body
}

func httpDoResp(t *testing.T, ctx context.Context, method, u string, form url.Values, hdr http.Header) (*http.Response, []byte) {
	t.Helper()
	var rdr io.Reader
	if form != nil {
		rdr = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rdr)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	c := &http.Client{Timeout: httpTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, u, err)
	}
	return resp, body
}

// oauthResponse is a token endpoint answer (success or RFC 6749 §5.2 error).
type oauthResponse struct {
	AccessToken     string `json:"access_token"`
	IDToken         string `json:"id_token"`
	TokenType       string `json:"token_type"`
	IssuedTokenType string `json:"issued_token_type"`
	ExpiresIn       int    `json:"expires_in"`
	Scope           string `json:"scope"`
	Error           string `json:"error"`
	ErrorDesc       string `json:"error_description"`
}

// tokenRequest POSTs form to a token endpoint (with HTTP Basic when user is
// set) and decodes the answer.
func tokenRequest(t *testing.T, ctx context.Context, endpoint string, form url.Values, user, pass string) (int, oauthResponse) {
	t.Helper()
	hdr := http.Header{}
	if user != "" {
		r, _ := http.NewRequest(http.MethodPost, endpoint, nil)
		r.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
		hdr.Set("Authorization", r.Header.Get("Authorization"))
	}
	status, body := httpDo(t, ctx, http.MethodPost, endpoint, form, hdr)
	var out oauthResponse
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("token endpoint %s: status %d, body not JSON: %v", endpoint, status, err)
	}
	return status, out
}

// jwtParts decodes the header and claims of a compact JWT without verifying
// it, for assertions and the transcript (never logs the token).
func jwtParts(t *testing.T, tok string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %d parts", len(parts))
	}
	dec := func(s string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("JWT segment: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("JWT segment: %v", err)
		}
		return m
	}
	return dec(parts[0]), dec(parts[1])
}
