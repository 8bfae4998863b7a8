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
		w := &streamWriter{header: http.Header{}, started: make(chan struct{}), done: make(chan struct{}),
			chunks: make(chan []byte, 16), gone: make(chan struct{})}
		go func() {
			defer close(w.done)
			defer w.finish()
			h.ServeHTTP(w, r)
		}()
		select {
		case <-w.done:
			if !w.isStreaming() { // complete without a flush: one body
				cancel()
				w.copyHeader(c)
				return c.Send(w.buf.Bytes())
			}
		case <-w.started:
		}
		w.copyHeader(c)
		shutdown := c.Context().Done()
		c.Context().SetBodyStreamWriter(func(bw *bufio.Writer) {
			defer cancel()
			defer w.closeGone()
			for {
				select {
				case p, ok := <-w.chunks:
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

// httpRequest builds the net/http request for c, with its own copy of the
// body (a streamed response outlives fasthttp's buffers).
func httpRequest(ctx context.Context, c *fiber.Ctx) (*http.Request, error) {
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
			r.Header.Add(string(k), string(v))
		}
	})
	return r, nil
}

// errGone is returned by writes after the client went away.
var errGone = errors.New("fibermcp: client gone")

// streamWriter is the http.ResponseWriter of Handler: it buffers until the
// first Flush, then hands each write to the stream writer.
type streamWriter struct {
	mu        sync.Mutex
	header    http.Header
	sent      http.Header // the header as of the first WriteHeader
	status    int
	buf       bytes.Buffer
	streaming bool
	started   chan struct{} // closed on the first Flush
	done      chan struct{} // closed when the handler returned
	chunks    chan []byte   // closed when the handler returned
	gone      chan struct{} // closed when the stream writer stopped
	goneOnce  sync.Once
}

func (w *streamWriter) Header() http.Header { return w.header }

func (w *streamWriter) WriteHeader(code int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.status == 0 && code >= 200 {
		w.status, w.sent = code, w.header.Clone()
	}
}

func (w *streamWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.mu.Lock()
	if !w.streaming {
		defer w.mu.Unlock()
		return w.buf.Write(p)
	}
	w.mu.Unlock()
	select {
	case w.chunks <- bytes.Clone(p):
		return len(p), nil
	case <-w.gone:
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
	w.streaming = true
	first := bytes.Clone(w.buf.Bytes())
	w.mu.Unlock()
	close(w.started)
	if len(first) > 0 {
		select {
		case w.chunks <- first:
		case <-w.gone:
		}
	}
}

// finish runs when the handler returned: it ends the stream.
func (w *streamWriter) finish() {
	w.WriteHeader(http.StatusOK)
	w.mu.Lock()
	streaming := w.streaming
	w.mu.Unlock()
	if streaming {
		close(w.chunks)
	}
}

func (w *streamWriter) isStreaming() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.streaming
}

func (w *streamWriter) closeGone() { w.goneOnce.Do(func() { close(w.gone) }) }

// copyHeader puts the status and header on the fasthttp response.
func (w *streamWriter) copyHeader(c *fiber.Ctx) {
	w.mu.Lock()
	defer w.mu.Unlock()
	resp := c.Response()
	resp.SetStatusCode(w.status)
	for k, vs := range w.sent {
		if k == "Content-Length" {
			continue // fasthttp sets it from the body (none for a stream)
		}
		resp.Header.Del(k)
		for _, v := range vs {
			resp.Header.Add(k, v)
		}
	}
}
