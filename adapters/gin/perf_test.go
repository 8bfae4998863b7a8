package ginmcp_test

import (
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"

	ginmcp "github.com/mcpauthz/mcpauthz/adapters/gin"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

func engines(g *core.Guard, h http.Handler) (bare, guarded http.Handler) {
	be, ge := gin.New(), gin.New()
	be.POST("/mcp", gin.WrapH(h))
	ge.POST("/mcp", ginmcp.Middleware(g), gin.WrapH(h))
	return be, ge
}

// BenchmarkHotPath is P3 for gin, in-process (coretest.BenchHotPath).
func BenchmarkHotPath(b *testing.B) { coretest.BenchHotPath(b, engines) }

// BenchmarkThroughput is P7 for gin over loopback
// (coretest.BenchThroughput explains the figures):
//
//	go test -run XXX -bench Throughput -benchtime 800x -count 2 .
func BenchmarkThroughput(b *testing.B) { coretest.BenchThroughput(b, engines) }
