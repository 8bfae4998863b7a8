package fibermcp_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	fibermcp "github.com/mcpauthz/mcpauthz/adapters/fiber"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// TestAuditPathIsHandlerPath: for a request-target fasthttp normalises
// (absolute form, "*", an empty first segment, percent-encoded bytes, dot
// segments, encoded slashes), the audit event's Path is the path the MCP
// handler gets in its http.Request (URL.Path, and RequestURI's path): the
// record names the request that was authorized and executed. fiber
// routes on the raw target (c.Path()); the Guard reads fasthttp's parsed
// path, and the bridge's RequestURI is read after that parse, so both are
// the parsed one. A Host fasthttp cannot parse the target with (it then
// reads the path "/", for the audit and the handler alike, whatever was
// routed) is refused (400) before the Guard, with nothing audited.
func TestAuditPathIsHandlerPath(t *testing.T) {
	t.Parallel()
	idp := coretest.NewIdP(t)
	var mu sync.Mutex
	var audited []string
	g, err := core.New(core.Config{
		Resource: resource, Verifier: idp.Verifier(t, resource), Authorizer: coretest.SuitePolicy{},
		Metadata: core.ProtectedResourceMetadata{AuthorizationServers: []string{idp.Issuer()}},
		Audit: core.AuditFunc(func(_ context.Context, ev core.DecisionEvent) {
			mu.Lock()
			audited = append(audited, ev.Path)
			mu.Unlock()
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	type seen struct{ path, uri string }
	handled := make(chan seen, 1)
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.All("/*", fibermcp.New(g), fibermcp.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handled <- seen{r.URL.Path, r.RequestURI}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":1,"result":{}}`))
	})))
	addr := strings.TrimPrefix(serve(t, app), "http://")
	tok := idp.Token(resource, "alice")
	const body = `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`
	for _, tc := range []struct{ host, target, want string }{
		{"h", "/api/mcp", "/api/mcp"},
		{"h", "http://other.example/api/mcp?x=1", "/api/mcp"},
		{"h", "*", "/*"},
		{"h", "//x/api/mcp", "/x/api/mcp"},
		{"h", "/api/m%63p", "/api/mcp"},
		{"h", "/a/../api/mcp", "/api/mcp"},
		{"h", "/api/mcp%2F..%2Fadmin", "/api/admin"},
		{"h", "/api/mcp/%2e%2e/admin", "/api/admin"},
		{"h", ":///0", "/0"},
		{"[::1]:8080", "/api/mcp", "/api/mcp"},
		// Refused: "" wants no audit event and no handler.
		{"#", "/api/mcp", ""},
		{"#", ":///0", "/0"}, // the host is the target's (empty), not the header's
		{"a:b", "/api/mcp", ""},
		{"x y", "/api/mcp", ""},
		{"%", "/api/mcp", ""},
	} {
		mu.Lock()
		audited = nil
		mu.Unlock()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		_, err = c.Write([]byte("POST " + tc.target + " HTTP/1.1\r\nHost: " + tc.host + "\r\nAuthorization: Bearer " + tok +
			"\r\nAccept: application/json, text/event-stream\r\nMcp-Protocol-Version: 2025-06-18\r\nContent-Type: application/json\r\nContent-Length: " +
			strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n" + body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.target, err)
		}
		resp.Body.Close()
		c.Close()
		if tc.want == "" {
			time.Sleep(50 * time.Millisecond) // an event would be recorded by now
			mu.Lock()
			got := audited
			mu.Unlock()
			select {
			case h := <-handled:
				t.Errorf("Host %q %s: the handler ran with %q", tc.host, tc.target, h.uri)
			default:
			}
			if resp.StatusCode != http.StatusBadRequest || len(got) != 0 {
				t.Errorf("Host %q %s: status %d, audited %q; want 400 and nothing audited", tc.host, tc.target, resp.StatusCode, got)
			}
			continue
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("Host %q %s: status %d", tc.host, tc.target, resp.StatusCode)
		}
		h := <-handled
		var got []string
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) { // the event may follow the answer
			mu.Lock()
			got = audited
			mu.Unlock()
			if len(got) > 0 || time.Now().After(deadline) {
				break
			}
		}
		uriPath, _, _ := strings.Cut(h.uri, "?")
		if unq, err := url.PathUnescape(uriPath); err == nil {
			uriPath = unq
		}
		if len(got) != 1 || got[0] != tc.want || h.path != tc.want || uriPath != tc.want {
			t.Errorf("Host %q %s: audited %q, the handler got URL.Path %q, RequestURI %q; want %q for all", tc.host, tc.target, got, h.path, h.uri, tc.want)
		}
	}
}
