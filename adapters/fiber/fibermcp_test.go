package fibermcp_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"

	fibermcp "github.com/mcpauthz/mcpauthz/adapters/fiber"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

const resource = "https://mcp.example.com/api/mcp"

// TestPrincipalInNativeContext: native handlers see the principal with
// PrincipalFrom and in c.UserContext(), handlers mounted with Handler in
// r.Context(), and both the identical body.
func TestPrincipalInNativeContext(t *testing.T) {
	t.Parallel()
	g, idp := coretest.NewSuiteGuard(t, resource, nil)
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	got := make(chan string, 2)
	grp := app.Group("/api", fibermcp.New(g))
	grp.Post("/mcp", func(c *fiber.Ctx) error {
		p1, ok1 := fibermcp.PrincipalFrom(c)
		p2, ok2 := core.PrincipalFromContext(c.UserContext())
		if !ok1 || !ok2 || p1 != p2 {
			got <- "native: missing principal"
			return nil
		}
		got <- "native " + p1.Subject + " " + string(c.Body())
		return c.Next()
	}, fibermcp.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := core.PrincipalFromContext(r.Context())
		b, _ := io.ReadAll(r.Body)
		if !ok {
			got <- "http: missing principal"
			return
		}
		got <- "http " + p.Subject + " " + string(b)
	})))
	base := serve(t, app)
	body := coretest.RPC("tools/call", `{"name":"ls","arguments":{}}`)
	if resp := coretest.PostMCP(t, base+"/api/mcp", idp.Token(resource, "alice"), body); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{"native alice " + body, "http alice " + body} {
		if s := <-got; s != want {
			t.Errorf("got %q, want %q", s, want)
		}
	}
}

// TestRefusalStopsChain: a refused request never reaches later handlers and
// carries Render's response exactly.
func TestRefusalStopsChain(t *testing.T) {
	t.Parallel()
	g, _ := coretest.NewSuiteGuard(t, resource, nil)
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	called := make(chan struct{}, 1)
	app.Post("/api/mcp", fibermcp.New(g), func(c *fiber.Ctx) error { called <- struct{}{}; return nil })
	resp := coretest.PostMCP(t, serve(t, app)+"/api/mcp", "", coretest.RPC("tools/list", `{}`))
	b, _ := io.ReadAll(resp.Body)
	want := g.Render(&core.Error{Kind: core.KindNoToken})
	if resp.StatusCode != want.Status || string(b) != string(want.Body) ||
		resp.Header.Get("WWW-Authenticate") != want.Header.Get("WWW-Authenticate") ||
		resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("status %d body %s header %v", resp.StatusCode, b, resp.Header)
	}
	select {
	case <-called:
		t.Error("handler ran after a refusal")
	default:
	}
}

// TestMetadataAtOriginRoot: the document is served at the root path derived
// from the resource URL, unauthenticated even with an app-wide middleware
// registered after it, and not under the group prefix.
func TestMetadataAtOriginRoot(t *testing.T) {
	t.Parallel()
	g, _ := coretest.NewSuiteGuard(t, resource, nil)
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	fibermcp.RegisterMetadata(app, g)
	app.Use(fibermcp.New(g))
	app.Group("/api").All("/mcp", func(c *fiber.Ctx) error { return c.SendString("mcp") })
	base := serve(t, app)
	tests := []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/.well-known/oauth-protected-resource/api/mcp", 200},
		{http.MethodHead, "/.well-known/oauth-protected-resource/api/mcp", 200},
		{http.MethodOptions, "/.well-known/oauth-protected-resource/api/mcp", 204},
		{http.MethodGet, "/api/.well-known/oauth-protected-resource/api/mcp", 401},
		{http.MethodPost, "/api/mcp", 401},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, base+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, resp.StatusCode, tt.status)
		}
		if tt.status == 200 && tt.method == http.MethodGet && string(b) != string(g.MetadataJSON()) {
			t.Errorf("body = %s", b)
		}
	}
}

// TestNativeStreams: a native fasthttp event stream (SetBodyStreamWriter)
// reaches the client event by event when no filtering applies; a list
// response streamed the same way is filtered.
func TestNativeStreams(t *testing.T) {
	t.Parallel()
	g, idp := coretest.NewSuiteGuard(t, resource, nil)
	release := make(chan struct{})
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Post("/api/mcp", fibermcp.New(g), func(c *fiber.Ctx) error {
		list := strings.Contains(string(c.Request().Body()), "tools/list")
		c.Set("Content-Type", "text/event-stream")
		c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
			fmt.Fprint(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[{\"name\":\"ls\",\"inputSchema\":{\"type\":\"object\"}},{\"name\":\"rm\",\"inputSchema\":{\"type\":\"object\"}}]}}\n\n")
			_ = w.Flush()
			if !list {
				<-release // the first event must arrive before the stream ends
			}
		})
		return nil
	})
	base := serve(t, app)
	tok := idp.Token(resource, "alice")
	resp := coretest.PostMCP(t, base+"/api/mcp", tok, coretest.RPC("tools/call", `{"name":"ls","arguments":{}}`))
	if line, err := readData(resp.Body); err != nil || !strings.Contains(line, `"rm"`) {
		t.Errorf("tools/call stream: first event %q (%v)", line, err)
	}
	close(release)
	resp = coretest.PostMCP(t, base+"/api/mcp", tok, coretest.RPC("tools/list", `{}`))
	if line, err := readData(resp.Body); err != nil || !strings.Contains(line, `"ls"`) || strings.Contains(line, `"rm"`) {
		t.Errorf("tools/list stream: first event %q (%v)", line, err)
	}
}

// TestAdaptorListFiltered: a JSON list response of a net/http handler behind
// Handler (buffered by the adaptor) is filtered, with a correct length.
func TestAdaptorListFiltered(t *testing.T) {
	t.Parallel()
	g, idp := coretest.NewSuiteGuard(t, resource, nil)
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Post("/api/mcp", fibermcp.New(g), adaptor.HTTPHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"rm","inputSchema":{"type":"object"}},{"name":"echo","inputSchema":{"type":"object"}}]}}`)
	})))
	resp := coretest.PostMCP(t, serve(t, app)+"/api/mcp", idp.Token(resource, "alice"), coretest.RPC("tools/list", `{}`))
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || !strings.Contains(string(b), `"echo"`) || strings.Contains(string(b), `"rm"`) {
		t.Errorf("status %d body %s (%v)", resp.StatusCode, b, err)
	}
	if resp.ContentLength != int64(len(b)) {
		t.Errorf("Content-Length %d for %d bytes", resp.ContentLength, len(b))
	}
}

// TestStreamedRequestBody: with StreamRequestBody the body is read with the
// Guard's limit and handed on intact; over the limit it is refused.
func TestStreamedRequestBody(t *testing.T) {
	t.Parallel()
	g, idp := coretest.NewSuiteGuard(t, resource, func(c *core.Config) { c.MaxBodyBytes = 256 })
	app := fiber.New(fiber.Config{DisableStartupMessage: true, StreamRequestBody: true})
	got := make(chan string, 1)
	app.Post("/api/mcp", fibermcp.New(g), func(c *fiber.Ctx) error {
		got <- string(c.Body())
		return c.SendString("ok")
	})
	base := serve(t, app)
	tok := idp.Token(resource, "alice")
	body := coretest.RPC("tools/call", `{"name":"ls","arguments":{}}`)
	if resp := coretest.PostMCP(t, base+"/api/mcp", tok, body); resp.StatusCode != 200 || <-got != body {
		t.Errorf("small streamed body: status %d", resp.StatusCode)
	}
	big := coretest.RPC("tools/call", `{"name":"ls","arguments":{"pad":"`+strings.Repeat("x", 300)+`"}}`)
	if resp := coretest.PostMCP(t, base+"/api/mcp", tok, big); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("big streamed body: status %d", resp.StatusCode)
	}
}

// readData returns the first "data:" line of an event stream.
func readData(r io.Reader) (string, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data:") {
			return sc.Text(), nil
		}
	}
	return "", fmt.Errorf("no data line: %v", sc.Err())
}
