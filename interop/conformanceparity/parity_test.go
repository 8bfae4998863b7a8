package conformanceparity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
	"github.com/mcpauthz/mcpauthz/coretest"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

// policy allows every tool, resource and prompt of the conformance server
// (model casbinmodels "rbac").
const policy = `p, *, server, *, allow
p, *, tool:*, *, allow
p, *, prompt:*, *, allow
p, *, resource:*://**, *, allow
`

const (
	envInterop = "MCPAUTHZ_INTEROP"
	// suiteTimeout bounds one run of the conformance suite (about 10 s
	// here; the margin is for loaded CI machines).
	suiteTimeout = 120 * time.Second
	serverPkg    = "github.com/modelcontextprotocol/go-sdk/conformance/everything-server"
)

// check is one check of a conformance result (checks.json).
type check struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

func TestConformanceParity(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	proj := filepath.Join(root, "interop", "conformance")
	need := func(ok bool, what string) {
		t.Helper()
		if ok {
			return
		}
		if os.Getenv(envInterop) == "" {
			t.Skipf("%s missing (set %s=1 to make this a failure)", what, envInterop)
		}
		t.Fatalf("%s missing", what)
	}
	_, err = exec.LookPath("npx")
	need(err == nil, "npx")
	_, err = os.Stat(filepath.Join(proj, "node_modules", ".bin", "conformance"))
	need(err == nil, "interop/conformance/node_modules (run npm ci there)")

	bin := filepath.Join(t.TempDir(), "everything-server")
	if out, err := exec.Command("go", "build", "-o", bin, serverPkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", serverPkg, err, out)
	}
	for _, mode := range []struct {
		name      string
		stateless bool
		spec      string // --spec-version ("" = the suite's default)
	}{{"stateful", false, ""}, {"stateless", true, ""}, {"stateless-2026-07-28", true, "2026-07-28"}} {
		t.Run(mode.name, func(t *testing.T) {
			upstream := startServer(t, bin, mode.stateless)
			guarded := guardFront(t, upstream)
			bare := runSuite(t, proj, upstream+"/", "bare-"+mode.name, mode.spec)
			behind := runSuite(t, proj, guarded+"/", "guarded-"+mode.name, mode.spec)
			compare(t, bare, behind)
		})
	}
}

// startServer starts the go-sdk conformance server on a loopback port
// and returns its base URL once it accepts connections. The server cannot
// bind port 0 and report it (it logs the address it was given), so its
// port is reserved for the test (testkit.ReservePort); a bind that fails
// all the same (a process that picked that port by number) ends the
// server, which is started again on a fresh port, startAttempts times at
// most.
func startServer(t *testing.T, bin string, stateless bool) string {
	t.Helper()
	return startServerOn(t, bin, stateless, testkit.ReservePort)
}

const (
	startAttempts = 5
	startTimeout  = 20 * time.Second
	outputTail    = 4 << 10 // bytes of the server's output in a failure
)

// errPortTaken marks a start whose bind failed.
var errPortTaken = errors.New("port taken by another process")

// startServerOn is startServer with the port of each attempt from port.
func startServerOn(t *testing.T, bin string, stateless bool, port func(testing.TB) int) string {
	t.Helper()
	var err error
	for range startAttempts {
		p := port(t)
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		out := &testkit.Buffer{}
		if err = runServer(t, bin, p, stateless, out); err == nil {
			return "http://" + addr
		}
		o := out.String()
		if len(o) > outputTail {
			o = o[len(o)-outputTail:]
		}
		err = fmt.Errorf("conformance server on %s: %w; its output:\n%s", addr, err, o)
		if !errors.Is(err, errPortTaken) {
			break
		}
		t.Logf("%v\nretrying on a fresh port", err)
	}
	t.Fatal(err)
	return ""
}

// TestStartServerRetriesTakenPort: the first port offered is held by a
// listener of ours (what a process binding it by number would do); the
// conformance server fails to bind it and is started again on the next.
// It needs only go (the server is built from the module cache).
func TestStartServerRetriesTakenPort(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "everything-server")
	if out, err := exec.Command("go", "build", "-o", bin, serverPkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", serverPkg, err, out)
	}
	l := testkit.Listen(t) // what another process's server would hold
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	calls := 0
	u := startServerOn(t, bin, true, func(t testing.TB) int {
		calls++
		if calls == 1 {
			return taken
		}
		return testkit.ReservePort(t)
	})
	if calls != 2 || u == "http://"+l.Addr().String() {
		t.Fatalf("%d ports offered, server at %s (taken %d): the taken port was not retried", calls, u, taken)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(u + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// runServer starts the server on 127.0.0.1:port, its output to out and
// the test's stderr, and waits until it listens there (at most
// startTimeout; on Linux the listener must be the server's, see
// listening) or exits: a failed bind is errPortTaken. A started server
// is stopped when the test ends.
func runServer(t *testing.T, bin string, port int, stateless bool, out *testkit.Buffer) error {
	ctx, cancel := context.WithCancel(context.Background())
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.CommandContext(ctx, bin, "-http", addr, fmt.Sprintf("-stateless=%v", stateless))
	cmd.Stdout = io.MultiWriter(os.Stderr, out)
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		cancel()
		return err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	stop := func() { cancel(); <-exited }
	for deadline := time.Now().Add(startTimeout); ; {
		select {
		case <-exited:
			cancel()
			if strings.Contains(out.String(), "address already in use") {
				return errPortTaken
			}
			return fmt.Errorf("exited (%v) before accepting connections", cmd.ProcessState)
		default:
		}
		ok, err := listening(cmd.Process.Pid, port)
		if ok {
			t.Cleanup(stop)
			return nil
		}
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("not listening within %v (%v)", startTimeout, err)
		}
		select { // the next dial, or the exit at once
		case <-exited:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// guardFront starts the Guard in front of upstream: a loopback server
// whose handler adds a bearer token (the suite cannot), runs the net/http
// adapter, and proxies allowed requests, Host header and streams intact.
func guardFront(t *testing.T, upstream string) string {
	t.Helper()
	idp := coretest.NewIdP(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + l.Addr().String()
	resource := base + "/"
	model, err := casbinmodels.Model("rbac")
	if err != nil {
		t.Fatal(err)
	}
	authz, err := casbinauthz.New(casbinauthz.Config{Model: model, Source: casbinauthz.StringSource(policy)})
	if err != nil {
		t.Fatal(err)
	}
	g, err := core.New(core.Config{
		Resource: resource, Verifier: idp.Verifier(t, resource), Authorizer: authz,
		Metadata: core.ProtectedResourceMetadata{AuthorizationServers: []string{idp.Issuer()}, ResourceName: "conformance parity"},
		// The conformance server sends resource updates on a GET stream
		// it keeps open; an event store is not used, so resumption is
		// not the replay risk the default guards against.
		SessionTTL: 10 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse(upstream)
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // the SDK's DNS rebinding check sees the client's Host
		},
		FlushInterval: -1,
	}
	token := idp.Token(resource, "conformance")
	guarded := httpmcp.Middleware(g)(proxy)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+token)
		guarded.ServeHTTP(w, r)
	}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Config.ReadHeaderTimeout, srv.Config.IdleTimeout = 10*time.Second, time.Minute
	srv.Start()
	t.Cleanup(srv.Close)
	return base
}

var stamp = regexp.MustCompile(`-\d{4}-\d{2}-\d{2}T[\d-]+Z$`)

// runSuite runs the conformance server suite against url and returns the
// checks per scenario.
func runSuite(t *testing.T, proj, url, label, spec string) map[string][]check {
	t.Helper()
	out := filepath.Join(t.TempDir(), label)
	ctx, cancel := context.WithTimeout(context.Background(), suiteTimeout)
	defer cancel()
	args := []string{"--no-install", "conformance", "server", "--url", url, "-o", out}
	if spec != "" {
		args = append(args, "--spec-version", spec)
	}
	cmd := exec.CommandContext(ctx, "npx", args...)
	cmd.Dir = proj
	b, err := cmd.CombinedOutput()
	summary := string(b)
	if i := strings.Index(summary, "=== SUMMARY ==="); i >= 0 {
		summary = summary[i:]
	}
	t.Logf("%s (exit %v):\n%s", label, err, summary)
	if ctx.Err() != nil {
		t.Fatalf("%s: suite timed out", label)
	}
	dirs, err := os.ReadDir(out)
	if err != nil || len(dirs) == 0 {
		t.Fatalf("%s: no results in %s: %v\n%s", label, out, err, b)
	}
	res := map[string][]check{}
	for _, d := range dirs {
		raw, err := os.ReadFile(filepath.Join(out, d.Name(), "checks.json"))
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		var cs []check
		if err := json.Unmarshal(raw, &cs); err != nil {
			t.Fatalf("%s %s: %v", label, d.Name(), err)
		}
		res[stamp.ReplaceAllString(d.Name(), "")] = cs
	}
	return res
}

// compare requires identical scenarios and, per scenario, identical check
// ids and statuses in the same order.
func compare(t *testing.T, bare, guarded map[string][]check) {
	t.Helper()
	var names []string
	for n := range bare {
		names = append(names, n)
	}
	for n := range guarded {
		if _, ok := bare[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	passed, total := 0, 0
	for _, n := range names {
		b, g := bare[n], guarded[n]
		if !slices.Equal(b, g) {
			t.Errorf("%s differs:\n  bare:    %v\n  guarded: %v", n, b, g)
		}
		for _, c := range b {
			total++
			if c.Status == "SUCCESS" {
				passed++
			}
		}
	}
	t.Logf("%d scenarios, %d checks, %d SUCCESS in both runs unless reported above", len(names), total, passed)
	if total == 0 {
		t.Fatal("no checks ran")
	}
}
