package fibermcp_test

import (
	"context"
	"net"
	"net/http"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	fibermcp "github.com/mcpauthz/mcpauthz/adapters/fiber"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/verifier"
	"github.com/mcpauthz/mcpauthz/coretest"
)

const benchResource = "https://mcp.example.com/mcp"

var (
	benchBody  = []byte(`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"ls","arguments":{"path":"/srv/data/projects","recursive":true,"limit":100,"filter":"*.go"},"_meta":{"progressToken":"p-42"}}}`)
	benchReply = []byte(`{"jsonrpc":"2.0","id":42,"result":{"content":[{"type":"text","text":"ok"}]}}`)
)

// benchGuard is a Guard with the real verifier (JWKS from a loopback IdP,
// verified-token cache on) and a cheap authorizer, plus a valid token.
func benchGuard(b *testing.B) (*core.Guard, string) {
	b.Helper()
	idp := coretest.NewIdP(b)
	v, err := verifier.New(context.Background(), verifier.Config{
		Issuers:    []verifier.IssuerConfig{{Issuer: idp.Issuer(), JWKSURL: idp.JWKSURL()}},
		Audience:   []string{benchResource},
		HTTPClient: idp.HTTPClient(),
	})
	if err != nil {
		b.Fatal(err)
	}
	g, err := core.New(core.Config{
		Resource:   benchResource,
		Verifier:   v,
		Authorizer: coretest.SuitePolicy{},
		Metadata:   core.ProtectedResourceMetadata{AuthorizationServers: []string{idp.Issuer()}},
	})
	if err != nil {
		b.Fatal(err)
	}
	return g, idp.Token(benchResource, "alice", "mcp:tools")
}

// terminal is the MCP stand-in: it reads the body and answers.
func terminal(c *fiber.Ctx) error {
	_ = c.Request().Body()
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(benchReply)
}

// benchSetup returns three functions serving one tools/call POST each:
// through fiber without middleware, through fiber with the middleware (same
// handler, same request), driving app.Handler() with a fasthttp.RequestCtx
// directly (app.Test would measure a loopback round trip instead), and
// core.Guard.Check alone.
func benchSetup(b *testing.B) (bare, guarded, check func()) {
	g, tok := benchGuard(b)
	cfg := fiber.Config{DisableStartupMessage: true}
	bareApp := fiber.New(cfg)
	bareApp.Post("/mcp", terminal)
	guardedApp := fiber.New(cfg)
	guardedApp.Post("/mcp", fibermcp.New(g), terminal)
	serve := func(app *fiber.App) func() {
		var req fasthttp.Request
		req.Header.SetMethod(fasthttp.MethodPost)
		req.SetRequestURI("http://mcp.example.com/mcp")
		req.Header.SetContentType("application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", "Bearer "+tok)
		req.SetBody(benchBody)
		ctx := new(fasthttp.RequestCtx)
		ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4000}, nil)
		h := app.Handler()
		f := func() {
			ctx.Response.Reset()
			ctx.ResetUserValues() // as fasthttp's server does between requests
			h(ctx)
		}
		f()
		if code := ctx.Response.StatusCode(); code != fiber.StatusOK {
			b.Fatalf("status %d: %s", code, ctx.Response.Body())
		}
		return f
	}
	hdr := http.Header{}
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Accept", "application/json, text/event-stream")
	hdr.Set("Authorization", "Bearer "+tok)
	bg := context.Background()
	check = func() {
		if _, err := g.Check(bg, &core.Request{Method: http.MethodPost, Path: "/mcp", Header: hdr, Body: benchBody}); err != nil {
			b.Fatal(err)
		}
	}
	return serve(bareApp), serve(guardedApp), check
}

// BenchmarkToolsCall measures the three variants of benchSetup one after
// the other; compare them with benchstat.
func BenchmarkToolsCall(b *testing.B) {
	bare, guarded, check := benchSetup(b)
	for _, bc := range []struct {
		name string
		f    func()
	}{{"bare", bare}, {"guarded", guarded}, {"core", check}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bc.f()
			}
		})
	}
}

// BenchmarkInterleaved runs the three variants in alternating batches, so
// that load on a shared machine hits them alike, and reports ns per request
// of each, the adapter's own share (guarded - bare - core) and the
// throughput ratio guarded/bare.
func BenchmarkInterleaved(b *testing.B) {
	interleave(b, benchSetup)
}
