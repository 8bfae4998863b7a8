package httpmcp_test

import (
	"net/http"
	"runtime"
	"testing"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// TestMiddlewareFrames pins the stack Middleware puts under the MCP
// handler on an allowed request: its handler, the Guard's body and the
// SDK hand-off, three frames. Each frame there is unwound again whenever
// the collector scans the goroutine or the heap profiler samples an
// allocation, about once per request behind the go-sdk server (callgrind,
// coretest.BenchmarkSDKLoopback); closures and a method value made it six.
// runtime.Callers counts logical frames: the inlined Guard.ServeHandler
// is one more, and the method value's wrapper was one fewer (5 before).
func TestMiddlewareFrames(t *testing.T) {
	e := coretest.NewBenchEnv(t)
	depth := 0
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		depth = runtime.Callers(0, make([]uintptr, 128))
		coretest.Terminal(w, r)
	})
	e.ServeInProcess(t, inner)()
	bare := depth
	depth = 0
	e.ServeInProcess(t, httpmcp.Middleware(e.Guard)(inner))()
	if depth == 0 {
		t.Fatal("the guarded handler was not called")
	}
	if extra := depth - bare; extra > 4 {
		t.Errorf("Middleware puts %d logical frames under the handler, want at most 4", extra)
	}
}
