package ginmcp

import (
	"cmp"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/mcpauthz/mcpauthz/core"
)

// Middleware returns a gin middleware that authorizes every request with g
// (core's one adapter body, [core.Guard.Serve]).
//
// On refusal it writes Guard.Render's response (each of its headers
// replacing any earlier value, as every adapter does) and calls c.Abort, so
// no later handler runs. On success the next handlers see the identical
// body bytes in c.Request.Body and the principal in c.Request.Context()
// ([PrincipalFrom], core.PrincipalFromContext), together with the go-sdk
// auth.TokenInfo. The principal is not put in c.Keys: gin starts every
// request with a nil Keys map, so c.Set would cost two allocations per
// request (a map) for a second copy of what the context already carries.
// An application that wants it there adds one line after the middleware:
//
//	func(c *gin.Context) { p, _ := ginmcp.PrincipalFrom(c); c.Set("principal", p) }
//
// The token is verified before the body is read; a body larger than
// g.MaxBodyBytes() is never read completely (413).
func Middleware(g *core.Guard) gin.HandlerFunc {
	return func(c *gin.Context) {
		orig, called := c.Writer, false
		g.Serve(orig, c.Request, func(w http.ResponseWriter, r *http.Request) {
			called = true
			c.Request = r
			if w != http.ResponseWriter(orig) {
				c.Writer = &writer{ResponseWriter: orig, w: w}
				defer func() { c.Writer = orig }()
			}
			c.Next()
		})
		if !called {
			c.Abort()
		}
	}
}

// PrincipalFrom returns the principal [Middleware] put in the context of
// c.Request (core.PrincipalFromContext(c.Request.Context())). A handler
// that replaces c.Request keeps it as long as the new request's context
// derives from the old one (r.WithContext of a context made from
// c.Request.Context()).
func PrincipalFrom(c *gin.Context) (*core.Principal, bool) {
	if c == nil || c.Request == nil {
		return nil, false
	}
	return core.PrincipalFromContext(c.Request.Context())
}

// RegisterMetadata registers g.MetadataHandler() for GET, HEAD and OPTIONS
// at every path of g.MetadataPaths() on the engine itself, i.e. at the
// origin root, whatever group the MCP handler is mounted under: the path
// comes from the configured resource URL, not from any router prefix. It
// panics, like gin's own registration, if a route conflicts.
func RegisterMetadata(e *gin.Engine, g *core.Guard) {
	h := gin.WrapH(g.MetadataHandler())
	for _, p := range g.MetadataPaths() {
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodOptions} {
			e.Handle(m, p, h)
		}
	}
}

// writer routes the body-writing methods of gin.ResponseWriter through the
// writer core handed to the chain (list filter or session binder); Size,
// Hijack and the rest stay with gin's writer.
type writer struct {
	gin.ResponseWriter
	w      http.ResponseWriter
	status int
}

func (w *writer) WriteHeader(code int) {
	if w.status == 0 || code >= 200 {
		w.status = code
	}
	w.w.WriteHeader(code)
}

func (w *writer) Header() http.Header               { return w.w.Header() }
func (w *writer) WriteHeaderNow()                   { w.WriteHeader(w.Status()) }
func (w *writer) Write(p []byte) (int, error)       { return w.w.Write(p) }
func (w *writer) WriteString(s string) (int, error) { return w.w.Write([]byte(s)) }
func (w *writer) Flush()                            { _ = http.NewResponseController(w.w).Flush() }
func (w *writer) Status() int                       { return cmp.Or(w.status, w.ResponseWriter.Status()) }

// Unwrap lets http.ResponseController reach core's writer.
func (w *writer) Unwrap() http.ResponseWriter { return w.w }
