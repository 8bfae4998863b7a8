package fibermcp_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	fibermcp "github.com/mcpauthz/mcpauthz/adapters/fiber"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// keepingAuthorizer allows everything and keeps every Permission.Name it
// is asked about, per subject, as an Authorizer (or an audit sink, or a
// handler through the principal's context) may.
type keepingAuthorizer struct {
	mu   sync.Mutex
	kept map[string][]string
}

func (a *keepingAuthorizer) Authorize(_ context.Context, p *core.Principal, perm core.Permission) (core.Decision, error) {
	a.mu.Lock()
	a.kept[p.Subject] = append(a.kept[p.Subject], perm.Name)
	a.mu.Unlock()
	return core.Decision{Allow: true}, nil
}

func (a *keepingAuthorizer) all() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var all []string
	for _, ns := range a.kept {
		all = append(all, ns...)
	}
	return all
}

// TestTargetNameKept: New keeps a short target name in the request's own
// perRequest (core.Guard.CheckIntoName) instead of a string of its own.
// Those bytes must never change while the name is referenced: every name
// the Authorizer kept must still read as sent after many later requests,
// concurrent ones included, and a reader of the kept names racing with
// later requests must not see a write (run with -race: a pooled or reused
// room fails both ways).
func TestTargetNameKept(t *testing.T) {
	t.Parallel()
	const users, rounds = 4, 100
	idp := coretest.NewIdP(t)
	az := &keepingAuthorizer{kept: map[string][]string{}}
	g, err := core.New(core.Config{
		Resource:   resource,
		Verifier:   idp.Verifier(t, resource),
		Authorizer: az,
		Metadata:   core.ProtectedResourceMetadata{AuthorizationServers: []string{idp.Issuer()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Post("/mcp", fibermcp.New(g), func(c *fiber.Ctx) error { return c.SendString(`{"jsonrpc":"2.0","id":1,"result":{}}`) })
	// name is the tool name of round n of user i: lengths 4 to 70 bytes,
	// on both sides of the room core uses; every seventh is sent escaped.
	name := func(i, n int) string { return fmt.Sprintf("u%dr%d", i, n) + strings.Repeat("abcdefgh", n%9) }
	tokens := make([]string, users)
	for i := range users {
		tokens[i] = idp.Token(resource, fmt.Sprintf("user-%d", i))
	}
	runUsers(t, app.Handler(), users, rounds, func(req *fasthttp.Request, i, n int) {
		sent := name(i, n)
		if n%7 == 3 {
			sent = `\u0075` + sent[1:] // "u", escaped
		}
		req.Header.Set("Authorization", "Bearer "+tokens[i])
		req.SetBodyString(coretest.RPC("tools/call", `{"name":"`+sent+`"}`))
	}, func() bool {
		for _, s := range az.all() {
			if !strings.HasPrefix(s, "u") {
				t.Errorf("kept name changed: %q", s)
				return false
			}
		}
		return true
	})
	for i := range users {
		got := az.kept[fmt.Sprintf("user-%d", i)]
		if len(got) != rounds {
			t.Fatalf("user %d: %d names kept, want %d", i, len(got), rounds)
		}
		for n, s := range got {
			if want := name(i, n); s != want {
				t.Errorf("user %d: kept name %d is %q, want %q", i, n, s, want)
			}
		}
	}
}

// runUsers sends rounds requests for each of users, concurrently, through
// h: one fasthttp request and context per user, reused as fasthttp's server
// reuses them between requests of a connection, each a POST to /mcp that
// fill completes for user i's round n; every answer must be 200. check
// runs over and over while the requests do (a reader racing with later
// requests) until it returns false or they are all done.
func runUsers(t *testing.T, h fasthttp.RequestHandler, users, rounds int, fill func(req *fasthttp.Request, i, n int), check func() bool) {
	t.Helper()
	done := make(chan struct{})
	var reader sync.WaitGroup
	reader.Add(1)
	go func() {
		defer reader.Done()
		for check() {
			select {
			case <-done:
				return
			default:
			}
		}
	}()
	var wg sync.WaitGroup
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var req fasthttp.Request
			ctx := new(fasthttp.RequestCtx)
			for n := range rounds {
				req.Reset()
				req.Header.SetMethod(fasthttp.MethodPost)
				req.SetRequestURI("http://mcp.example.com/mcp")
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				fill(&req, i, n)
				ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4000 + i}, nil)
				h(ctx)
				if code := ctx.Response.StatusCode(); code != fiber.StatusOK {
					t.Errorf("user %d round %d: status %d: %s", i, n, code, ctx.Response.Body())
					return
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	reader.Wait()
}
