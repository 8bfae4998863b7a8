package fibermcp_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	fibermcp "github.com/mcpauthz/mcpauthz/adapters/fiber"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// keepingSink is an audit sink that keeps every event, as a sink that
// batches events for later shipping does.
type keepingSink struct {
	mu  sync.Mutex
	evs []core.DecisionEvent
}

func (s *keepingSink) Record(_ context.Context, ev core.DecisionEvent) {
	s.mu.Lock()
	s.evs = append(s.evs, ev)
	s.mu.Unlock()
}

func (s *keepingSink) all() []core.DecisionEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]core.DecisionEvent(nil), s.evs...)
}

// TestHeaderValuesKept: the header values New hands the Guard (through
// core.Request.Fields, without an http.Header) are copies: the User-Agent
// and X-Request-Id an audit sink keeps still read as sent after many later
// requests reused fasthttp's buffers, concurrent ones included, and a
// reader of the kept values racing with later requests sees no write (run
// with -race: a value that is a view of fasthttp's header buffer fails
// both ways).
func TestHeaderValuesKept(t *testing.T) {
	t.Parallel()
	const users, rounds = 4, 100
	idp := coretest.NewIdP(t)
	sink := &keepingSink{}
	g, err := core.New(core.Config{
		Resource:         resource,
		Verifier:         idp.Verifier(t, resource),
		Audit:            sink,
		AuthenticateOnly: true,
		Metadata:         core.ProtectedResourceMetadata{AuthorizationServers: []string{idp.Issuer()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Post("/mcp", fibermcp.New(g), func(c *fiber.Ctx) error { return c.SendString(`{"jsonrpc":"2.0","id":1,"result":{}}`) })
	// ua and rid are the values of round n of user i, of varying lengths.
	ua := func(i, n int) string { return fmt.Sprintf("ua-%d-%d/", i, n) + strings.Repeat("x", n%13) }
	rid := func(i, n int) string { return fmt.Sprintf("rid-%d-%d-", i, n) + strings.Repeat("y", n%11) }
	tokens := make([]string, users)
	for i := range users {
		tokens[i] = idp.Token(resource, fmt.Sprintf("user-%d", i))
	}
	runUsers(t, app.Handler(), users, rounds, func(req *fasthttp.Request, i, n int) {
		req.Header.Set("Authorization", "Bearer "+tokens[i])
		req.Header.Set("User-Agent", ua(i, n))
		req.Header.Set("X-Request-Id", rid(i, n))
		req.SetBodyString(coretest.RPC("tools/list", `{}`))
	}, func() bool {
		for _, ev := range sink.all() {
			if !strings.HasPrefix(ev.UserAgent, "ua-") || !strings.HasPrefix(ev.RequestID, "rid-") {
				t.Errorf("kept value changed: %q %q", ev.UserAgent, ev.RequestID)
				return false
			}
		}
		return true
	})
	kept := map[string][]core.DecisionEvent{}
	for _, ev := range sink.all() {
		kept[ev.Subject] = append(kept[ev.Subject], ev)
	}
	for i := range users {
		got := kept[fmt.Sprintf("user-%d", i)]
		if len(got) != rounds {
			t.Fatalf("user %d: %d events kept, want %d", i, len(got), rounds)
		}
		for n, ev := range got {
			if ev.UserAgent != ua(i, n) || ev.RequestID != rid(i, n) {
				t.Errorf("user %d: event %d keeps %q %q, want %q %q", i, n, ev.UserAgent, ev.RequestID, ua(i, n), rid(i, n))
			}
		}
	}
}
