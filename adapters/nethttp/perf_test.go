package httpmcp_test

import (
	"net/http"
	"testing"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// BenchmarkHotPath is P3 for net/http: a ServeMux with the trivial handler,
// bare and guarded, in-process (coretest.HotPath).
func BenchmarkHotPath(b *testing.B) {
	e := coretest.NewBenchEnv(b)
	bare, guarded := http.NewServeMux(), http.NewServeMux()
	bare.HandleFunc("/mcp", coretest.Terminal)
	guarded.Handle("/mcp", httpmcp.Middleware(e.Guard)(http.HandlerFunc(coretest.Terminal)))
	coretest.HotPath(b, e, e.ServeInProcess(b, bare), e.ServeInProcess(b, guarded))
}

// BenchmarkThroughput is P7 for net/http over loopback, with the trivial
// handler and with a go-sdk server (coretest.ThroughputHTTP).
// It reports the median over quads of guarded ÷ bare requests per second
// (guarded/bare-median), its distribution-free 95 % interval (-lo95,
// -hi95), the range (-min, -max) and the same for the CPU spent per
// request (cpu-equiv-*). Each quad is four 100 ms slices in ABBA order,
// after two discarded warm-up quads; both sides use the same client, 4
// connections, request, token and GOGC. coretest.Throughput explains the
// statistics. Run it with a fixed number of quads:
//
//	go test -run XXX -bench Throughput -benchtime 40x -count 3 .
func BenchmarkThroughput(b *testing.B) {
	e := coretest.NewBenchEnv(b)
	for _, inner := range []struct {
		name string
		h    http.Handler
	}{{"trivial", http.HandlerFunc(coretest.Terminal)}, {"sdk", coretest.BenchSDKHandler()}} {
		b.Run(inner.name, func(b *testing.B) {
			bare, guarded := http.NewServeMux(), http.NewServeMux()
			bare.Handle("/mcp", inner.h)
			guarded.Handle("/mcp", httpmcp.Middleware(e.Guard)(inner.h))
			coretest.ThroughputHTTP(b, e, bare, guarded)
		})
	}
}
