package fibermcp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/valyala/fasthttp"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/core"
)

// DefaultKeepAlive is the interval of HandlerConfig.KeepAlive when it is 0.
const DefaultKeepAlive = 20 * time.Second

// HandlerConfig configures [HandlerWith]. The zero value is what [Handler]
// uses.
type HandlerConfig struct {
	// Logger receives a recovered panic of the handler (at Error level:
	// the panic value, truncated to 1 KiB, the method, the path and the
	// stack, truncated to 64 KiB; never a header value, so never the
	// Authorization value). Nil: slog.Default(), so that a panic is not
	// silently swallowed.
	Logger *slog.Logger
	// KeepAlive is how long an idle text/event-stream response may stay
	// silent before the bridge writes an SSE comment (": \n\n", which
	// clients ignore) between two events. fasthttp does not report a
	// client that left, so this write is what finds a closed connection:
	// it fails, and the handler's request context is cancelled, within a
	// few intervals of the client leaving. Only event streams get comments,
	// and only at an event boundary (after a blank line). 0 means
	// DefaultKeepAlive (20 s); a negative value disables comments (a quiet
	// stream then lives until its next write or server shutdown).
	KeepAlive time.Duration
	// Buffered runs the handler of every request but a GET on fasthttp's
	// own goroutine and sends its response whole, as fiber's
	// adaptor.HTTPHandler does, instead of on a pooled goroutine that can
	// stream: that saves the handoff between two goroutines on every such
	// request. A GET still takes the streaming path. Set it only for a
	// handler that never flushes the response to a POST or DELETE, such as
	// the go-sdk's with StreamableHTTPOptions{JSONResponse: true} (its
	// subscriptions/listen POST streams even then). A handler that flushes
	// under Buffered fails loudly: its request context is cancelled, its
	// later writes fail, an Error is logged (method and path, never a
	// header value), and the client gets a 500, or, when the handler had
	// already called WriteHeader, a closed connection without a response.
	// Default false: a request takes the streaming path unless its method
	// was learned as never flushing (see [HandlerWith]).
	Buffered bool
	// Learning says which handlers the learning described at [HandlerWith]
	// applies to. Default LearnSDK: only the go-sdk's own
	// *mcp.StreamableHTTPHandler, passed to HandlerWith as it is. Buffered
	// takes precedence: with it nothing is learned.
	Learning Learning
}

// Learning selects the handlers whose methods [HandlerWith] learns to run
// inline (see there).
type Learning int

const (
	// LearnSDK, the default, learns when the handler is the go-sdk's
	// *mcp.StreamableHTTPHandler itself, not wrapped: it answers a method
	// the same way on every call, as an event stream (SSE, its default)
	// or whole (StreamableHTTPOptions.JSONResponse), except
	// subscriptions/listen, which always streams and is never learned.
	// Any other handler takes the streaming path for every request.
	LearnSDK Learning = iota
	// LearnAlways learns for any handler. Use it for a handler known to
	// answer each method always whole or always as a stream, such as a
	// go-sdk handler behind middleware. A handler that answers whole
	// until a call has something to send before its result (one that
	// upgrades that response to an event stream) is guessed wrong once
	// per method: see [HandlerWith].
	LearnAlways
	// LearnNever: every request takes the streaming path (unless Buffered
	// runs it inline).
	LearnNever
)

// learnerFor returns the learning table of a [HandlerWith] handler for h
// (as passed, before it is wrapped) under cfg, nil when nothing is
// learned.
func learnerFor(h http.Handler, cfg HandlerConfig) *learning {
	if cfg.Buffered {
		return nil
	}
	switch cfg.Learning {
	case LearnAlways:
		return newLearning()
	case LearnSDK:
		if _, ok := h.(*mcp.StreamableHTTPHandler); ok {
			return newLearning()
		}
	}
	return nil // LearnNever, or a value this version does not know
}

// Handler is HandlerWith(h, HandlerConfig{}).
func Handler(h http.Handler) fiber.Handler { return HandlerWith(h, HandlerConfig{}) }

// HandlerWith mounts a net/http handler (such as the go-sdk's
// mcp.NewStreamableHTTPHandler, stateful or not) on fiber and hands it the
// principal and the go-sdk auth.TokenInfo that [New] put in the user
// context. A response the handler completes without flushing is sent as
// one body; once the handler flushes (an event stream: a GET stream of a
// stateful session, or an SSE POST response), the status and headers go
// out and every later write is streamed through fasthttp's
// SetBodyStreamWriter, flushed as it is written. The handler's request
// context is cancelled when a write to the client fails (an idle event
// stream is probed every cfg.KeepAlive, see [HandlerConfig]), when the
// server shuts down, or when the handler returns. Requests that did not
// pass [New] reach h without a principal and are refused by the go-sdk's
// bearer check (401).
//
// Trailers (the Trailer header and http.TrailerPrefix keys) are not
// forwarded; 1xx statuses are skipped. With cfg.Buffered every request but
// a GET runs on fasthttp's goroutine and cannot stream (see
// [HandlerConfig]).
//
// Unless cfg.Buffered is set, the returned handler learns, when h is the
// go-sdk's *mcp.StreamableHTTPHandler itself (or for any h with
// cfg.Learning LearnAlways; see [Learning]), per JSON-RPC method, whether
// h streams: a POST of one message (not a
// batch) that passed [New], whose method is one of a fixed set of MCP
// methods (tools/call, tools/list, resources/read, prompts/get, ping,
// initialize, notifications/initialized, ...; not subscriptions/listen),
// runs inline, on fasthttp's goroutine as with cfg.Buffered, once h
// answered that method 8 times on the streaming path without flushing,
// each time with a 200 that is not an event stream (or a 202 to a
// notification), and never flushed it. A refusal (any other status) does
// not count: a client could otherwise teach h's methods to run inline
// with calls an SSE server refuses without flushing, and another
// principal's events would wait for its handler to return. Any flush of
// the method makes it stream from then on. A GET, a DELETE, a batch, a
// request that did not pass New and any other method always take the
// streaming path. So a go-sdk server with JSONResponse gets the inline
// path after its first 8 calls of each method, and an SSE server (the
// go-sdk's default, which flushes every event) never does. A wrong guess
// costs the responses of the method already running inline when h first
// flushes one: such a response cannot stream any more; it is not refused
// (as under Buffered) but goes out whole, with everything h wrote, when h
// returns, its context is cancelled at server shutdown, and one Warn is
// logged for the method (its name, the request's method and path, never
// a header value). Events of such a response are therefore late, one
// that never ends is never sent, and a handler that waits for its
// client's answer to an event (an elicitation) waits until its own
// timeout or shutdown. The go-sdk's handler never does this (its
// JSONResponse option fixes, for every method it learns, whether a
// response streams), which is why only it learns by default; keep
// LearnAlways off for a handler that may stream a response on a method it
// usually answers whole. (Taking the connection over at that
// flush, to stream it, would write around fasthttp's output buffer, which
// can still hold the response to an earlier pipelined request.)
//
// Any other request runs h on a goroutine of a pool that the returned
// handler owns: up to 128 goroutines stay parked between requests (one
// parked through a whole 10 s interval without work ends), so a request
// reuses a goroutine and its already grown stack instead of starting one.
// When all 128 are busy a request gets a goroutine of its own.
//
// A panic in h is recovered, as net/http does, and logged to cfg.Logger
// (a panic with http.ErrAbortHandler is not logged). If nothing was sent
// yet the answer is a 500, or, when h had already called WriteHeader or
// panicked with http.ErrAbortHandler, the connection is closed without a
// response; a stream already going out is cut (the connection closes
// before the chunked body's last chunk), so the client sees an incomplete
// response, as with net/http.
func HandlerWith(h http.Handler, cfg HandlerConfig) fiber.Handler {
	learn := learnerFor(h, cfg)
	h = httpmcp.SDKHandler(h)
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	keepAlive := cfg.KeepAlive
	if keepAlive == 0 {
		keepAlive = DefaultKeepAlive
	}
	pool := newWorkers(maxParkedWorkers, workerIdle)
	buffered := cfg.Buffered
	return func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		res, _ := c.Locals(resultKey{}).(*core.Result)
		if _, ok := core.PrincipalFromContext(ctx); !ok && res != nil && res.Principal != nil {
			ctx = core.WithPrincipal(ctx, res.Principal)
		}
		ctx, cancel := context.WithCancel(ctx)
		inline := buffered && !c.Request().Header.IsGet()
		var slot *methodSlot // what learn knows of the request's method (nil: nothing)
		if learn != nil && res != nil {
			if slot = learn.slot(res); slot != nil && slot.inline() {
				inline = true
			}
		}
		var body *[]byte // the handler's copy of the request body, pooled
		raw := c.Request().Body()
		if len(raw) > 0 && !inline {
			// A stream outlives fasthttp's buffer; an inline handler
			// returns before it is reused, and serve ends its reads.
			body = getBuf()
			*body = append((*body)[:0], raw...)
			raw = *body
		}
		r, err := httpRequest(ctx, c, raw)
		if err != nil {
			cancel()
			putBuf(body)
			return fiber.ErrBadRequest
		}
		c.Response().ResetBody() // the handler's writes go straight into it
		rbody, _ := r.Body.(*requestBody)
		w := &streamWriter{resp: c.Response(), header: make(http.Header, 4),
			h: h, r: r, log: log, body: body, rbody: rbody}
		if inline {
			w.inline, w.cancel = true, cancel
			if !buffered {
				w.slot, w.shutdown = slot, c.Context().Done()
			}
			w.serve()
			cancel()
			if w.abort {
				closeConn(c)
			}
			return nil // the body is in the response already
		}
		w.ready = make(chan struct{})
		pool.run(w)
		<-w.ready // the handler returned or flushed; until then only it touches the response
		// Without a stream the handler returned: panicked is final.
		if slot != nil && (w.streaming || !w.panicked && slot.answeredWhole(c.Response())) {
			slot.completed(w.streaming)
		}
		if !w.streaming {
			cancel()
			if w.abort {
				closeConn(c)
			}
			return nil // the body is in the response already
		}
		shutdown, chunks := c.Context().Done(), w.chunks
		every := time.Duration(0)
		if keepAlive > 0 && isEventStream(c.Response().Header.ContentType()) {
			every = keepAlive
		}
		stream := fasthttp.NewStreamReader(func(bw *bufio.Writer) {
			w.pump(bw, chunks, shutdown, every, cancel)
		})
		c.Context().SetBodyStream(&streamBody{ReadCloser: stream, w: w}, -1)
		return nil
	}
}

// closeConn has fasthttp close c's connection without sending a response.
func closeConn(c *fiber.Ctx) {
	c.Context().HijackSetNoResponse(true)
	c.Context().Hijack(func(net.Conn) {}) // fasthttp closes the connection
}

// pump is the stream writer: it copies the handler's chunks to the client
// and, when every > 0, writes an SSE comment when the stream was idle for a
// whole interval and what was sent so far ends with a complete event.
func (w *streamWriter) pump(bw *bufio.Writer, chunks <-chan []byte, shutdown <-chan struct{}, every time.Duration, cancel context.CancelFunc) {
	defer cancel()
	defer close(w.gone)
	var tick <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	var (
		tail   []byte // the last bytes sent, up to 3
		active bool   // a chunk was sent since the last tick
	)
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
			if len(p) > 0 {
				tail, active = lastBytes(tail, p), true
			}
		case <-tick:
			if active {
				active = false
				continue
			}
			if !eventBoundary(tail) {
				continue // inside an event: the comment's blank line would end it early
			}
			if _, err := bw.WriteString(keepAliveComment); err != nil {
				return
			}
			if err := bw.Flush(); err != nil {
				return // the client is gone
			}
			tail = append(tail[:0], "\n\n"...)
		case <-shutdown:
			return
		}
	}
}

// errHandlerPanicked ends a stream whose handler panicked: fasthttp stops
// the chunked body without its last chunk and closes the connection, so the
// client sees a cut stream (as with net/http), not a complete one.
var errHandlerPanicked = errors.New("fibermcp: handler panicked")

// streamBody is the body stream of a streamed response: the stream
// writer's output, with its end turned into errHandlerPanicked when the
// handler panicked.
type streamBody struct {
	io.ReadCloser
	w *streamWriter
}

func (b *streamBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && b.w.panickedMidStream() {
		err = errHandlerPanicked
	}
	return n, err
}

// keepAliveComment is the SSE comment pump writes to an idle event stream.
const keepAliveComment = ": \n\n"

// lastBytes returns the last up to 3 bytes of tail followed by p, reusing tail.
func lastBytes(tail, p []byte) []byte {
	if len(p) >= 3 {
		return append(tail[:0], p[len(p)-3:]...)
	}
	tail = append(tail, p...)
	return append(tail[:0], tail[max(0, len(tail)-3):]...)
}

// eventBoundary reports whether a stream whose last bytes are tail is
// between two events: nothing sent yet, or the last line is blank.
func eventBoundary(tail []byte) bool {
	return len(tail) == 0 || bytes.HasSuffix(tail, []byte("\n\n")) ||
		bytes.HasSuffix(tail, []byte("\r\r")) || bytes.HasSuffix(tail, []byte("\n\r\n"))
}

// isEventStream reports whether the content type is text/event-stream.
func isEventStream(ct []byte) bool {
	const es = "text/event-stream"
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return len(bytes.TrimSpace(ct)) == len(es) && strings.EqualFold(string(bytes.TrimSpace(ct)), es)
}

// httpRequest builds the net/http request for c. Every string (request
// URI, host, remote address, header values) is a copy, made with one
// allocation (the Authorization value is interned: copied once while it
// does not change), and the body reads body (empty: none), c's body or the
// caller's copy of it (a streamed response outlives fasthttp's buffers). Header names are canonicalised as net/http does, every
// value is kept, and Host is left out of the header as in net/http.
func httpRequest(ctx context.Context, c *fiber.Ctx, body []byte) (*http.Request, error) {
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
		v = trimOWS(v) // fasthttp keeps tabs around a value, net/http does not (nor does the Guard)
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
	if len(body) > 0 {
		rb := &requestBody{}
		rb.r.Reset(body)
		r.Body, r.ContentLength = rb, int64(len(body))
	}
	return r.WithContext(ctx), nil
}

// interned holds the Authorization values httpRequest copied last (see
// internedValue.intern).
var interned = sync.Pool{New: func() any { return new(internedValue) }}

// requestBody is the body of httpRequest's request: a reader over the
// handler's pooled copy of the body, or over fasthttp's body for an inline
// handler. Once the handler returned, the copy goes back to the pool and
// fasthttp reuses its buffer (release), and a read, which is then invalid
// (http.Handler) but which an http.Transport sending the body upstream or
// a goroutine of the handler may still make, gets errBodyReleased, as
// net/http's own body answers an error, never another request's bytes.
type requestBody struct {
	mu       sync.Mutex
	r        bytes.Reader
	released bool
}

// errBodyReleased is returned by a read of the request body after its
// handler returned.
var errBodyReleased = errors.New("fibermcp: invalid Read on the request body after the handler returned")

func (b *requestBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.released {
		return 0, errBodyReleased
	}
	return b.r.Read(p)
}

func (*requestBody) Close() error { return nil }

// release ends the reads of b (nil: nothing), before its bytes go back to
// the pool.
func (b *requestBody) release() {
	if b != nil {
		b.mu.Lock()
		b.released = true
		b.mu.Unlock()
	}
}

// errGone is returned by writes after the client went away.
var errGone = errors.New("fibermcp: client gone")

// errWriteAfterReturn is returned by a write made after the handler
// returned (by a goroutine that outlived it): the fasthttp response then
// belongs to fasthttp, and to another request once the connection or the
// context is reused.
var errWriteAfterReturn = errors.New("fibermcp: invalid Write on the response after the handler returned")

// errBufferedFlush is returned by the writes of an inline handler after
// it flushed (see HandlerConfig.Buffered).
var errBufferedFlush = errors.New("fibermcp: the handler streamed a response while HandlerConfig.Buffered is set")

// streamWriter is the http.ResponseWriter of Handler: until the first
// Flush it writes into the fasthttp response's own (pooled) body buffer,
// then it hands each write to the stream writer. The status and
// header of the first WriteHeader go straight onto the fasthttp response:
// Handler does not touch the response before ready is closed, and the
// first WriteHeader always precedes that (Flush and finish call it). An
// inline writer (HandlerConfig.Buffered) runs on the fiber handler's
// goroutine, never streams and has no ready channel.
type streamWriter struct {
	h     http.Handler  // what serve runs
	r     *http.Request // its request
	log   *slog.Logger  // where a panic of h goes
	body  *[]byte       // r's body bytes (pooled; nil: none), released when h returns
	rbody *requestBody  // r's body as httpRequest made it (nil: none)
	// inline: serve runs on the fiber handler's goroutine (Buffered, or
	// a learned method); cancel ends r's context when such a handler
	// flushes under Buffered, or at shutdown after a lateFlush.
	inline bool
	cancel context.CancelFunc
	// slot is set on an inline writer of a learned method (not Buffered):
	// its Flush is lateFlush, not refuseFlush. shutdown is fasthttp's.
	slot     *methodSlot
	shutdown <-chan struct{}

	mu        sync.Mutex
	resp      *fasthttp.Response
	header    http.Header
	status    int
	streaming bool
	signalled bool
	abort     bool          // close the connection without a response (set by recovered)
	cut       bool          // the handler panicked while streaming (set by recovered)
	refused   bool          // an inline handler flushed: its writes fail (set by refuseFlush)
	late      bool          // an inline handler of a learned method flushed (set by lateFlush)
	panicked  bool          // the handler panicked (set by recovered)
	returned  bool          // the handler returned: later writes fail (set by finish)
	sending   int           // writes (and the first Flush) sending a chunk; chunks is closed once none is and returned is set
	ready     chan struct{} // closed on the first Flush, or when the handler returned
	chunks    chan []byte   // made by the first Flush; closed when the handler returned
	gone      chan struct{} // made by the first Flush; closed when the stream writer stopped
}

// serve runs the handler on the calling goroutine (a worker of
// [workers]): it recovers a panic and finishes the response.
func (w *streamWriter) serve() {
	defer w.finish()
	defer func() { // h has returned: later reads of its body get an error, even one made once the response is out
		w.rbody.release()
		putBuf(w.body)
	}()
	defer func() {
		if v := recover(); v != nil {
			w.recovered(w.log, w.r, v)
		}
	}()
	w.h.ServeHTTP(w, w.r)
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
		if k == "Trailer" || strings.HasPrefix(k, http.TrailerPrefix) {
			continue // trailers are not forwarded (fasthttp wrote them as header lines)
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
	if w.returned {
		w.mu.Unlock()
		return 0, errWriteAfterReturn
	}
	if !w.streaming {
		defer w.mu.Unlock()
		if w.refused {
			return 0, errBufferedFlush
		}
		w.resp.AppendBody(p)
		return len(p), nil
	}
	chunks, gone := w.chunks, w.gone
	w.sending++
	w.mu.Unlock()
	n, err := len(p), error(nil)
	select {
	case chunks <- bytes.Clone(p):
	case <-gone:
		n, err = 0, errGone
	}
	w.sent(chunks)
	return n, err
}

// Flush starts streaming: the header and what was buffered go out now.
// An inline writer refuses it (refuseFlush) under Buffered, and sends
// the response whole at return for a learned method (lateFlush). Once
// the handler returned it does nothing.
func (w *streamWriter) Flush() {
	if w.inline {
		if w.slot != nil {
			w.lateFlush()
		} else {
			w.refuseFlush()
		}
		return
	}
	w.WriteHeader(http.StatusOK)
	w.mu.Lock()
	if w.streaming || w.returned {
		w.mu.Unlock()
		return
	}
	w.streaming, w.signalled = true, true
	w.chunks, w.gone = make(chan []byte, 16), make(chan struct{})
	first, chunks, gone := bytes.Clone(w.resp.Body()), w.chunks, w.gone
	w.resp.ResetBody()
	w.sending++
	w.mu.Unlock()
	close(w.ready)
	if len(first) > 0 {
		select {
		case chunks <- first:
		case <-gone:
		}
	}
	w.sent(chunks)
}

// sent ends a send on chunks (sending): the last one closes chunks when
// the handler returned meanwhile (finish left it open).
func (w *streamWriter) sent(chunks chan []byte) {
	w.mu.Lock()
	if w.sending--; w.sending == 0 && w.returned {
		close(chunks)
	}
	w.mu.Unlock()
}

// refuseFlush is the Flush of an inline writer, whose response cannot
// stream: the first call logs the misuse and cancels the request context,
// the response becomes a 500, or a closed connection when the handler had
// already called WriteHeader, and every later write fails.
func (w *streamWriter) refuseFlush() {
	w.mu.Lock()
	first := !w.refused && !w.returned
	if first {
		w.refused = true
		if w.status == 0 {
			w.status = http.StatusInternalServerError
			internalError(w.resp)
		} else {
			w.abort = true
		}
	}
	w.mu.Unlock()
	if first {
		w.cancel()
		w.log.Error(errBufferedFlush.Error(), "method", core.TruncateField(w.r.Method, core.MaxLogField), "path", core.TruncateField(w.r.URL.Path, core.MaxLogPath))
	}
}

// internalError makes resp net/http's plain 500.
func internalError(resp *fasthttp.Response) {
	resp.SetStatusCode(http.StatusInternalServerError)
	resp.Header.SetContentType("text/plain; charset=utf-8")
	resp.ResetBody()
	resp.AppendBodyString(http.StatusText(http.StatusInternalServerError) + "\n")
}

// finish runs when the handler returned: it ends the stream, or hands the
// complete response to Handler.
func (w *streamWriter) finish() {
	w.WriteHeader(http.StatusOK)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.returned = true
	if w.inline {
		return // Handler reads the response once serve returned
	}
	if w.streaming {
		if w.sending == 0 { // else the last write still sending closes it
			close(w.chunks)
		}
		return
	}
	w.signalled = true
	close(w.ready)
}

// recovered handles a panic v of the handler (before finish runs): it logs
// it, unless it is http.ErrAbortHandler, and decides what the client gets
// when nothing went out yet: a 500 when the handler had not called
// WriteHeader, else (and for http.ErrAbortHandler) no response and a
// closed connection. A stream already going out is cut: finish ends it,
// and streamBody turns its end into an error.
func (w *streamWriter) recovered(log *slog.Logger, r *http.Request, v any) {
	abortHandler := v == http.ErrAbortHandler
	if !abortHandler {
		msg := fmt.Sprint(v)
		if len(msg) > 1<<10 {
			msg = msg[:1<<10] + "…"
		}
		stack := make([]byte, 64<<10)
		stack = stack[:runtime.Stack(stack, false)]
		log.Error("fibermcp: handler panicked", "panic", msg, "method", core.TruncateField(r.Method, core.MaxLogField),
			"path", core.TruncateField(r.URL.Path, core.MaxLogPath), "stack", string(stack))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.panicked = true
	switch {
	case w.streaming:
		w.cut = true
	case w.status == 0 && !abortHandler:
		w.status = http.StatusInternalServerError
		internalError(w.resp)
	default:
		w.abort = true
	}
}

// panickedMidStream reports whether the handler panicked after the stream
// started.
func (w *streamWriter) panickedMidStream() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cut
}

// maxPooledBuf is the largest request body copy [Handler] returns to
// bodyBufs; a larger one is left to the collector.
const maxPooledBuf = 64 << 10

// bodyBufs holds request body copies of [Handler] for reuse.
var bodyBufs = sync.Pool{New: func() any { return new([]byte) }}

func getBuf() *[]byte { return bodyBufs.Get().(*[]byte) }

// putBuf returns b (nil: nothing) to bodyBufs unless it grew too large.
func putBuf(b *[]byte) {
	if b != nil && cap(*b) <= maxPooledBuf {
		*b = (*b)[:0]
		bodyBufs.Put(b)
	}
}
