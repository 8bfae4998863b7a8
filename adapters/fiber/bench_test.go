package fibermcp_test

import (
	"context"
	"net"
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

// BenchmarkToolsCall compares one tools/call POST through fiber without and
// with the middleware, driving app.Handler() with a fasthttp.RequestCtx
// directly (app.Test would measure a loopback round trip instead).
func BenchmarkToolsCall(b *testing.B) {
	g, tok := benchGuard(b)
	cfg := fiber.Config{DisableStartupMessage: true}
	bare := fiber.New(cfg)
	bare.Post("/mcp", terminal)
	guarded := fiber.New(cfg)
	guarded.Post("/mcp", fibermcp.New(g), terminal)
	for _, bc := range []struct {
		name string
		app  *fiber.App
	}{{"bare", bare}, {"guarded", guarded}} {
		b.Run(bc.name, func(b *testing.B) {
			var req fasthttp.Request
			req.Header.SetMethod(fasthttp.MethodPost)
			req.SetRequestURI("http://mcp.example.com/mcp")
			req.Header.SetContentType("application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("Authorization", "Bearer "+tok)
			req.SetBody(benchBody)
			var ctx fasthttp.RequestCtx
			ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4000}, nil)
			h := bc.app.Handler()
			serve := func() {
				ctx.Response.Reset()
				ctx.ResetUserValues()
				h(&ctx)
			}
			serve()
			if code := ctx.Response.StatusCode(); code != fiber.StatusOK {
				b.Fatalf("status %d: %s", code, ctx.Response.Body())
			}
			b.ReportAllocs()
			for b.Loop() {
				serve()
			}
		})
	}
}
