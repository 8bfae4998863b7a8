package core

import (
	"io"
	"net/http"
	"sync"
	"time"
)

// This file is the one net/http adapter body: the net/http, chi and gin
// adapters are thin wrappers around [Guard.Serve]. fiber (fasthttp) has its
// own body with the same semantics and shares [Guard.Render],
// [Result.FilterResponse] and [Result.BindSession].

// Serve runs the Guard for one net/http request and, when it is allowed,
// calls next with the request to pass on and the writer to use:
//
//  1. The bearer token is verified from the header before the body is
//     read; an unauthenticated request is refused without reading it.
//  2. The body is read with the limit [Guard.MaxBodyBytes], growing the
//     buffer as bytes arrive (never from the declared Content-Length).
//  3. A refusal is written with [WriteResponse] and next is not called.
//  4. Otherwise next receives a request whose context carries the
//     principal (PrincipalFromContext) and the go-sdk auth.TokenInfo
//     (auth.TokenInfoFromContext), with the identical body bytes; and a
//     writer that filters a list response (JSON or SSE) or binds the
//     session an initialize response creates, when either applies.
//
// next must not keep the request or the writer after it returns.
func (g *Guard) Serve(w http.ResponseWriter, r *http.Request, next func(http.ResponseWriter, *http.Request)) {
	g.serve(w, r, next, nil)
}

// ServeHandler is [Guard.Serve] with next as an http.Handler, whose
// ServeHTTP it calls directly. Passing a handler's method value to Serve
// puts a wrapper frame between the Guard and the handler; every frame
// under the MCP handler is unwound again whenever the collector scans the
// goroutine or the heap profiler samples an allocation, which behind a
// garbage-heavy go-sdk server is about once per request.
func (g *Guard) ServeHandler(w http.ResponseWriter, r *http.Request, next http.Handler) {
	g.serve(w, r, nil, next)
}

// serve is Serve (fn) and ServeHandler (h); exactly one of them is set.
func (g *Guard) serve(w http.ResponseWriter, r *http.Request, fn func(http.ResponseWriter, *http.Request), h http.Handler) {
	if g == nil {
		nilGuardHandler{}.ServeHTTP(w, r) // ErrNilGuard: 500, next is not called
		return
	}
	st, res, body, buf := g.admit(w, r)
	if st == nil {
		return // refused and answered
	}
	r = &st.req
	switch {
	case res.NeedsFilter():
		fw := res.WrapResponseWriter(w)
		defer fw.Close() // a filter failure has already been answered with a 500
		if h != nil {
			h.ServeHTTP(fw, r)
		} else {
			fn(fw, r)
		}
	case res.CreatesSession():
		sw := &sessionWriter{ResponseWriter: w, res: res, g: g}
		if h != nil {
			h.ServeHTTP(sw, r)
		} else {
			fn(sw, r)
		}
		sw.bind() // no-op when already bound
	default:
		if h != nil {
			h.ServeHTTP(w, r)
		} else {
			fn(w, r)
		}
		// The plain allowed path: nothing but the restored body refers to
		// the pooled buffer (the inspection copied what the Result keeps,
		// and the scratch was zeroed). Once next read it to EOF and
		// returned, nothing can read it again: it goes back to the pool.
		// A body next did not finish may still be read by something it
		// started, so its buffer is left to the collector.
		if buf != nil && len(st.body.b) == 0 {
			st.body.b = nil
			putBodyBuf(buf, body)
		}
	}
}

// admit is serve up to the hand-off: it checks the request and returns
// the per-request state with the request for next in st.req, the Result,
// the body bytes and their pooled buffer; or, after writing the refusal,
// a nil st. It is a function of its own so that its frame (the Request
// and the Check call's locals, most of serve's stack) is gone before
// next runs: every frame under the MCP handler is scanned by the
// collector and copied when the goroutine's stack grows again after a
// collection shrank it.
func (g *Guard) admit(w http.ResponseWriter, r *http.Request) (st *httpState, res *Result, body []byte, buf *bodyBuf) {
	st = &httpState{}
	sc := getScratch()
	// On the stack: Check keeps no reference to the Request itself.
	cr := &Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, RemoteAddr: r.RemoteAddr, Header: r.Header}
	if r.Body != nil && r.Body != http.NoBody {
		sc.body = httpBody{w: w, r: r, watch: &g.bodies}
		cr.BodyReader = &sc.body
	}
	res, err := g.checkIn(r.Context(), cr, &st.res, sc, st.name[:0])
	if err != nil {
		switch {
		case cr.BodyTooLarge:
			w.Header().Set("Connection", "close") // the rest of the body is not read
		case cr.BodyReader != nil && cr.Body == nil && r.ContentLength != 0:
			// Refused before the body was read. net/http would discard up
			// to 256 KiB of it after the handler, with no deadline on a
			// server without ReadTimeout: a body that never comes would
			// hold the connection forever. Close instead, and give what is
			// in flight a short grace so the client reads the answer
			// rather than a reset. Behind a wrapper without Unwrap the
			// deadline cannot be set and nothing else ends that read (the
			// wrapper hides Hijack too): say so, once, as the body watch
			// does.
			w.Header().Set("Connection", "close")
			if err := http.NewResponseController(w).SetReadDeadline(time.Now().Add(refusedBodyGrace)); err != nil && noReadTimeout(r) {
				g.bodies.warnOpaque(w, err)
			}
		}
		WriteResponse(w, g.Render(err))
		return nil, nil, nil, nil // sc is not reused: the refusal may point into it
	}
	body, buf = cr.Body, sc.body.buf
	hasBody := cr.BodyReader != nil
	putScratch(sc)
	// The request handed on lives in st too: WithContext is inlined, so
	// its copy stays on the stack and the request costs no allocation of
	// its own.
	st.req = *r.WithContext(res.Context(r.Context()))
	if hasBody {
		st.body.b = body
		st.req.Body = &st.body
		st.req.ContentLength = int64(len(body))
	}
	return st, res, body, buf
}

// WriteResponse writes a [Guard.Render] response on w: each header Render
// sets replaces any value set earlier on w (all of Render's values are
// kept), then the status, then the body. Every adapter writes refusals this
// way, so they are byte-identical across frameworks.
func WriteResponse(w http.ResponseWriter, resp *Response) {
	h := w.Header()
	for k, vs := range resp.Header {
		h[k] = vs // Render's header is fresh for every call
	}
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}

// httpState is Serve's per-request allocation: the Result and the request
// handed to next with its restored body, all of which next (and anything
// it starts, through the request's context) may still refer to. It stays
// within the 512-byte size class, the largest whose objects need no malloc
// header (TestHTTPStateSize); the body's bytes are in a pooled buffer
// ([httpBody.ReadBody], bodyPool). What only Check reads, including the
// connection's writer and request, is a pooled checkScratch (hotpath.go);
// an initialize request's session writer is allocated apart.
type httpState struct {
	res  Result
	req  http.Request // the request handed to next
	body restoredBody
	// name is room for the request's target name (Guard.inspect): written
	// once, before any string points into it, and never again, as an
	// httpState is never reused. It fills the 512-byte size class.
	name [nameRoom]byte
}

// httpBody is Serve's [BodyReader]: the connection's writer and request,
// held in the pooled scratch only while Check runs.
type httpBody struct {
	w     http.ResponseWriter
	r     *http.Request // as received: its Body is the connection's
	watch *bodyWatch    // the Guard's
	entry watchedRead   // the read's registration in watch
	buf   *bodyBuf      // from bodyPool, set by ReadBody
}

// bodyBuf is a pooled body buffer. Serve returns it to bodyPool only on
// the plain allowed path once next has read the body to EOF (see Serve);
// after a refusal, or on the filtering and session paths, the body may
// still be referenced and the buffer is left to the collector.
type bodyBuf struct{ b []byte }

var bodyPool = sync.Pool{New: func() any { return &bodyBuf{b: make([]byte, 0, firstBodyBuf)} }}

// maxPooledBody is the largest buffer kept in bodyPool, so that one large
// body does not keep its memory pinned in the pool.
const maxPooledBody = 64 << 10

// putBodyBuf returns buf to the pool with body, the bytes last read into
// it (possibly a grown copy), as its new buffer when that is larger.
func putBodyBuf(buf *bodyBuf, body []byte) {
	if cap(body) > cap(buf.b) {
		buf.b = body
	}
	if cap(buf.b) > maxPooledBody {
		return
	}
	buf.b = buf.b[:0]
	bodyPool.Put(buf)
}

// firstBodyBuf is the capacity of a new pooled body buffer and of
// [ReadBody]'s own first buffer. Either grows only as bytes arrive.
const firstBodyBuf = 512

// ReadBody reads the body from the connection, at most max+1 bytes, into a
// pooled buffer (bodyPool) that grows as bytes arrive.
// On a server without ReadTimeout the read is bounded by
// [BodyReadTimeout] (cut within a second after it; see [bodyWatch]), and
// nothing is left once the body is in, so a slow body is bounded while
// long-lived responses (event streams) are not. A body that
// [BoundBodyReads] bounds already is not watched.
func (hb *httpBody) ReadBody(max int64) ([]byte, error) {
	if _, bounded := hb.r.Body.(*deadlineBody); !bounded && hb.watch != nil && hb.watch.tick > 0 {
		if noReadTimeout(hb.r) {
			hb.watch.add(&hb.entry, hb.w)
			defer hb.watch.remove(&hb.entry)
			hb.buf = bodyPool.Get().(*bodyBuf)
			return ReadBody(hb, max, hb.buf.b[:0])
		}
	}
	hb.buf = bodyPool.Get().(*bodyBuf)
	return ReadBody(hb.r.Body, max, hb.buf.b[:0])
}

// noReadTimeout reports whether r is served by an http.Server without
// ReadTimeout: nothing but a deadline the request sets bounds the reading
// of its body.
func noReadTimeout(r *http.Request) bool {
	srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server)
	return ok && srv.ReadTimeout <= 0
}

// Read is the connection's body as ReadBody reads it while the watch has
// the read registered ([watchedRead.read]).
func (hb *httpBody) Read(p []byte) (int, error) { return hb.entry.read(hb.r.Body, p) }

// BodyReadTimeout bounds the reading of a request body by [Guard.Serve] on
// an http.Server without ReadTimeout. An http.Server's ReadTimeout also
// applies to the rest of the connection's request and cancels long-lived
// handlers (an MCP GET stream) when it expires, so servers that carry
// event streams set ReadHeaderTimeout and IdleTimeout and rely on this
// per-request body deadline instead.
const BodyReadTimeout = 30 * time.Second

// refusedBodyGrace is how long the unread body of a refused request may
// still be drained (net/http's own delay before closing on an unread body).
const refusedBodyGrace = 500 * time.Millisecond

// ReadBody reads r to EOF into buf (its capacity is used first) and returns
// the bytes, or an error wrapping [ErrBodyTooLarge] as soon as more than limit
// bytes arrived. The buffer grows as bytes arrive, never ahead of them by
// more than its doubling, so a declared but unsent body costs nothing.
func ReadBody(r io.Reader, limit int64, buf []byte) ([]byte, error) {
	if cap(buf) == 0 {
		buf = make([]byte, 0, 512)
	}
	for {
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), max(min(int64(cap(buf))*2, limit+1), int64(len(buf))+1))
			copy(nb, buf)
			buf = nb
		}
		m, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if int64(len(buf)) > limit {
			return nil, ErrBodyTooLarge
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// restoredBody is the body next sees: a reader over the bytes the Guard
// inspected, whose Close does nothing (net/http closes the original body).
type restoredBody struct{ b []byte } // what is left to read

// Read implements io.Reader.
func (rb *restoredBody) Read(p []byte) (int, error) {
	if len(rb.b) == 0 {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := copy(p, rb.b)
	rb.b = rb.b[n:]
	return n, nil
}

// WriteTo implements io.WriterTo, so io.Copy hands the bytes on at once.
func (rb *restoredBody) WriteTo(w io.Writer) (int64, error) {
	b := rb.b
	n, err := w.Write(b)
	rb.b = b[n:]
	if err == nil && n != len(b) {
		err = io.ErrShortWrite
	}
	return int64(n), err
}

// Close does nothing; net/http closes the original body.
func (*restoredBody) Close() error { return nil }

// sessionWriter binds the Mcp-Session-Id of an initialize response to the
// principal when the final status is set or the first byte is written,
// before the headers can reach the client. When the binding is refused (the
// principal's session cap, a failing store) it sends the Guard's refusal
// instead of the server's response and discards the server's body.
type sessionWriter struct {
	http.ResponseWriter
	res     *Result
	g       *Guard
	done    bool
	refused bool
}

func (s *sessionWriter) bind() {
	if s.done {
		return
	}
	s.done = true
	if err := s.res.BindSessionValues(s.ResponseWriter.Header().Values("Mcp-Session-Id")); err != nil {
		s.refused = true
		clear(s.ResponseWriter.Header())
		WriteResponse(s.ResponseWriter, s.g.Render(err))
	}
}

// WriteHeader binds on a final status, then writes it (unless refused).
func (s *sessionWriter) WriteHeader(code int) {
	if code >= 200 {
		s.bind()
	}
	if !s.refused {
		s.ResponseWriter.WriteHeader(code)
	}
}

// Write binds, then writes (or discards, when refused).
func (s *sessionWriter) Write(p []byte) (int, error) {
	if s.bind(); s.refused {
		return len(p), nil
	}
	return s.ResponseWriter.Write(p)
}

// Flush binds, then flushes.
func (s *sessionWriter) Flush() {
	s.bind()
	_ = http.NewResponseController(s.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection.
func (s *sessionWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
