package ginmcp_test

import (
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"

	ginmcp "github.com/mcpauthz/mcpauthz/adapters/gin"
	"github.com/mcpauthz/mcpauthz/coretest"
)

func engines(e *coretest.BenchEnv, h http.Handler) (bare, guarded http.Handler) {
	be, ge := gin.New(), gin.New()
	be.POST("/mcp", gin.WrapH(h))
	ge.POST("/mcp", ginmcp.Middleware(e.Guard), gin.WrapH(h))
	return be, ge
}

// BenchmarkHotPath is P3 for gin, in-process (coretest.HotPath).
func BenchmarkHotPath(b *testing.B) {
	e := coretest.NewBenchEnv(b)
	bare, guarded := engines(e, http.HandlerFunc(coretest.Terminal))
	coretest.HotPath(b, e, e.ServeInProcess(b, bare), e.ServeInProcess(b, guarded))
}

// BenchmarkThroughput is P7 for gin over loopback, with the trivial handler
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
			bare, guarded := engines(e, inner.h)
			coretest.ThroughputHTTP(b, e, bare, guarded)
		})
	}
}
