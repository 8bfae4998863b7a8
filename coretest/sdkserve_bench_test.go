package coretest

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// BenchmarkSDKServe serves the benchmark tools/call in-process, bare and
// behind Guard.Serve, to Terminal ("trivial") and to a go-sdk streamable
// handler, stateless (as P7's "sdk" side) and stateful (in a session bound
// through the Guard), one request per iteration. It is meant for instruction counts of the Guard's
// cost in front of the SDK, with callgrind counting every thread between
// the loop's markers (the difference between the guarded and the bare
// sub-benchmark is the Guard, collector included):
//
//	go test -c -o x.test . && GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind \
//	  --zero-before='*coretest.sdkLoopStart' --dump-before='*coretest.sdkLoopEnd' \
//	  ./x.test -test.run '^$' -test.bench 'SDKServe/stateless/guarded$' -test.benchtime 2000x
//
// The loop's count is the "totals:" line of the last dump (its "summary:"
// line also counts what ran before the zeroing), divided by the
// iterations. With GOMAXPROCS above 1 an idle P spins under valgrind's
// serialised threads and is counted too.
func BenchmarkSDKServe(b *testing.B) {
	e := NewBenchEnv(b)
	for _, inner := range []string{"trivial", "stateless", "stateful"} {
		for _, guarded := range []bool{false, true} {
			side := "bare"
			if guarded {
				side = "guarded"
			}
			b.Run(inner+"/"+side, func(b *testing.B) {
				var h http.Handler = http.HandlerFunc(Terminal)
				if inner != "trivial" {
					h = benchSDKServer(inner == "stateless")
				}
				if guarded {
					h = e.guardHandler(h)
				}
				f := e.sdkRequest(b, h, inner != "stateful")
				b.ReportAllocs()
				serveSDKLoop(b, f)
			})
		}
	}
}

// BenchmarkSDKLoopback is BenchmarkSDKServe over one kept-alive loopback
// connection (LoopbackClient; client and server in this process), so
// that the server's connection goroutine, its stack and the body read
// from the wire are counted too. The stateless go-sdk side is repeated
// bare-guarded-guarded-bare, as the in-process heap and collector change
// a little from one sub-benchmark to the next; count it as
// BenchmarkSDKServe says, with GOMAXPROCS=1 (another P spinning under
// valgrind's serialised threads would be counted too).
func BenchmarkSDKLoopback(b *testing.B) {
	e := NewBenchEnv(b)
	for _, c := range []struct {
		inner   string
		guarded bool
	}{{"trivial", false}, {"trivial", true}, {"stateless", false}, {"stateless", true}, {"stateless", true}, {"stateless", false}} {
		side := "bare"
		if c.guarded {
			side = "guarded"
		}
		b.Run(c.inner+"/"+side, func(b *testing.B) {
			var h http.Handler = http.HandlerFunc(Terminal)
			if c.inner != "trivial" {
				h = benchSDKServer(true)
			}
			if c.guarded {
				h = e.guardHandler(h)
			}
			mux := http.NewServeMux()
			mux.Handle("/mcp", h)
			t := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
			b.Cleanup(t.CloseIdleConnections)
			f := LoopbackClient(b, &http.Client{Transport: t}, serveLoopback(b, mux)+"/mcp", e.Token)
			f()
			b.ReportAllocs()
			serveSDKLoop(b, f)
		})
	}
}

// serveSDKLoop is the measured loop of BenchmarkSDKServe, between two
// markers for callgrind's --zero-before and --dump-before (the SDK serves
// a request on goroutines of its own, which --toggle-collect misses or
// counts by chance).
func serveSDKLoop(b *testing.B, f func()) {
	sdkLoopStart()
	for b.Loop() {
		f()
	}
	sdkLoopEnd()
}

//go:noinline
func sdkLoopStart() {}

//go:noinline
func sdkLoopEnd() {}

// benchSDKServer is BenchSDKHandler, stateless or stateful (JSON
// responses, a session timeout).
func benchSDKServer(stateless bool) http.Handler {
	if stateless {
		return BenchSDKHandler()
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "bench", Version: "1.0.0"}, nil)
	s.AddTool(&mcp.Tool{Name: "t8", InputSchema: map[string]any{"type": "object"}},
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "ok"}}}, nil
		})
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
		&mcp.StreamableHTTPOptions{JSONResponse: true, SessionTimeout: time.Hour})
}

// guardHandler is h behind e's Guard, as the net/http adapter mounts it.
func (e *BenchEnv) guardHandler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { e.Guard.ServeHandler(w, r, h) })
}

// sdkRequest returns a function that serves the benchmark request to h
// in-process with a cancellable context (as a server's), the headers of
// LoopbackClient and, when !stateless, the Mcp-Session-Id of a session
// initialized through h first. It fails b unless h answers 200.
func (e *BenchEnv) sdkRequest(b *testing.B, h http.Handler, stateless bool) func() {
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	hdr := e.Header()
	hdr.Set("Mcp-Protocol-Version", "2025-11-25")
	if !stateless {
		post := func(body string, sid string) *httptest.ResponseRecorder {
			r := httptest.NewRequestWithContext(ctx, http.MethodPost, BenchResource, bytes.NewReader([]byte(body)))
			r.Header = hdr.Clone()
			if sid != "" {
				r.Header.Set("Mcp-Session-Id", sid)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK && w.Code != http.StatusAccepted {
				b.Fatalf("%s: status %d: %s", body, w.Code, w.Body)
			}
			return w
		}
		w := post(RPC("initialize", `{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"b","version":"1"}}`), "")
		sid := w.Header().Get("Mcp-Session-Id")
		if sid == "" {
			b.Fatal("initialize: no Mcp-Session-Id")
		}
		post(`{"jsonrpc":"2.0","method":"notifications/initialized"}`, sid)
		hdr.Set("Mcp-Session-Id", sid)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, BenchResource, nil)
	req.Header = hdr
	req.ContentLength = int64(len(benchBody))
	body := &reusableBody{}
	w := &discardWriter{h: http.Header{}}
	f := func() {
		body.Reset(benchBody)
		req.Body = body
		clear(w.h)
		w.code = 0
		h.ServeHTTP(w, req)
		if w.code != 0 && w.code != http.StatusOK {
			b.Fatalf("status %d", w.code)
		}
	}
	f()
	return f
}
