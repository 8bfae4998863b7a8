package core

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
)

// maxFilteredBody caps a buffered JSON list response; a larger one is
// replaced by an error (fail closed).
const maxFilteredBody = 32 << 20

// contentKind classifies a response Content-Type for filtering.
type contentKind int

const (
	contentOther contentKind = iota
	contentJSON
	contentSSE
	contentBlocked // a 2xx list response in an unknown media type: held back
)

func classify(contentType string) contentKind {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	}
	switch mt {
	case "application/json":
		return contentJSON
	case "text/event-stream":
		return contentSSE
	}
	return contentOther
}

// allowItem is the per-item visibility function handed to the filters;
// kind is "tool", "resource" or "prompt".
func (res *Result) allowItem(kind, name string) bool {
	if res.visible == nil {
		return false
	}
	return res.visible(ObjectKind(kind), name)
}

// filterFailureBody is sent (status 500) when a list response cannot be
// filtered: the items are never passed through unfiltered.
var filterFailureBody = rpcErrorBody(nil, codeInternalError, "response could not be filtered", nil)

// FilterBody filters a complete list response (framework-neutral, for
// adapters that buffer, such as fiber). contentType is the response's
// Content-Type: application/json bodies are filtered as one JSON-RPC
// response, text/event-stream bodies event by event, anything else (and
// every body when NeedsFilter is false) is returned unchanged. On error the
// returned bytes are a JSON-RPC error body to send with status 500 instead.
func (res *Result) FilterBody(contentType string, body []byte) ([]byte, error) {
	return res.FilterResponse(http.StatusOK, contentType, body)
}

// errUnfilterable: a successful list response in a media type the filters
// do not understand is never passed through (fail closed).
var errUnfilterable = errors.New("core: list response has a media type that cannot be filtered")

// FilterResponse is FilterBody for a response with the given status. A
// non-2xx response carries no list and passes through unchanged. A 2xx
// response that is neither application/json nor text/event-stream but has a
// body is refused: the returned bytes are the JSON-RPC error body to send
// with status 500, never the unfiltered items.
func (res *Result) FilterResponse(status int, contentType string, body []byte) ([]byte, error) {
	if !res.NeedsFilter() || status < 200 || status > 299 {
		return body, nil
	}
	switch classify(contentType) {
	case contentJSON:
		out, err := res.filterJSON(body)
		if err != nil {
			if len(out) == 0 {
				out = append([]byte(nil), filterFailureBody...)
			}
			return out, err
		}
		return out, nil
	case contentSSE:
		var buf bytes.Buffer
		f := res.newSSEFilter(&buf)
		if _, err := f.Write(body); err != nil {
			return append([]byte(nil), filterFailureBody...), err
		}
		if err := f.Close(); err != nil {
			return append([]byte(nil), filterFailureBody...), err
		}
		return buf.Bytes(), nil
	}
	if len(body) == 0 {
		return body, nil
	}
	return append([]byte(nil), filterFailureBody...), errUnfilterable
}

// NewStreamFilter returns a writer that filters a list response written to
// it into w. text/event-stream is filtered event by event as it streams;
// application/json is buffered and filtered on Close; anything else (and
// everything when NeedsFilter is false) passes through. Close must be called
// after the last Write; it does not close w.
func (res *Result) NewStreamFilter(contentType string, w io.Writer) io.WriteCloser {
	if !res.NeedsFilter() {
		return nopCloser{w}
	}
	switch classify(contentType) {
	case contentSSE:
		return res.newSSEFilter(w)
	case contentJSON:
		return &jsonFilter{res: res, w: w}
	}
	return nopCloser{w}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// jsonFilter buffers a JSON response and writes it filtered on Close.
type jsonFilter struct {
	res      *Result
	w        io.Writer
	buf      bytes.Buffer
	tooLarge bool
}

func (j *jsonFilter) Write(p []byte) (int, error) {
	if j.buf.Len()+len(p) > maxFilteredBody {
		j.tooLarge = true
		return len(p), nil
	}
	return j.buf.Write(p)
}

func (j *jsonFilter) Close() error {
	if j.tooLarge {
		_, _ = j.w.Write(filterFailureBody)
		return errors.New("core: list response too large to filter")
	}
	out, err := j.res.FilterBody("application/json", j.buf.Bytes())
	if _, werr := j.w.Write(out); err == nil {
		err = werr
	}
	return err
}

// ResponseFilter is the http.ResponseWriter returned by
// [Result.WrapResponseWriter]. It decides on the first WriteHeader (or
// Write) from the response Content-Type: application/json is buffered and
// filtered when Close is called; text/event-stream is filtered event by
// event and flushed as it streams; any other response passes through
// untouched and unbuffered. Close must be called once the handler returns.
type ResponseFilter struct {
	w      http.ResponseWriter
	res    *Result
	mode   contentKind
	active bool // filtering decided and in effect
	header bool // WriteHeader seen (final status)
	status int
	buf    *jsonFilter
	sse    io.WriteCloser
	closed bool
	// blockedBytes counts the body bytes held back in contentBlocked mode.
	blockedBytes int
}

// WrapResponseWriter wraps w so that a list response is filtered for the
// principal. When NeedsFilter is false every call passes straight through.
// The adapter must call Close on the result after the MCP handler returns.
func (res *Result) WrapResponseWriter(w http.ResponseWriter) *ResponseFilter {
	return &ResponseFilter{w: w, res: res}
}

// Header returns the underlying header map.
func (f *ResponseFilter) Header() http.Header { return f.w.Header() }

// WriteHeader decides the filtering mode for a final (≥200) status.
func (f *ResponseFilter) WriteHeader(code int) {
	if f.header {
		return
	}
	if code < 200 || !f.res.NeedsFilter() {
		if code >= 200 {
			f.header = true
		}
		f.w.WriteHeader(code)
		return
	}
	f.header = true
	f.status = code
	f.mode = classify(f.w.Header().Get("Content-Type"))
	if encoded(f.w.Header()) {
		f.mode = contentOther // the filters read identity bytes only
	}
	switch f.mode {
	case contentJSON:
		f.active = true
		f.buf = &jsonFilter{res: f.res}
	case contentSSE:
		f.active = true
		f.w.Header().Del("Content-Length")
		f.w.WriteHeader(code)
		f.sse = f.res.NewStreamFilter("text/event-stream", f.w)
	default:
		if code > 299 {
			f.w.WriteHeader(code) // error responses carry no list
			return
		}
		// A successful list response the filters cannot read: hold it
		// back and answer 500 on Close if it has a body (fail closed).
		f.active = true
		f.mode = contentBlocked
	}
}

// Write buffers, filters or passes p through according to the mode.
func (f *ResponseFilter) Write(p []byte) (int, error) {
	if !f.header {
		if f.w.Header().Get("Content-Type") == "" {
			f.w.Header().Set("Content-Type", http.DetectContentType(p))
		}
		f.WriteHeader(http.StatusOK)
	}
	if f.active {
		switch f.mode {
		case contentJSON:
			return f.buf.Write(p)
		case contentSSE:
			return f.sse.Write(p)
		case contentBlocked:
			f.blockedBytes += len(p)
			return len(p), nil
		}
	}
	return f.w.Write(p)
}

// Flush flushes streamed output; it is a no-op while a JSON body is being
// buffered.
func (f *ResponseFilter) Flush() {
	if f.active && (f.mode == contentJSON || f.mode == contentBlocked) {
		return
	}
	if fl, ok := f.sse.(interface{ Flush() error }); ok {
		_ = fl.Flush()
		return
	}
	_ = http.NewResponseController(f.w).Flush()
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (f *ResponseFilter) Unwrap() http.ResponseWriter { return f.w }

// Close completes a filtered response: it writes the filtered JSON body
// (status 500 with a JSON-RPC error if it cannot be filtered) or finishes the
// event stream. It is idempotent and does not close the connection.
func (f *ResponseFilter) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	if !f.active {
		return nil
	}
	switch f.mode {
	case contentBlocked:
		if f.blockedBytes > 0 {
			return f.fail(errUnfilterable)
		}
		f.w.WriteHeader(f.status)
		return nil
	case contentSSE:
		return f.sse.Close()
	case contentJSON:
		if f.buf.tooLarge {
			return f.fail(errors.New("core: list response too large to filter"))
		}
		out, err := f.res.FilterBody("application/json", f.buf.buf.Bytes())
		if err != nil {
			return f.fail(err)
		}
		f.w.Header().Del("Content-Length")
		f.w.WriteHeader(f.status)
		_, err = f.w.Write(out)
		return err
	}
	return nil
}

func (f *ResponseFilter) fail(err error) error {
	h := f.w.Header()
	h.Del("Content-Length")
	h.Del("Content-Encoding")
	h.Set("Content-Type", "application/json")
	f.w.WriteHeader(http.StatusInternalServerError)
	_, _ = f.w.Write(filterFailureBody)
	return err
}

// encoded reports a response body in a content coding other than identity,
// which the filters cannot read.
func encoded(h http.Header) bool {
	for _, ce := range h.Values("Content-Encoding") {
		if !strings.EqualFold(strings.TrimSpace(ce), "identity") {
			return true
		}
	}
	return false
}
