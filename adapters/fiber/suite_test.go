package fibermcp_test

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	fibermcp "github.com/mcpauthz/mcpauthz/adapters/fiber"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// newApp mounts mcp the way fiber users do: metadata on the app, the
// go-sdk handler (through fiber's adaptor, wrapped by fibermcp.Handler) in a
// group at prefix that carries the middleware.
func newApp(g *core.Guard, mcp http.Handler, prefix string) *fiber.App {
	// StreamRequestBody lets the Guard verify the token before the body is
	// read (fasthttp then pre-reads at most 8 KiB); without it fasthttp
	// reads every declared body before any handler runs.
	app := fiber.New(fiber.Config{DisableStartupMessage: true, StreamRequestBody: true, DisablePreParseMultipartForm: true})
	fibermcp.RegisterMetadata(app, g)
	if prefix == "" {
		app.All(g.ResourcePath(), fibermcp.New(g), fibermcp.Handler(mcp))
		return app
	}
	app.Group(prefix, fibermcp.New(g)).All(strings.TrimPrefix(g.ResourcePath(), prefix), fibermcp.Handler(mcp))
	return app
}

// serve runs app on a fresh loopback listener until the test ends.
func serve(t testing.TB, app *fiber.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = app.Listener(ln)
	}()
	t.Cleanup(func() {
		_ = app.ShutdownWithTimeout(5 * time.Second)
		<-done
	})
	return "http://" + ln.Addr().String()
}

func harness(t testing.TB, g *core.Guard, mcp http.Handler, prefix string) string {
	return serve(t, newApp(g, mcp, prefix))
}

// suiteHarness is the fiber harness; fasthttp reads up to 8 KiB of a
// streamed body before the handler runs (coretest.BodyPrereader).
type suiteHarness struct{ coretest.HarnessFunc }

func (suiteHarness) PrereadBytes() int { return 8 << 10 }

func TestAdapterSuite(t *testing.T) {
	coretest.RunAdapterSuite(t, suiteHarness{coretest.HarnessFunc(harness)})
}

// TestNilGuard: New(nil) and RegisterMetadata(app, nil) answer 500 and
// never panic.
func TestNilGuard(t *testing.T) {
	coretest.RunNilGuard(t, suiteHarness{coretest.HarnessFunc(harness)})
}
