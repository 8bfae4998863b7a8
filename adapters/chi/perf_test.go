package chimcp_test

import (
	"net/http"
	"testing"

	"github.com/go-chi/chi/v5"

	chimcp "github.com/mcpauthz/mcpauthz/adapters/chi"
	"github.com/mcpauthz/mcpauthz/coretest"
)

func routers(e *coretest.BenchEnv, h http.Handler) (bare, guarded http.Handler) {
	br, gr := chi.NewRouter(), chi.NewRouter()
	br.Post("/mcp", h.ServeHTTP)
	gr.With(chimcp.Middleware(e.Guard)).Post("/mcp", h.ServeHTTP)
	return br, gr
}

// BenchmarkHotPath is P3 for chi, in-process (coretest.HotPath).
func BenchmarkHotPath(b *testing.B) {
	e := coretest.NewBenchEnv(b)
	bare, guarded := routers(e, http.HandlerFunc(coretest.Terminal))
	coretest.HotPath(b, e, e.ServeInProcess(b, bare), e.ServeInProcess(b, guarded))
}

// BenchmarkThroughput is P7 for chi over loopback, with the trivial handler
// and with a go-sdk server (coretest.ThroughputHTTP).
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
			bare, guarded := routers(e, inner.h)
			coretest.ThroughputHTTP(b, e, bare, guarded)
		})
	}
}
