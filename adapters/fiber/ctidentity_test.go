package fibermcp_test

import (
	"bufio"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	fibermcp "github.com/mcpauthz/mcpauthz/adapters/fiber"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// TestContentTypeIdenticalOrRefused: the MCP handler's http.Request holds
// the Content-Type values the Guard read, or the request is refused.
// fasthttp keeps one Content-Type of several (the last) and none of one
// sent empty, while the Guard reads every field line: a GET or DELETE
// with "Content-Type: a" and "Content-Type: b" reached the handler with
// "b" alone, one sent empty with none (behind net/http the handler gets
// what the Guard read). Such a request is now refused (400) before the
// Guard; a POST keeps the Guard's own refusal (415).
func TestContentTypeIdenticalOrRefused(t *testing.T) {
	t.Parallel()
	idp := coretest.NewIdP(t)
	g, err := core.New(core.Config{
		Resource: resource, Verifier: idp.Verifier(t, resource), Authorizer: coretest.SuitePolicy{},
		Metadata: core.ProtectedResourceMetadata{AuthorizationServers: []string{idp.Issuer()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	handled := make(chan []string, 1)
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.All("/api/mcp", fibermcp.New(g), fibermcp.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handled <- r.Header.Values("Content-Type")
		w.WriteHeader(http.StatusAccepted)
	})))
	addr := strings.TrimPrefix(serve(t, app), "http://")
	tok := idp.Token(resource, "alice")
	for _, tc := range []struct {
		method, ct string
		status     int
		handler    []string // the handler's Content-Type values when it runs
	}{
		{"GET", "Content-Type: text/plain\r\n", http.StatusAccepted, []string{"text/plain"}},
		{"GET", "", http.StatusAccepted, nil},
		{"GET", "Content-Type: a/b\r\nContent-Type: c/d\r\n", http.StatusBadRequest, nil},
		{"GET", "Content-Type:\r\n", http.StatusBadRequest, nil},
		{"DELETE", "Content-Type: a/b\r\ncontent-type: \r\n", http.StatusBadRequest, nil},
		{"POST", "Content-Type: application/json\r\nContent-Type: application/json\r\n", http.StatusUnsupportedMediaType, nil},
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		body := ""
		if tc.method == "POST" {
			body = `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`
		}
		_, err = c.Write([]byte(tc.method + " /api/mcp HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer " + tok +
			"\r\nAccept: application/json, text/event-stream\r\nMcp-Protocol-Version: 2025-06-18\r\n" + tc.ct +
			"Content-Length: " + strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n" + body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%s %q: %v", tc.method, tc.ct, err)
		}
		resp.Body.Close()
		c.Close()
		var got []string
		select {
		case got = <-handled:
		default:
			got = []string{"(not run)"}
		}
		want := tc.handler
		if tc.status != http.StatusAccepted {
			want = []string{"(not run)"}
		}
		if resp.StatusCode != tc.status || !slices.Equal(got, want) {
			t.Errorf("%s %q: status %d, handler's Content-Type %q; want %d, %q", tc.method, tc.ct, resp.StatusCode, got, tc.status, want)
		}
	}
}
