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
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
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

func TestAdapterSuite(t *testing.T) {
	coretest.RunAdapterSuite(t, coretest.HarnessFunc(harness))
}
