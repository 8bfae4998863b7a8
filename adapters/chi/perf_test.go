package chimcp_test

import (
	"net/http"
	"testing"

	"github.com/go-chi/chi/v5"

	chimcp "github.com/mcpauthz/mcpauthz/adapters/chi"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

func routers(g *core.Guard, h http.Handler) (bare, guarded http.Handler) {
	br, gr := chi.NewRouter(), chi.NewRouter()
	br.Post("/mcp", h.ServeHTTP)
	gr.With(chimcp.Middleware(g)).Post("/mcp", h.ServeHTTP)
	return br, gr
}

// BenchmarkHotPath is P3 for chi, in-process (coretest.BenchHotPath).
func BenchmarkHotPath(b *testing.B) { coretest.BenchHotPath(b, routers) }

// BenchmarkThroughput is P7 for chi over loopback
// (coretest.BenchThroughput explains the figures):
//
//	go test -run XXX -bench Throughput -benchtime 800x -count 2 .
func BenchmarkThroughput(b *testing.B) { coretest.BenchThroughput(b, routers) }
