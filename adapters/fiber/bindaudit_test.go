package fibermcp_test

import (
	"context"
	"errors"
	"net/http"
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
			resp := post(t, serve(t, app)+"/api/mcp", idp.Token(resource, "alice"),
				rpc("initialize", `{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}`))
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
