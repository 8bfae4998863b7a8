package fibermcp_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	fibermcp "github.com/mcpauthz/mcpauthz/adapters/fiber"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// bindErr is a session store whose Bind fails with err.
type bindErr struct {
	*core.MemorySessions
	err error
}

func (b bindErr) Bind(context.Context, string, string, time.Duration, int) error { return b.err }

// TestBindRefusalAudited: as in core, a binding refused when the server's
// answer creates the session reaches the client with its status and is
// recorded as a second audit event with that status.
func TestBindRefusalAudited(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		err    error
		status int
	}{
		{"store down", errors.New("redis: connection reset"), http.StatusServiceUnavailable},
		{"cap race", core.ErrSessionLimit, http.StatusTooManyRequests},
		{"already bound", core.ErrSessionBound, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idp := coretest.NewIdP(t)
			mem, err := core.NewMemorySessions(core.MemorySessionsConfig{})
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var evs []core.DecisionEvent
			g, err := core.New(core.Config{
				Resource:   resource,
				Verifier:   idp.Verifier(t, resource),
				Authorizer: coretest.SuitePolicy{},
				Sessions:   bindErr{mem, tc.err},
				Metadata:   core.ProtectedResourceMetadata{AuthorizationServers: []string{idp.Issuer()}},
				Audit: core.AuditFunc(func(_ context.Context, ev core.DecisionEvent) {
					mu.Lock()
					evs = append(evs, ev)
					mu.Unlock()
				}),
			})
			if err != nil {
				t.Fatal(err)
			}
			app := fiber.New(fiber.Config{DisableStartupMessage: true})
			app.Post("/api/mcp", fibermcp.New(g), func(c *fiber.Ctx) error {
				c.Set("Mcp-Session-Id", "S1")
				c.Set("Content-Type", "application/json")
				return c.SendString(`{"jsonrpc":"2.0","id":1,"result":{}}`)
			})
			resp := coretest.PostMCP(t, serve(t, app)+"/api/mcp", idp.Token(resource, "alice"),
				coretest.RPC("initialize", `{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}`))
			if resp.StatusCode != tc.status {
				t.Fatalf("client got %d, want %d", resp.StatusCode, tc.status)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(evs) != 2 || evs[0].Status != http.StatusOK || evs[1].Status != tc.status || evs[1].Decision == core.DecisionAllow {
				t.Errorf("audit events %+v, want allow/200 then the %d refusal", evs, tc.status)
			}
		})
	}
}

// TestAuditRemoteAddr: the audit event names the client's address (the
// Guard formats core.Request.Peer), for allowed and refused requests, over
// kept-alive and new connections.
func TestAuditRemoteAddr(t *testing.T) {
	t.Parallel()
	idp := coretest.NewIdP(t)
	var mu sync.Mutex
	var evs []core.DecisionEvent
	g, err := core.New(core.Config{
		Resource:   resource,
		Verifier:   idp.Verifier(t, resource),
		Authorizer: coretest.SuitePolicy{},
		Metadata:   core.ProtectedResourceMetadata{AuthorizationServers: []string{idp.Issuer()}},
		Audit: core.AuditFunc(func(_ context.Context, ev core.DecisionEvent) {
			mu.Lock()
			evs = append(evs, ev)
			mu.Unlock()
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Post("/api/mcp", fibermcp.New(g), func(c *fiber.Ctx) error {
		c.Set("Content-Type", "application/json")
		return c.SendString(`{"jsonrpc":"2.0","id":1,"result":{}}`)
	})
	url := serve(t, app) + "/api/mcp"
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	tok := idp.Token(resource, "alice")
	var want []string // the client side of each request's connection
	for i, tc := range []struct {
		token string
		want  int
	}{{tok, http.StatusOK}, {tok, http.StatusOK}, {"", http.StatusUnauthorized}, {tok, http.StatusOK}} {
		var local string
		trace := &httptrace.ClientTrace{GotConn: func(ci httptrace.GotConnInfo) { local = ci.Conn.LocalAddr().String() }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace),
			http.MethodPost, url, strings.NewReader(coretest.RPC("ping", "{}")))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Fatalf("request %d: status %d, want %d", i, resp.StatusCode, tc.want)
		}
		want = append(want, local)
		if i == 1 {
			client.CloseIdleConnections() // the next request comes from another port
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(evs) != len(want) || want[0] == want[2] {
		t.Fatalf("%d events for %q", len(evs), want)
	}
	for i := range want {
		if evs[i].RemoteAddr != want[i] || want[i] == "" {
			t.Errorf("event %d: RemoteAddr %q, want %q", i, evs[i].RemoteAddr, want[i])
		}
	}
}
