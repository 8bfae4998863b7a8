package ginmcp

import (
	"bytes"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/mcpauthz/mcpauthz/core"
)

// PrincipalKey is the gin context key (c.Set / c.Get) under which
// [Middleware] stores the *core.Principal of an allowed request. Prefer
// [PrincipalFrom], which also checks the type.
const PrincipalKey = "mcpauthz.principal"

// Middleware returns a gin middleware that authorizes every request with g.
//
// On refusal it writes Guard.Render's response unchanged (status, every
// header value, body) and calls c.Abort, so no later handler runs. On
// success the next handlers see the identical body bytes in c.Request.Body,
// the principal in c.Keys ([PrincipalFrom]) and in c.Request.Context()
// (core.PrincipalFromContext). A body larger than g.MaxBodyBytes() is never
// read completely; the Guard answers 413.
func Middleware(g *core.Guard) gin.HandlerFunc {
	max := g.MaxBodyBytes()
	return func(c *gin.Context) {
		r := c.Request
		rb := &body{}
		b, tooLarge, readErr := readBodyInto(r, max, rb.small[:0])
		res, err := g.Check(r.Context(), &core.Request{
			Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
			Header: r.Header, Body: b, BodyTooLarge: tooLarge, BodyErr: readErr,
		})
		if err != nil {
			write(c, g.Render(err))
			return
		}
		r = r.WithContext(res.Context(r.Context()))
		if r.Body != nil && r.Body != http.NoBody {
			rb.Reset(b)
			r.Body = rb
			r.ContentLength = int64(len(b))
		}
		c.Request = r
		c.Set(PrincipalKey, res.Principal)
		switch {
		case res.NeedsFilter():
			orig := c.Writer
			fw := &filterWriter{ResponseWriter: orig, f: res.WrapResponseWriter(orig)}
			c.Writer = fw
			defer func() {
				_ = fw.f.Close() // a filter failure has already been answered with Render's 500
				c.Writer = orig
			}()
		case res.CreatesSession():
			orig := c.Writer
			sw := &sessionWriter{ResponseWriter: orig, res: res, g: g}
			c.Writer = sw
			defer func() {
				sw.bind() // no-op if already bound
				c.Writer = orig
			}()
		}
		c.Next()
	}
}

// PrincipalFrom returns the principal [Middleware] stored in c.
func PrincipalFrom(c *gin.Context) (*core.Principal, bool) {
	v, ok := c.Get(PrincipalKey)
	if !ok {
		return nil, false
	}
	p, ok := v.(*core.Principal)
	return p, ok && p != nil
}

// RegisterMetadata registers g.MetadataHandler() for GET, HEAD and OPTIONS
// at every path of g.MetadataPaths() on the engine itself, i.e. at the
// origin root, whatever group the MCP handler is mounted under: the path
// comes from the configured resource URL, not from any router prefix. It
// panics, like gin's own registration, if a route conflicts.
func RegisterMetadata(e *gin.Engine, g *core.Guard) {
	h := gin.WrapH(g.MetadataHandler())
	for _, p := range g.MetadataPaths() {
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodOptions} {
			e.Handle(m, p, h)
		}
	}
}

// write copies a core.Response onto c (each header Render sets replaces
// any earlier value of that header; multiple values are all kept) and
// aborts the chain.
func write(c *gin.Context, resp *core.Response) {
	h := c.Writer.Header()
	for k, vs := range resp.Header {
		h.Del(k)
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	c.Status(resp.Status)
	_, _ = c.Writer.Write(resp.Body)
	c.Abort()
}

// readBody reads the whole request body, at most max bytes. tooLarge
// reports a body over the limit (Content-Length or bytes read).
func readBody(r *http.Request, max int64) (body []byte, tooLarge bool, err error) {
	return readBodyInto(r, max, nil)
}

// readBodyInto is readBody reading into small (length 0) when the body
// fits in its capacity.
func readBodyInto(r *http.Request, max int64, small []byte) (body []byte, tooLarge bool, err error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, false, nil
	}
	if r.ContentLength > max {
		return nil, true, nil
	}
	n := int64(512)
	switch {
	case r.ContentLength >= 0:
		n = r.ContentLength + 1 // one spare byte to see EOF without growing
	case cap(small) > 0:
		n = int64(cap(small)) // unknown length: start small, grow as needed
	}
	n = min(n, max+1)
	buf := small[:0]
	if n > int64(cap(small)) {
		buf = make([]byte, 0, n)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		m, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if int64(len(buf)) > max {
			return nil, true, nil
		}
		if err == io.EOF {
			return buf, false, nil
		}
		if err != nil {
			return nil, false, err
		}
	}
}

// smallBodyBytes is the room for a small body (plus the spare byte that
// sees EOF) inside the restored body itself.
const smallBodyBytes = 256 + 1

// body is the restored request body: one allocation holding the reader
// and a small body's bytes, instead of a buffer plus
// io.NopCloser(bytes.NewReader(b))'s two.
type body struct {
	bytes.Reader
	small [smallBodyBytes]byte
}

// Close does nothing; net/http closes the original body.
func (*body) Close() error { return nil }

// filterWriter routes the body-writing methods of gin.ResponseWriter
// through core's list filter; Status, Size, Hijack and the rest stay with
// gin's writer.
type filterWriter struct {
	gin.ResponseWriter
	f      *core.ResponseFilter
	status int
}

func (w *filterWriter) Header() http.Header { return w.f.Header() }

func (w *filterWriter) WriteHeader(code int) {
	if w.status == 0 || code >= 200 {
		w.status = code
	}
	w.f.WriteHeader(code)
}

func (w *filterWriter) WriteHeaderNow() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.f.WriteHeader(w.status)
}

func (w *filterWriter) Write(p []byte) (int, error) { return w.f.Write(p) }

func (w *filterWriter) WriteString(s string) (int, error) { return w.f.Write([]byte(s)) }

func (w *filterWriter) Flush() { w.f.Flush() }

func (w *filterWriter) Status() int {
	if w.status != 0 {
		return w.status
	}
	return w.ResponseWriter.Status()
}

// Unwrap lets http.ResponseController reach the filter.
func (w *filterWriter) Unwrap() http.ResponseWriter { return w.f }

// sessionWriter binds the Mcp-Session-Id of an initialize response to the
// principal as soon as the handler sets the status or writes, before the
// headers can reach the client. When the binding is refused (the
// principal's session cap, a failing store) it sends the Guard's refusal
// instead and discards the handler's response.
type sessionWriter struct {
	gin.ResponseWriter
	res     *core.Result
	g       *core.Guard
	done    bool
	refused bool
}

func (w *sessionWriter) bind() {
	if w.done {
		return
	}
	w.done = true
	if err := w.res.BindSession(w.Header().Get("Mcp-Session-Id")); err != nil {
		w.refused = true
		resp := w.g.Render(err)
		h := w.Header()
		clear(h)
		for k, vs := range resp.Header {
			h[k] = append([]string(nil), vs...)
		}
		w.ResponseWriter.WriteHeader(resp.Status)
		_, _ = w.ResponseWriter.Write(resp.Body)
	}
}

func (w *sessionWriter) WriteHeader(code int) {
	if code >= 200 {
		w.bind()
	}
	if !w.refused {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *sessionWriter) WriteHeaderNow() {
	w.bind()
	if !w.refused {
		w.ResponseWriter.WriteHeaderNow()
	}
}

func (w *sessionWriter) Write(p []byte) (int, error) {
	if w.bind(); w.refused {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

func (w *sessionWriter) WriteString(s string) (int, error) {
	if w.bind(); w.refused {
		return len(s), nil
	}
	return w.ResponseWriter.WriteString(s)
}

func (w *sessionWriter) Flush() { w.bind(); w.ResponseWriter.Flush() }
