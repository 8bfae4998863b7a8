package fibermcp_test

import (
	"net"
	"net/http"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/valyala/fasthttp"

	fibermcp "github.com/mcpauthz/mcpauthz/adapters/fiber"
	"github.com/mcpauthz/mcpauthz/coretest"
)

var benchReply = coretest.BenchReply()

// terminal is coretest.Terminal in fiber's terms.
func terminal(c *fiber.Ctx) error {
	_ = c.Request().Body()
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(benchReply)
}

func apps(e *coretest.BenchEnv, bareH, guardedH fiber.Handler) (bare, guarded *fiber.App) {
	cfg := fiber.Config{DisableStartupMessage: true, StreamRequestBody: true, DisablePreParseMultipartForm: true}
	bare, guarded = fiber.New(cfg), fiber.New(cfg)
	bare.Post("/mcp", bareH)
	guarded.Post("/mcp", fibermcp.New(e.Guard), guardedH)
	return bare, guarded
}

// inProcess drives app.Handler() with one reused fasthttp.RequestCtx (no
// network), as fasthttp's server does between requests.
func inProcess(b *testing.B, e *coretest.BenchEnv, app *fiber.App, extra ...string) func() {
	var req fasthttp.Request
	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetRequestURI("http://mcp.example.com/mcp")
	for k, vs := range e.Header() {
		req.Header.Set(k, vs[0])
	}
	for i := 0; i+1 < len(extra); i += 2 {
		req.Header.Add(extra[i], extra[i+1])
	}
	req.SetBody(coretest.BenchBody())
	ctx := new(fasthttp.RequestCtx)
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4000}, nil)
	h := app.Handler()
	f := func() {
		ctx.Response.Reset()
		ctx.ResetUserValues()
		h(ctx)
	}
	f()
	if code := ctx.Response.StatusCode(); code != fiber.StatusOK {
		b.Fatalf("status %d: %s", code, ctx.Response.Body())
	}
	return f
}

// BenchmarkHotPath is P3 for fiber, in-process (coretest.HotPath).
func BenchmarkHotPath(b *testing.B) {
	e := coretest.NewBenchEnv(b)
	bare, guarded := apps(e, terminal, terminal)
	coretest.HotPath(b, e, inProcess(b, e, bare), inProcess(b, e, guarded))
}

// BenchmarkThroughput is P7 for fiber over loopback, with the trivial
// handler and with a go-sdk server (coretest.ThroughputURLs), the latter
// mounted with Handler ("sdk") and with HandlerConfig.Buffered
// ("sdk-buffered"); the bare side is fiber's adaptor, which buffers too.
// It reports the median over quads of guarded ÷ bare requests per second
// (guarded/bare-median), its distribution-free 95 % interval (-lo95,
// -hi95), the range (-min, -max) and the same for the CPU spent per
// request (cpu-equiv-*). Each quad is four coretest.ThroughputSlice slices in ABBA order,
// after two discarded warm-up quads; both sides use the same client, 4
// connections, request, token and GOGC. coretest.Throughput explains the
// statistics. Run it with a fixed number of quads:
//
//	go test -run XXX -bench Throughput -benchtime 800x -count 2 .
func BenchmarkThroughput(b *testing.B) {
	e := coretest.NewBenchEnv(b)
	sdk := coretest.BenchSDKHandler()
	for _, inner := range []struct {
		name          string
		bare, guarded fiber.Handler
	}{
		{"trivial", terminal, terminal},
		{"sdk", adaptor.HTTPHandler(sdk), fibermcp.Handler(sdk)},
		{"sdk-buffered", adaptor.HTTPHandler(sdk), fibermcp.HandlerWith(sdk, fibermcp.HandlerConfig{Buffered: true})},
	} {
		b.Run(inner.name, func(b *testing.B) {
			bare, guarded := apps(e, inner.bare, inner.guarded)
			coretest.ThroughputURLs(b, e, serve(b, bare), serve(b, guarded))
		})
	}
}

// BenchmarkSDKBridge is the go-sdk side of P7 in-process: the bare app
// serves the go-sdk handler through fiber's adaptor, the guarded one
// through New and Handler (or HandlerWith and Buffered), as
// BenchmarkThroughput's "sdk" and "sdk-buffered" cases do.
func BenchmarkSDKBridge(b *testing.B) {
	e := coretest.NewBenchEnv(b)
	sdk := coretest.BenchSDKHandler()
	for _, inner := range []struct {
		name    string
		guarded fiber.Handler
	}{
		{"sdk", fibermcp.Handler(sdk)},
		{"sdk-buffered", fibermcp.HandlerWith(sdk, fibermcp.HandlerConfig{Buffered: true})},
	} {
		b.Run(inner.name, func(b *testing.B) {
			bare, guarded := apps(e, adaptor.HTTPHandler(sdk), inner.guarded)
			coretest.HotPath(b, e, inProcess(b, e, bare), inProcess(b, e, guarded))
		})
	}
}

// clientHeader is what a Go MCP client sends besides BenchEnv.Header
// (Content-Length aside): fasthttp's header then has the nine fields of a
// usual request.
var clientHeader = []string{"Mcp-Protocol-Version", "2025-11-25", "User-Agent", "Go-http-client/1.1",
	"Accept-Encoding", "gzip", "Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}

// BenchmarkRequest runs the bare and the guarded app of BenchmarkHotPath
// (trivial handler) and of BenchmarkSDKBridge (go-sdk server) one side at
// a time, in-process, for exact per-request figures: -benchmem's
// allocs/op, or instruction counts under callgrind (--toggle-collect on
// the app's handler, GOMAXPROCS=1 so that the go-sdk handler's goroutine
// runs while the toggle is on). "client" is "trivial" with the header of
// a Go MCP client (clientHeader).
func BenchmarkRequest(b *testing.B) {
	e := coretest.NewBenchEnv(b)
	sdk := coretest.BenchSDKHandler()
	for _, inner := range []struct {
		name          string
		bare, guarded fiber.Handler
		extra         []string
	}{
		{"trivial", terminal, terminal, nil},
		{"client", terminal, terminal, clientHeader},
		{"sdk", adaptor.HTTPHandler(sdk), fibermcp.Handler(sdk), nil},
		{"sdk-buffered", adaptor.HTTPHandler(sdk), fibermcp.HandlerWith(sdk, fibermcp.HandlerConfig{Buffered: true}), nil},
	} {
		bare, guarded := apps(e, inner.bare, inner.guarded)
		for _, side := range []struct {
			name string
			app  *fiber.App
		}{{"bare", bare}, {"guarded", guarded}} {
			b.Run(inner.name+"/"+side.name, func(b *testing.B) {
				f := inProcess(b, e, side.app, inner.extra...)
				b.ReportAllocs()
				for b.Loop() {
					f()
				}
			})
		}
	}
}

// BenchmarkLoopback runs BenchmarkThroughput's trivial case one side at a
// time and one request at a time, over loopback with the same client, for
// exact allocation figures: guarded minus bare allocs/op and B/op is what
// the middleware adds to a served request (the client's share is the same
// on both sides).
func BenchmarkLoopback(b *testing.B) {
	e := coretest.NewBenchEnv(b)
	bare, guarded := apps(e, terminal, terminal)
	for _, side := range []struct {
		name string
		app  *fiber.App
	}{{"bare", bare}, {"guarded", guarded}} {
		b.Run(side.name, func(b *testing.B) {
			t := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
			b.Cleanup(t.CloseIdleConnections)
			do := coretest.LoopbackClient(b, &http.Client{Transport: t}, serve(b, side.app)+"/mcp", e.Token)
			do()
			b.ReportAllocs()
			for b.Loop() {
				do()
			}
		})
	}
}
