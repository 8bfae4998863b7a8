package fibermcp

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// FuzzNewRequest: for any request fasthttp accepts, newRequest never
// panics, copies path and query, builds no http.Header, and its Fields
// give every header value (but Host) under its canonical name, in order;
// of several Content-Type fields, of which fasthttp keeps the last, every
// one (checkValues).
func FuzzNewRequest(f *testing.F) {
	f.Add("POST /mcp?a=b HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer x\r\nauthorization: Bearer y\r\nContent-Length: 2\r\n\r\n{}")
	f.Add("GET / HTTP/1.1\r\nHost: h\r\nCookie: a=b\r\nX-\xff: \xfe\r\nMcp-Session-Id: s\r\n\r\n")
	f.Add("POST /mcp HTTP/1.1\r\nHost: h\r\nContent-Type: a/b\r\ncontent-TYPE: c/d\r\nContent-Length: 2\r\n\r\n{}")
	f.Fuzz(func(t *testing.T, raw string) {
		var req fasthttp.Request
		if err := req.Read(bufioReader(raw)); err != nil {
			return
		}
		path, query := string(req.URI().Path()), string(req.URI().QueryString())
		got := newRequest(&req, nil)
		if got.Path != path || got.RawQuery != query || got.Method != string(req.Header.Method()) {
			t.Fatalf("got %q %q %q", got.Method, got.Path, got.RawQuery)
		}
		checkValues(t, &req, got)
		if got.Header != nil {
			t.Fatalf("an http.Header was built: %q", got.Header)
		}
	})
}

// FuzzFillRequestSequence: one reqState carrying a, b, b, a and b again
// (reset in between, as New does) gives each request exactly what a fresh
// state gives it: nothing of the request before shows in the values the
// Guard reads.
func FuzzFillRequestSequence(f *testing.F) {
	const post = "POST /mcp HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nAuthorization: Bearer a\r\nContent-Length: 2\r\n\r\n{}"
	f.Add(post, "POST /mcp HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nAuthorization: Bearer b\r\nContent-Length: 2\r\n\r\n{}")
	f.Add(post, "POST /mcp HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nAuthorization: Bearer a\r\nContent-Type: a/b\r\nContent-Length: 2\r\n\r\n{}")
	f.Add(post, "GET / HTTP/1.1\r\nHost: h\r\nAccept: a\r\naccept: b\r\nX-\xff: \xfe\r\n\r\n")
	f.Fuzz(func(t *testing.T, a, b string) {
		var ra, rb fasthttp.Request
		if ra.Read(bufioReader(a)) != nil || rb.Read(bufioReader(b)) != nil {
			return
		}
		st := &reqState{}
		for i, raw := range []string{a, b, b, a, b} {
			var want, req fasthttp.Request
			_ = want.Read(bufioReader(raw))
			_ = req.Read(bufioReader(raw))
			addr := &net.TCPAddr{IP: net.IPv4(10, 0, 0, byte(i)), Port: 1000 + i}
			exp := newRequest(&want, addr)
			got := fill(st, &req, addr)
			req.Header.VisitAll(func(_, v []byte) { // fasthttp reuses its buffers
				for j := range v {
					v[j] = 'z'
				}
			})
			if gh, eh := slotHeader(got), slotHeader(exp); got.Method != exp.Method || got.Path != exp.Path ||
				got.RawQuery != exp.RawQuery || got.Peer != exp.Peer || !reflect.DeepEqual(gh, eh) {
				t.Fatalf("request %d: reused state gave %+v %q\nfresh state gave %+v %q", i, got, gh, exp, eh)
			}
			st.reset()
		}
	})
}

// FuzzHTTPRequest: for any request fasthttp accepts, httpRequest builds
// the same net/http request as the previous implementation (kept below as
// the reference: http.NewRequestWithContext and Header.Add per value), and
// its strings and body are copies that survive a reuse of fasthttp's
// buffers.
func FuzzHTTPRequest(f *testing.F) {
	f.Add("POST /mcp?a=b HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer x\r\nauthorization: Bearer y\r\nContent-Length: 2\r\n\r\n{}")
	f.Add("GET / HTTP/1.1\r\nHost: h\r\nCookie: a=b\r\nX-\xff: \xfe\r\nMcp-Session-Id: s\r\n\r\n")
	f.Add("DELETE /a%20b/c?x=%zz HTTP/1.1\r\nHost: [::1]:8080\r\nmcp-session-id: s1\r\nAccept: a\r\nAccept: b\r\n\r\n")
	f.Add("GET //evil.example/x HTTP/1.1\r\nHost: h\r\n\r\n")
	f.Add("POST http://example.com/mcp HTTP/1.1\r\nHost: other\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\r\nabc")
	f.Add("POST /mcp HTTP/1.1\r\nHost: h\r\nAuthorization:\tBearer x\t\r\nMcp-Session-Id: \ta \t\r\n\r\n")
	app := fiber.New()
	f.Fuzz(func(t *testing.T, raw string) {
		var req fasthttp.Request
		if err := req.Read(bufioReader(raw)); err != nil {
			return
		}
		var fctx fasthttp.RequestCtx
		// Init copies req into fctx.Request (given fctx.Request itself, it
		// resets it first and copies nothing: every request was "GET /").
		fctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4000}, nil)
		if string(fctx.Request.RequestURI()) != string(req.RequestURI()) || fctx.Request.Header.Len() != req.Header.Len() {
			t.Fatalf("the request under test is not the one read: %q", fctx.Request.RequestURI())
		}
		if !slices.Contains(fiber.DefaultMethods, string(req.Header.Method())) {
			return // fiber answers any other method itself (501), before any handler
		}
		c := app.AcquireCtx(&fctx)
		defer app.ReleaseCtx(c)
		// The reference reads a copy of its own: fasthttp rewrites the
		// request URI once a call parsed it with the Host (":///0" with
		// Host "#" reads "/0" first, "/" after Host), so each side must
		// start from the request as read.
		var fref fasthttp.RequestCtx
		fref.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4000}, nil)
		cref := app.AcquireCtx(&fref)
		defer app.ReleaseCtx(cref)
		ctx := context.WithValue(context.Background(), fuzzKey{}, 1)
		want, werr := referenceHTTPRequest(ctx, cref)
		body := bytes.Clone(c.Request().Body())
		got, gerr := httpRequest(ctx, c, body)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("error %v, reference %v", gerr, werr)
		}
		if werr != nil {
			return
		}
		wb, _ := io.ReadAll(want.Body)
		gb, _ := io.ReadAll(got.Body)
		check := func() {
			t.Helper()
			if got.Method != want.Method || got.URL.String() != want.URL.String() || got.RequestURI != want.RequestURI ||
				got.Host != want.Host || got.RemoteAddr != want.RemoteAddr || got.ContentLength != want.ContentLength ||
				got.Proto != want.Proto || got.Context().Value(fuzzKey{}) != 1 || string(gb) != string(wb) ||
				!reflect.DeepEqual(got.Header, want.Header) || !reflect.DeepEqual(got.URL, want.URL) {
				t.Fatalf("got %s %v %q %q %q %d %q %v\nwant %s %v %q %q %q %d %q %v", got.Method, got.URL, got.RequestURI, got.Host,
					got.RemoteAddr, got.ContentLength, gb, got.Header, want.Method, want.URL, want.RequestURI, want.Host,
					want.RemoteAddr, want.ContentLength, wb, want.Header)
			}
		}
		check()
		// Overwrite fasthttp's buffers: nothing of got may change.
		for i := range fctx.Request.Header.RawHeaders() {
			fctx.Request.Header.RawHeaders()[i] = 'z'
		}
		fctx.Request.Reset()
		_ = fctx.Request.Read(bufioReader("PUT /zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz HTTP/1.1\r\nHost: zzzzzzzzzzzzzz\r\nX-Zzzzzzzzzzzzzzzzz: zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\r\nContent-Length: 40\r\n\r\nzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"))
		check()
	})
}

type fuzzKey struct{}

// referenceHTTPRequest is httpRequest as it was before the single-copy
// version (commit 5d10765), the reference of FuzzHTTPRequest.
func referenceHTTPRequest(ctx context.Context, c *fiber.Ctx) (*http.Request, error) {
	req := c.Request()
	u, err := url.ParseRequestURI(string(req.RequestURI()))
	if err != nil {
		return nil, err
	}
	body := bytes.Clone(req.Body())
	r, err := http.NewRequestWithContext(ctx, string(req.Header.Method()), u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	r.RequestURI, r.Host, r.RemoteAddr = string(req.RequestURI()), string(req.Host()), c.Context().RemoteAddr().String()
	if len(body) == 0 {
		r.Body, r.ContentLength = http.NoBody, 0
	}
	req.Header.VisitAll(func(k, v []byte) {
		if string(k) != "Host" {
			r.Header.Add(string(k), strings.Trim(string(v), " \t")) // OWS trimmed, as by net/http
		}
	})
	return r, nil
}
