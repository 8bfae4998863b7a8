package browser_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/interop/browser"
)

// Demo material printed by `quickstart serve` (not secrets).
const (
	demoPassword   = "demo-password"
	publicClientID = "mcp-client"
	brokerSecret   = "quickstart-as-secret" // the AS's client secret at the IdP
	agentSecret    = "quickstart-agent-secret"
)

// quickstart is the running `quickstart serve` all tests share.
var quickstart struct {
	MCP, Base, AS, IdP string
}

// shared is the browser all tests use; err is why it did not start.
var shared struct {
	browser context.Context
	err     error
}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "mcpauthz-browser-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	stop, err := startQuickstart(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "browser tests: start the quickstart:", err)
		return 1
	}
	defer stop()
	// One browser for all tests (each test gets its own browser context);
	// its whole life is bounded.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var stopBrowser context.CancelFunc
	shared.browser, stopBrowser, shared.err = browser.Start(ctx, browser.Config{})
	if shared.err == nil {
		defer stopBrowser()
	}
	return m.Run()
}

// startQuickstart builds examples/quickstart (or uses $MCPAUTHZ_QUICKSTART)
// and runs `quickstart serve` on a free loopback port until stop.
func startQuickstart(dir string) (stop func(), err error) {
	bin := os.Getenv("MCPAUTHZ_QUICKSTART")
	if bin == "" {
		bin = filepath.Join(dir, "quickstart")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./examples/quickstart")
		build.Dir = filepath.Join("..", "..")
		if out, err := build.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build ./examples/quickstart: %w\n%s", err, out)
		}
	}
	cmd := exec.Command(bin, "serve", "-addr", "127.0.0.1:0", "-dir", dir, "-q")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop = func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			switch {
			case len(f) >= 3 && f[0] == "MCP" && f[1] == "server":
				quickstart.MCP = f[2]
			case len(f) == 1 && f[0] == "ready":
				ready <- nil
			}
		}
		ready <- errors.New("quickstart serve ended before it was ready")
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case err = <-ready:
	case <-time.After(30 * time.Second):
		err = errors.New("quickstart serve not ready after 30 s")
	}
	if err == nil && !strings.HasSuffix(quickstart.MCP, "/mcp") {
		err = fmt.Errorf("unexpected MCP URL %q", quickstart.MCP)
	}
	if err != nil {
		stop()
		return nil, err
	}
	quickstart.Base = strings.TrimSuffix(quickstart.MCP, "/mcp")
	quickstart.AS = quickstart.Base + "/as"
	quickstart.IdP = quickstart.Base + "/idp"
	return stop, nil
}

// openTab opens a tab with its own cookies in the shared browser. A missing
// browser is a failure, never a skip: CI installs Debian's chromium.
func openTab(t *testing.T) (context.Context, *browser.Recorder) {
	t.Helper()
	if shared.err != nil {
		t.Fatalf("%v (.ci/run installs Debian's chromium)", shared.err)
	}
	dir := os.Getenv(browser.EnvArtifacts)
	if dir == "" {
		dir = t.TempDir()
	}
	tab, rec, closeTab, err := browser.NewTab(shared.browser, browser.TabConfig{ArtifactDir: dir, Name: t.Name()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		closeTab()
		if shots := rec.Screenshots(); len(shots) > 0 {
			t.Logf("screenshots: %s", strings.Join(shots, " "))
		}
	})
	return tab, rec
}

// client is an MCP client: the pre-registered public client mcp-client, or
// its own registration (newRegisteredClient), and its loopback redirect
// endpoint, which records what the authorization server sent it and shows a
// small page.
type client struct {
	id, name string
	srv      *httptest.Server
	mu       sync.Mutex
	got      []url.Values
}

func newClient(t *testing.T) *client {
	t.Helper()
	c := &client{id: publicClientID}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.got = append(c.got, r.URL.Query())
		c.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<!doctype html><title>Client</title><h1>Back at the MCP client</h1><p>You can close this window.</p>`)
	})
	// /frame embeds a URL in an iframe (the clickjacking check).
	mux.HandleFunc("GET /frame", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Framing</title><iframe id="f" src="%s" width="600" height="400"></iframe>`,
			strings.ReplaceAll(r.URL.Query().Get("src"), `"`, "%22"))
	})
	// /forge is another origin's page that posts the authorization server's
	// consent form by itself (a cross-site request forgery attempt).
	mux.HandleFunc("GET /forge", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Forgery</title><form method="post" action="%s/consent">`+
			`<input type="hidden" name="csrf" value="%s"><input type="hidden" name="decision" value="allow"></form>`+
			`<script>document.forms[0].submit()</script>`,
			html.EscapeString(quickstart.AS), html.EscapeString(r.URL.Query().Get("csrf")))
	})
	c.srv = httptest.NewServer(mux)
	t.Cleanup(c.srv.Close)
	return c
}

// newRegisteredClient is a client that registered itself (RFC 7591), so the
// consents remembered in one test never skip another test's consent page,
// whatever the order or -count. (The registration limit is 10 per source
// and burst: keep the tests that need one few.)
func newRegisteredClient(t *testing.T) *client {
	t.Helper()
	c := newClient(t)
	c.name = "Browser test client " + t.Name()
	c.id = register(t, c.name, c.redirectURI())
	return c
}

// register registers a public client with one redirect URI (RFC 7591).
func register(t *testing.T, name, redirect string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"client_name": name, "redirect_uris": []string{redirect},
		"token_endpoint_auth_method": "none", "grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"}})
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Post(quickstart.AS+"/register", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reg struct {
		ClientID string `json:"client_id"`
	}
	err = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&reg)
	if resp.StatusCode != http.StatusCreated || err != nil || reg.ClientID == "" {
		t.Fatalf("register a client: HTTP %d, %v", resp.StatusCode, err)
	}
	return reg.ClientID
}

func (c *client) redirectURI() string { return c.srv.URL + "/callback" }

// pkce is a fresh S256 verifier and challenge.
type pkce struct{ verifier, challenge string }

func newPKCE() pkce {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(v))
	return pkce{v, base64.RawURLEncoding.EncodeToString(sum[:])}
}

func randomState() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authorizeURL is the authorization request a standard MCP client sends.
func authorizeURL(c *client, p pkce, state string) string {
	q := url.Values{
		"response_type": {"code"}, "client_id": {c.id}, "redirect_uri": {c.redirectURI()},
		"code_challenge": {p.challenge}, "code_challenge_method": {"S256"}, "state": {state},
		"resource": {quickstart.MCP},
	}
	return quickstart.AS + "/authorize?" + q.Encode()
}
