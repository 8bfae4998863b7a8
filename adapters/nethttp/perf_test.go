package httpmcp_test

import (
	"net/http"
	"testing"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// muxes serves h at /mcp of a ServeMux, bare and guarded.
func muxes(g *core.Guard, h http.Handler) (bare, guarded http.Handler) {
	b, gm := http.NewServeMux(), http.NewServeMux()
	b.Handle("/mcp", h)
	gm.Handle("/mcp", httpmcp.Middleware(g)(h))
	return b, gm
}

// BenchmarkHotPath is P3 for net/http, in-process (coretest.BenchHotPath).
func BenchmarkHotPath(b *testing.B) { coretest.BenchHotPath(b, muxes) }

// BenchmarkThroughput is P7 for net/http over loopback
// (coretest.BenchThroughput explains the figures):
//
//	go test -run XXX -bench Throughput -benchtime 800x -count 2 .
func BenchmarkThroughput(b *testing.B) { coretest.BenchThroughput(b, muxes) }
