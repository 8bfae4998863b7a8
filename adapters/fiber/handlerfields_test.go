package fibermcp

import (
	"bytes"
	"context"
	"net"
	"slices"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// FuzzHandlerHeaderMatchesGuard: the http.Request Handler gives the MCP
// handler holds, for every field the Guard reads, the values the Guard
// read (newRequest's Fields), so that the handler never acts on a value
// the Guard did not decide on: the same values in the same order, OWS
// trimmed on both sides (fasthttp keeps tabs around a value). Content-Type
// differs where fasthttp keeps one value for several, or none for an
// empty one, while the Guard sees them all: the Guard refuses a POST
// without exactly one, non-empty, and no other request's Content-Type
// is read.
func FuzzHandlerHeaderMatchesGuard(f *testing.F) {
	for _, s := range []string{
		"POST /mcp HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer x\r\nContent-Type: application/json\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: h\r\nAuthorization:\tBearer x\t\r\nMcp-Session-Id: \ta \t\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: h\r\nMcp-Session-Id: a \r\nmcp-session-id: b\r\nMcp-Session-Id:\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer x\r\n y\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: h\r\nMcp-Session-Id: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nMcp-Session-Id: b\r\nOrigin: o\r\n\r\n",
		"DELETE /mcp HTTP/1.1\r\nHost: h\r\nMCP-SESSION-ID: a\r\nOrigin: x\r\nOrigin: y\r\nLast-Event-ID: 1\r\nX-Request-ID: r\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: h\r\nContent-Type: a\r\nContent-Type: b\r\nContent-Encoding: gzip\r\n\r\n",
	} {
		f.Add(s)
	}
	app := fiber.New()
	f.Fuzz(func(t *testing.T, raw string) {
		var req fasthttp.Request
		if err := req.Read(bufioReader(raw)); err != nil {
			return
		}
		var fctx fasthttp.RequestCtx
		fctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4000}, nil)
		c := app.AcquireCtx(&fctx)
		defer app.ReleaseCtx(c)
		guard := newRequest(c.Request(), nil)
		hr, err := httpRequest(context.Background(), c, bytes.Clone(c.Request().Body()))
		if err != nil {
			return
		}
		for _, name := range slotNames {
			g, h := guard.Fields.Values(name), hr.Header.Values(name)
			if name == "Content-Type" && (len(g) != 1 || g[0] == "") {
				continue // refused by the Guard on a POST; see above
			}
			if !slices.Equal(g, h) {
				t.Fatalf("%q: the Guard read %q, the handler gets %q", name, g, h)
			}
		}
	})
}
