package core

import (
	"io"
	"log/slog"
	"net/http"
	"time"
)

// BodyReadConfig configures [BoundBodyReads].
type BodyReadConfig struct {
	// Timeout bounds the reading of each request body, from the moment the
	// handler is called. OPTIONAL; default (zero or negative)
	// [BodyReadTimeout].
	Timeout time.Duration
	// Logger receives one Warn per handler BoundBodyReads returns, the
	// first time a request's read deadline cannot be set (see
	// BoundBodyReads): the writer's type, the error and the fix, never a
	// header value. OPTIONAL; default: nothing is logged.
	Logger *slog.Logger
}

// BoundBodyReads wraps a handler served by an http.Server without
// ReadTimeout (a server that also carries long-lived GET event streams
// cannot set one) so that a request body that never arrives cannot hold
// its connection and goroutine: a request that declares a body gets a
// read deadline of cfg.Timeout, lifted once the body has been read to its
// end. A body the handler does not read to its end (a refusal before
// reading it, a health check, a 404) keeps the deadline, so net/http's
// discard of the unread rest, which it does before writing the response,
// is bounded too. On a server with ReadTimeout, or a request without a
// body, it changes nothing. Inside another BoundBodyReads (the
// authorization server bounds its own routes) the earlier of the two
// deadlines applies. Wrap the server's whole handler: the deadline
// is set through [http.ResponseController], which reaches the connection
// only through writers that net/http made or that have an Unwrap method.
//
// When the deadline cannot be set (a middleware outside BoundBodyReads
// wraps the ResponseWriter without Unwrap: ErrNotSupported), the request
// fails closed as [Guard.Serve]'s own body read does: a read of the body
// past the timeout returns an error wrapping [os.ErrDeadlineExceeded] as
// soon as a byte or the end arrives. Nothing can interrupt a read that
// waits, though (the request holds no other way to its connection): a
// body that never comes still holds its connection, whether the handler
// reads it or net/http discards it, and cfg.Logger gets one Warn naming
// the fix: give the wrapper an Unwrap method, put it inside
// BoundBodyReads, or set http.Server.ReadTimeout.
//
// [Guard.Serve] bounds its own body read; this wrapper covers the other
// handlers on the same server (the authorization server, health and
// metadata routes, a mux's 404) and a Guard refusal written before the
// body is read.
func BoundBodyReads(h http.Handler, cfg BodyReadConfig) http.Handler {
	return boundBodyReads(h, cfg, bodyWatchTick)
}

// boundBodyReads is BoundBodyReads with the tick of the watch that bounds
// reads whose deadline cannot be set (shortened by tests).
func boundBodyReads(h http.Handler, cfg BodyReadConfig, tick time.Duration) http.Handler {
	if cfg.Timeout <= 0 {
		cfg.Timeout = BodyReadTimeout
	}
	bw := &bodyWatch{timeout: cfg.Timeout, tick: tick, log: cfg.Logger, owner: "core.BoundBodyReads"}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if body := bw.bound(w, r); body != nil {
			defer body.restore(r)
		}
		h.ServeHTTP(w, r)
	})
}

// bound sets the read deadline of r's body, bw.timeout from now, and
// replaces r.Body with a reader that lifts it at the end of the body;
// when the deadline cannot be set, the read is registered in bw instead
// (it fails once expired). Inside another BoundBodyReads whose deadline is
// earlier it changes nothing: the earlier deadline bounds the body. It returns the reader, whose restore the caller
// must call before returning (so net/http sees its own body type when it
// decides to discard or close), or nil when it changed nothing.
func (bw *bodyWatch) bound(w http.ResponseWriter, r *http.Request) *deadlineBody {
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	if !noReadTimeout(r) {
		return nil
	}
	deadline := time.Now().Add(bw.timeout)
	if outer, ok := r.Body.(*deadlineBody); ok && outer.rc != nil && !outer.lifted && !outer.deadline.After(deadline) {
		return nil // a BoundBodyReads outside this one set an earlier deadline: it bounds the body
	}
	b := &deadlineBody{ReadCloser: r.Body, deadline: deadline}
	rc := http.NewResponseController(w)
	if err := rc.SetReadDeadline(deadline); err == nil {
		b.rc = rc
	} else {
		bw.warnOpaque(w, err)
		b.watch = bw
		bw.add(&b.entry, w)
	}
	r.Body = b
	return b
}

// deadlineBody is a request body [BoundBodyReads] bounds: with the
// connection's read deadline (rc), lifted at the body's end; or, when the
// deadline cannot be set, as a read registered in watch, which fails
// once expired ([watchedRead.read]).
type deadlineBody struct {
	io.ReadCloser // the request's own body
	rc            *http.ResponseController
	deadline      time.Time // the read deadline set through rc
	lifted        bool

	watch *bodyWatch  // nil when the deadline is set
	entry watchedRead // the read's registration in watch
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	if b.watch != nil {
		return b.entry.read(b.ReadCloser, p)
	}
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.lifted {
		b.lifted = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// restore puts the request's own body back in r.Body and unregisters the
// read from its watch.
func (b *deadlineBody) restore(r *http.Request) {
	r.Body = b.ReadCloser
	if b.watch != nil {
		b.watch.remove(&b.entry)
	}
}
