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
// the parsed one.
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
	for _, tc := range []struct{ target, want string }{
		{"/api/mcp", "/api/mcp"},
		{"http://other.example/api/mcp?x=1", "/api/mcp"},
		{"*", "/*"},
		{"//x/api/mcp", "/x/api/mcp"},
		{"/api/m%63p", "/api/mcp"},
		{"/a/../api/mcp", "/api/mcp"},
		{"/api/mcp%2F..%2Fadmin", "/api/admin"},
		{"/api/mcp/%2e%2e/admin", "/api/admin"},
		{":///0", "/0"},
	} {
		mu.Lock()
		audited = nil
		mu.Unlock()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		_, err = c.Write([]byte("POST " + tc.target + " HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer " + tok +
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
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", tc.target, resp.StatusCode)
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
			t.Errorf("%s: audited %q, the handler got URL.Path %q, RequestURI %q; want %q for all", tc.target, got, h.path, h.uri, tc.want)
		}
	}
}
