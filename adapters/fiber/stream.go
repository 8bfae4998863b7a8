package fibermcp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/core"
)

// Handler mounts a net/http handler (such as the go-sdk's
// mcp.NewStreamableHTTPHandler, stateful or not) on fiber and hands it the
// principal and the go-sdk auth.TokenInfo that [New] put in the user
// context. A response the handler completes without flushing is sent as
// one body; once the handler flushes (an event stream: a GET stream of a
// stateful session, or an SSE POST response), the status and headers go
// out and every later write is streamed through fasthttp's
// SetBodyStreamWriter, flushed as it is written. The handler's request
// context is cancelled when a write to the client fails, when the server
// shuts down, or when the handler returns. Requests that did not pass
// [New] reach h without a principal and are refused by the go-sdk's bearer
// check (401).
func Handler(h http.Handler) fiber.Handler {
	h = httpmcp.SDKHandler(h)
	return func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		if _, ok := core.PrincipalFromContext(ctx); !ok {
			if p, ok := c.Locals(principalKey{}).(*core.Principal); ok && p != nil {
				ctx = core.WithPrincipal(ctx, p)
			}
		}
		ctx, cancel := context.WithCancel(ctx)
		r, err := httpRequest(ctx, c)
		if err != nil {
			cancel()
			return fiber.ErrBadRequest
		}
		w := &streamWriter{resp: c.Response(), header: make(http.Header, 4), ready: make(chan struct{})}
		go func() {
			defer w.finish()
			h.ServeHTTP(w, r)
		}()
		<-w.ready // the handler returned or flushed; until then only it touches the response
		if !w.streaming {
			cancel()
			return c.Send(w.buf.Bytes())
		}
		shutdown := c.Context().Done()
		chunks := w.chunks
		c.Context().SetBodyStreamWriter(func(bw *bufio.Writer) {
			defer cancel()
			defer close(w.gone)
			for {
				select {
				case p, ok := <-chunks:
					if !ok {
						return
					}
					if _, err := bw.Write(p); err != nil {
						return
					}
					if err := bw.Flush(); err != nil {
						return // the client is gone
					}
				case <-shutdown:
					return
				}
			}
		})
		return nil
	}
}

// httpRequest builds the net/http request for c. Every string (request
// URI, host, remote address, header values) is a copy, made with one
// allocation (the Authorization value is interned: copied once while it
// does not change), and the body is copied too: a streamed response outlives
// fasthttp's buffers. Header names are canonicalised as net/http does, every
// value is kept, and Host is left out of the header as in net/http.
func httpRequest(ctx context.Context, c *fiber.Ctx) (*http.Request, error) {
	req := c.Request()
	h := &req.Header
	type field struct {
		key string
		end int    // of the value in all; -1: the value is s
		s   string // the interned Authorization value
	}
	var fieldBuf [inlineHeaders]field
	var stack [1024]byte
	fields := fieldBuf[:0]
	b := append(stack[:0], req.RequestURI()...)
	uriEnd := len(b)
	b = append(b, req.Host()...)
	hostEnd := len(b)
	b = appendAddr(b, c.Context().RemoteAddr())
	addrEnd := len(b)
	tok := interned.Get().(*internedValue)
	defer interned.Put(tok)
	h.VisitAll(func(k, v []byte) {
		if string(k) == "Host" {
			return
		}
		if key := canonical(k); key == "Authorization" {
			fields = append(fields, field{key: key, end: -1, s: tok.intern(v)})
		} else {
			b = append(b, v...)
			fields = append(fields, field{key: key, end: len(b)})
		}
	})
	all := string(b)
	u, err := url.ParseRequestURI(all[:uriEnd])
	if err != nil {
		return nil, err
	}
	hdr := make(http.Header, len(fields))
	vals, off := make([]string, len(fields)), addrEnd
	for i, f := range fields {
		if vals[i] = f.s; f.end >= 0 {
			vals[i], off = all[off:f.end], f.end
		}
		if old, ok := hdr[f.key]; ok {
			hdr[f.key] = append(old, vals[i])
		} else {
			hdr[f.key] = vals[i : i+1 : i+1]
		}
	}
	r := http.Request{Method: method(h.Method()), URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: hdr, Body: http.NoBody, Host: all[uriEnd:hostEnd], RemoteAddr: all[hostEnd:addrEnd],
		RequestURI: all[:uriEnd], TLS: c.Context().TLSConnectionState()}
	if body := req.Body(); len(body) > 0 {
		r.Body, r.ContentLength = &requestBody{Reader: *bytes.NewReader(bytes.Clone(body))}, int64(len(body))
	}
	return r.WithContext(ctx), nil
}

// interned holds the Authorization values httpRequest copied last (see
// internedValue.intern).
var interned = sync.Pool{New: func() any { return new(internedValue) }}

// requestBody is the body of httpRequest's request.
type requestBody struct{ bytes.Reader }

func (*requestBody) Close() error { return nil }

// errGone is returned by writes after the client went away.
var errGone = errors.New("fibermcp: client gone")

// streamWriter is the http.ResponseWriter of Handler: it buffers until the
// first Flush, then hands each write to the stream writer. The status and
// header of the first WriteHeader go straight onto the fasthttp response:
// Handler does not touch the response before ready is closed, and the
// first WriteHeader always precedes that (Flush and finish call it).
type streamWriter struct {
	mu        sync.Mutex
	resp      *fasthttp.Response
	header    http.Header
	status    int
	buf       bytes.Buffer
	streaming bool
	signalled bool
	ready     chan struct{} // closed on the first Flush, or when the handler returned
	chunks    chan []byte   // made by the first Flush; closed when the handler returned
	gone      chan struct{} // made by the first Flush; closed when the stream writer stopped
}

func (w *streamWriter) Header() http.Header { return w.header }

func (w *streamWriter) WriteHeader(code int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.status != 0 || code < 200 {
		return
	}
	w.status = code
	if w.signalled {
		return // cannot happen: every path that signals writes the header first
	}
	w.resp.SetStatusCode(code)
	for k, vs := range w.header {
		if k == "Content-Length" {
			continue // fasthttp sets it from the body (none for a stream)
		}
		w.resp.Header.Del(k)
		for _, v := range vs {
			w.resp.Header.Add(k, v)
		}
	}
}

func (w *streamWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.mu.Lock()
	if !w.streaming {
		defer w.mu.Unlock()
		return w.buf.Write(p)
	}
	chunks, gone := w.chunks, w.gone
	w.mu.Unlock()
	select {
	case chunks <- bytes.Clone(p):
		return len(p), nil
	case <-gone:
		return 0, errGone
	}
}

// Flush starts streaming: the header and what was buffered go out now.
func (w *streamWriter) Flush() {
	w.WriteHeader(http.StatusOK)
	w.mu.Lock()
	if w.streaming {
		w.mu.Unlock()
		return
	}
	w.streaming, w.signalled = true, true
	w.chunks, w.gone = make(chan []byte, 16), make(chan struct{})
	first, chunks, gone := bytes.Clone(w.buf.Bytes()), w.chunks, w.gone
	w.buf = bytes.Buffer{}
	w.mu.Unlock()
	close(w.ready)
	if len(first) > 0 {
		select {
		case chunks <- first:
		case <-gone:
		}
	}
}

// finish runs when the handler returned: it ends the stream, or hands the
// complete response to Handler.
func (w *streamWriter) finish() {
	w.WriteHeader(http.StatusOK)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.streaming {
		close(w.chunks)
		return
	}
	w.signalled = true
	close(w.ready)
}
