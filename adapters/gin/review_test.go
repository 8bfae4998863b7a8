package ginmcp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	ginmcp "github.com/mcpauthz/mcpauthz/adapters/gin"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

type reviewKey struct{}

// TestPrincipalAfterRequestReplaced: the principal lives only in the
// request context, so it must survive what gin handlers commonly do to
// c.Request (derive a context, clone the request, copy the gin context for
// a goroutine) and disappear only when the handler drops the context.
func TestPrincipalAfterRequestReplaced(t *testing.T) {
	t.Parallel()
	g, idp := coretest.NewSuiteGuard(t, resource, nil)
	for _, tc := range []struct {
		name     string
		fallback bool
		replace  func(c *gin.Context)
		read     func(c *gin.Context) (*core.Principal, bool)
		want     bool
	}{
		{"unchanged", false, func(*gin.Context) {}, ginmcp.PrincipalFrom, true},
		{"WithContext of a derived context", false, func(c *gin.Context) {
			c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), reviewKey{}, 1))
		}, ginmcp.PrincipalFrom, true},
		{"Clone with a cancelable context", false, func(c *gin.Context) {
			ctx, cancel := context.WithCancel(c.Request.Context())
			c.Request = c.Request.Clone(ctx)
			c.Set("cancel", cancel)
		}, ginmcp.PrincipalFrom, true},
		{"gin Copy for a goroutine", false, func(*gin.Context) {}, func(c *gin.Context) (*core.Principal, bool) {
			out := make(chan *core.Principal, 1)
			cp := c.Copy()
			go func() { p, _ := ginmcp.PrincipalFrom(cp); out <- p }()
			p := <-out
			return p, p != nil
		}, true},
		{"gin context as context.Context, ContextWithFallback", true, func(*gin.Context) {}, func(c *gin.Context) (*core.Principal, bool) {
			return core.PrincipalFromContext(c)
		}, true},
		{"fresh context drops it", false, func(c *gin.Context) {
			c.Request = c.Request.WithContext(context.Background())
		}, ginmcp.PrincipalFrom, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := gin.New()
			r.ContextWithFallback = tc.fallback
			got := make(chan string, 1)
			r.POST("/mcp", ginmcp.Middleware(g), func(c *gin.Context) { tc.replace(c); c.Next() }, func(c *gin.Context) {
				p, ok := tc.read(c)
				if ok {
					got <- p.Subject
				} else {
					got <- ""
				}
				c.Status(http.StatusNoContent)
			})
			req := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(coretest.RPC("tools/call", `{"name":"ls","arguments":{}}`)))
			req.Header.Set("Authorization", "Bearer "+idp.Token(resource, "alice"))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			if w.Code != http.StatusNoContent {
				t.Fatalf("status %d %s", w.Code, w.Body)
			}
			want := ""
			if tc.want {
				want = "alice"
			}
			if s := <-got; s != want {
				t.Errorf("principal %q, want %q", s, want)
			}
		})
	}
}
