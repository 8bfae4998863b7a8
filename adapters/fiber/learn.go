package fibermcp

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/valyala/fasthttp"

	"github.com/mcpauthz/mcpauthz/core"
)

// learnAfter is how many times a method's handler must complete on the
// streaming path without flushing before [HandlerWith] runs that method
// inline.
const learnAfter = 8

// flushedBit marks a method whose handler flushed once: it streams from
// then on (sticky).
const flushedBit = 1 << 31

// learnedMethods are the JSON-RPC methods [HandlerWith] learns about: a
// fixed set, so that what a client sends never grows the table. Any other
// method (subscriptions/listen, whose go-sdk response always streams,
// among them) always takes the streaming path.
var learnedMethods = [...]string{
	"tools/call", "tools/list", "resources/read", "resources/list", "resources/templates/list",
	"resources/subscribe", "resources/unsubscribe", "prompts/get", "prompts/list",
	"completion/complete", "initialize", "ping", "logging/setLevel", "server/discover",
	"notifications/initialized", "notifications/cancelled", "notifications/progress",
	"notifications/roots/list_changed",
}

// methodSlot is what a [HandlerWith] handler learned about one method: the
// completions on the streaming path that did not flush (up to learnAfter),
// or flushedBit.
type methodSlot struct {
	state atomic.Uint32
	name  string // the method, one of learnedMethods
}

// inline reports whether the method runs inline: learnAfter completions
// without a flush, and never a flush.
func (s *methodSlot) inline() bool { return s.state.Load() == learnAfter }

// completed records a completion on the streaming path: one that flushed
// makes the method stream for good, one that did not counts towards
// learnAfter. (A count lost to a concurrent completion is only a later
// switch.)
func (s *methodSlot) completed(flushed bool) {
	if flushed {
		s.flushed()
		return
	}
	if v := s.state.Load(); v < learnAfter {
		s.state.CompareAndSwap(v, v+1)
	}
}

// answeredWhole reports whether resp, the complete response of a handler
// that returned without flushing, shows that the handler answers the
// method whole: a 200 that is not an event stream (a notification method
// also a 202). A refusal (an SSE server's 400 to an Accept without
// text/event-stream, or to a tools/call without an id) shows nothing of
// how the method's answers go out, and any client can have a method
// refused at will: were it counted, one client could make the method run
// inline for all, and another principal's streamed answer (its progress
// notifications, or an elicitation that waits for its client's reply)
// would be held until the handler returned.
func (s *methodSlot) answeredWhole(resp *fasthttp.Response) bool {
	switch resp.StatusCode() {
	case http.StatusOK:
	case http.StatusAccepted:
		if !strings.HasPrefix(s.name, "notifications/") {
			return false
		}
	default:
		return false
	}
	return !isEventStream(resp.Header.ContentType())
}

// flushed makes the method stream for good; it reports whether this call
// did (the first flush of the method).
func (s *methodSlot) flushed() bool { return s.state.Or(flushedBit)&flushedBit == 0 }

// learning is the table of one [HandlerWith] handler: a slot per method of
// learnedMethods.
type learning struct {
	slots [len(learnedMethods)]methodSlot
}

func newLearning() *learning {
	l := &learning{}
	for i, m := range learnedMethods {
		l.slots[i].name = m
	}
	return l
}

// slot returns the slot of the request whose Guard Result is res (nil:
// the request did not pass [New]), or nil when it has none: not a POST of
// one message, or a method outside learnedMethods.
func (l *learning) slot(res *core.Result) *methodSlot {
	i := learnedIndex(res.RPCMethod())
	if i < 0 {
		return nil
	}
	return &l.slots[i]
}

// learnedIndex returns the index of method in learnedMethods, -1 if it is
// not one of them.
func learnedIndex(method string) int {
	switch method {
	case "tools/call":
		return 0
	case "tools/list":
		return 1
	case "resources/read":
		return 2
	case "resources/list":
		return 3
	case "resources/templates/list":
		return 4
	case "resources/subscribe":
		return 5
	case "resources/unsubscribe":
		return 6
	case "prompts/get":
		return 7
	case "prompts/list":
		return 8
	case "completion/complete":
		return 9
	case "initialize":
		return 10
	case "ping":
		return 11
	case "logging/setLevel":
		return 12
	case "server/discover":
		return 13
	case "notifications/initialized":
		return 14
	case "notifications/cancelled":
		return 15
	case "notifications/progress":
		return 16
	case "notifications/roots/list_changed":
		return 17
	}
	return -1
}

// lateFlush is the Flush of a handler running inline because its method
// was learned as never flushing (not Buffered): its response cannot
// stream any more, so it stays correct but late. The first call commits
// the status and header, makes the method stream for good (logging one
// Warn for the method: its name and the request's method and path, never
// a header value), and cancels the handler's context at server shutdown;
// the writes go on into the buffered body, which goes out whole when the
// handler returns.
func (w *streamWriter) lateFlush() {
	w.WriteHeader(http.StatusOK)
	w.mu.Lock()
	first := !w.late && !w.returned
	w.late = true
	w.mu.Unlock()
	if !first {
		return
	}
	if w.slot.flushed() {
		w.log.Warn("fibermcp: a handler flushed a response to a method it had answered without flushing; "+
			"this response goes out whole when the handler returns, and the method streams from now on",
			"rpc_method", w.slot.name, "method", core.TruncateField(w.r.Method, core.MaxLogField), "path", core.TruncateField(w.r.URL.Path, core.MaxLogPath))
	}
	go cancelAtShutdown(w.r.Context(), w.shutdown, w.cancel)
}

// cancelAtShutdown calls cancel when shutdown is closed before ctx ends.
func cancelAtShutdown(ctx context.Context, shutdown <-chan struct{}, cancel context.CancelFunc) {
	select {
	case <-shutdown:
		cancel()
	case <-ctx.Done():
	}
}
