package core

import (
	"io"
	"net/http"
	"time"
)

// BoundBodyReads wraps a handler served by an http.Server without
// ReadTimeout (a server that also carries long-lived GET event streams
// cannot set one) so that a request body that never arrives cannot hold
// its connection and goroutine: a request that declares a body gets a
// read deadline of [BodyReadTimeout], lifted once the body has been read
// to its end. A body the handler does not read to its end (a refusal
// before reading it, a health check, a 404) keeps the deadline, so
// net/http's discard of the unread rest, which it does before writing the
// response, is bounded too. On a server with ReadTimeout, or a request
// without a body, it changes nothing.
//
// [Guard.Serve] bounds its own body read; this wrapper covers the other
// handlers on the same server (the authorization server, health and
// metadata routes, a mux's 404) and a Guard refusal written before the
// body is read.
func BoundBodyReads(h http.Handler) http.Handler { return boundBodyReads(h, BodyReadTimeout) }

func boundBodyReads(h http.Handler, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if body := SetBodyDeadline(w, r, timeout); body != nil {
			defer func() { r.Body = body }()
		}
		h.ServeHTTP(w, r)
	})
}

// SetBodyDeadline is [BoundBodyReads] for one request, for a handler that
// cannot be wrapped: it sets the deadline and replaces r.Body with a
// reader that lifts it at the end of the body. It returns the original
// body, which the caller must put back in r.Body before returning (so
// net/http sees its own body type when it decides to discard or close),
// or nil when it changed nothing.
func SetBodyDeadline(w http.ResponseWriter, r *http.Request, timeout time.Duration) io.ReadCloser {
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	if srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server); !ok || srv.ReadTimeout > 0 {
		return nil
	}
	rc := http.NewResponseController(w)
	if rc.SetReadDeadline(time.Now().Add(timeout)) != nil {
		return nil
	}
	body := r.Body
	r.Body = &deadlineBody{ReadCloser: body, rc: rc}
	return body
}

// deadlineBody lifts its connection's read deadline when the body reaches
// its end.
type deadlineBody struct {
	io.ReadCloser
	rc     *http.ResponseController
	lifted bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.lifted {
		b.lifted = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}
