package mcpext

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func newServer(t *testing.T, opts *mcp.ServerOptions) *mcp.Server {
	t.Helper()
	s := mcp.NewServer(&mcp.Implementation{Name: "test-server", Version: "v0.0.1"}, opts)
	mcp.AddTool(s, &mcp.Tool{Name: "echo"}, func(_ context.Context, _ *mcp.CallToolRequest, in struct {
		X string `json:"x"`
	}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.X}}}, nil, nil
	})
	return s
}

func checkCaps(t *testing.T, caps *mcp.ServerCapabilities, wantLogging bool, ids ...string) {
	t.Helper()
	if caps == nil {
		t.Fatal("no capabilities")
	}
	if len(caps.Extensions) != len(ids) {
		t.Fatalf("extensions = %v, want %v", caps.Extensions, ids)
	}
	for _, id := range ids {
		settings, ok := caps.Extensions[id]
		if !ok {
			t.Fatalf("extension %q missing from %v", id, caps.Extensions)
		}
		if m, ok := settings.(map[string]any); !ok || len(m) != 0 {
			t.Fatalf("extension %q settings = %#v, want {}", id, settings)
		}
	}
	if caps.Tools == nil {
		t.Error("tools capability lost")
	}
	//lint:ignore SA1019 checking that the SDK default is preserved
	if got := caps.Logging != nil; got != wantLogging {
		t.Errorf("logging capability present = %v, want %v", got, wantLogging)
	}
}

// TestInMemory: a real go-sdk client sees the extensions, over the legacy
// initialize handshake and over server/discover.
func TestInMemory(t *testing.T) {
	t.Parallel()
	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			opts := &mcp.ServerOptions{}
			if err := Declare(opts); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			st, ct := mcp.NewInMemoryTransports()
			ss, err := newServer(t, opts).Connect(ctx, st, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ss.Close()
			cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil).
				Connect(ctx, ct, &mcp.ClientSessionOptions{ProtocolVersion: version})
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			res := cs.InitializeResult()
			if res.ProtocolVersion != version {
				t.Fatalf("negotiated %q, want %q", res.ProtocolVersion, version)
			}
			checkCaps(t, res.Capabilities, true, EnterpriseManagedAuthorization, OAuthClientCredentials)
			// The session still works.
			if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"x": "hi"}}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// methodRecorder wraps an http.Handler and records the JSON-RPC methods and
// raw results it sees, to prove which handshake carried the extensions.
type methodRecorder struct {
	next    http.Handler
	mu      sync.Mutex
	methods []string
	bodies  []string
}

func (m *methodRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	var msg struct {
		Method string `json:"method"`
	}
	_ = json.Unmarshal(b, &msg)
	rec := &teeWriter{ResponseWriter: w}
	m.next.ServeHTTP(rec, r)
	m.mu.Lock()
	m.methods = append(m.methods, msg.Method)
	m.bodies = append(m.bodies, rec.buf.String())
	m.mu.Unlock()
}

type teeWriter struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (w *teeWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	return w.ResponseWriter.Write(p)
}

func (w *teeWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// TestStreamableHTTP runs the go-sdk streamable HTTP handler on loopback and
// checks the raw wire response of the handshake for each protocol version.
func TestStreamableHTTP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ version, method string }{
		{"2025-11-25", "initialize"},
		{"2026-07-28", "server/discover"},
	} {
		t.Run(tc.version, func(t *testing.T) {
			t.Parallel()
			opts := &mcp.ServerOptions{Capabilities: &mcp.ServerCapabilities{}}
			if err := Declare(opts, OAuthClientCredentials); err != nil {
				t.Fatal(err)
			}
			srv := newServer(t, opts)
			rec := &methodRecorder{next: mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil)}
			hs := httptest.NewServer(rec)
			defer hs.Close()
			ctx := context.Background()
			cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil).
				Connect(ctx, &mcp.StreamableClientTransport{Endpoint: hs.URL}, &mcp.ClientSessionOptions{ProtocolVersion: tc.version})
			if err != nil {
				t.Fatal(err)
			}
			checkCaps(t, cs.InitializeResult().Capabilities, false, OAuthClientCredentials)
			_ = cs.Close()

			rec.mu.Lock()
			defer rec.mu.Unlock()
			found := false
			for i, m := range rec.methods {
				if m == tc.method {
					found = true
					want := `"extensions":{"io.modelcontextprotocol/oauth-client-credentials":{}}`
					if !strings.Contains(rec.bodies[i], want) {
						t.Errorf("%s response lacks %s:\n%s", m, want, rec.bodies[i])
					}
				}
			}
			if !found {
				t.Fatalf("no %s request seen; methods: %q", tc.method, rec.methods)
			}
		})
	}
}

func TestDeclareKeepsExisting(t *testing.T) {
	t.Parallel()
	base := &mcp.ServerCapabilities{Experimental: map[string]any{"x": map[string]any{}}}
	base.AddExtension(EnterpriseManagedAuthorization, map[string]any{"mode": "required"})
	base.AddExtension("com.example/other", nil)
	opts := &mcp.ServerOptions{Capabilities: base}
	if err := Declare(opts, EnterpriseManagedAuthorization, OAuthClientCredentials); err != nil {
		t.Fatal(err)
	}
	got := opts.Capabilities.Extensions
	if len(got) != 3 || got[EnterpriseManagedAuthorization].(map[string]any)["mode"] != "required" {
		t.Fatalf("extensions = %v", got)
	}
	if len(base.Extensions) != 2 {
		t.Fatalf("Declare modified the original capabilities: %v", base.Extensions)
	}
	//lint:ignore SA1019 checking that no default is added to explicit capabilities
	if opts.Capabilities.Logging != nil {
		t.Fatal("logging added to explicit capabilities")
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	if err := Declare(nil); err == nil {
		t.Error("Declare(nil) succeeded")
	}
	bad := []string{"", "x", "/name", "io.example/", "noprefixdot/name", ".io/x", "io./x", "io.ex ample/x",
		"io.example/na me", "io.example/a/b", "io.example/é"}
	for _, id := range bad {
		if ValidID(id) == nil {
			t.Errorf("ValidID(%q) = nil", id)
		}
		opts := &mcp.ServerOptions{}
		if err := Declare(opts, OAuthClientCredentials, id); err == nil || opts.Capabilities != nil {
			t.Errorf("Declare(%q) = %v, caps %v", id, err, opts.Capabilities)
		}
		if _, err := Extensions(id); err == nil {
			t.Errorf("Extensions(%q) succeeded", id)
		}
	}
	for _, id := range []string{EnterpriseManagedAuthorization, OAuthClientCredentials, "com.example/my_ext-2.0"} {
		if err := ValidID(id); err != nil {
			t.Errorf("ValidID(%q) = %v", id, err)
		}
	}
}

// TestGolden pins the JSON of the declared capabilities and of the map form.
func TestGolden(t *testing.T) {
	t.Parallel()
	caps, err := Capabilities(nil)
	if err != nil {
		t.Fatal(err)
	}
	ext, err := Extensions()
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(map[string]any{"capabilities": caps, "mcp_extensions": ext}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	testkit.Golden(t, filepath.Join("testdata", "capabilities.golden.json"), got, *update)
}
