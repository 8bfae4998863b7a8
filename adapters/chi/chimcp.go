package chimcp

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/core"
)

// Middleware returns the chi middleware that authorizes every request with
// g; it is httpmcp.Middleware. On refusal it writes Guard.Render's response
// and does not call next; on success next sees the principal in the
// request context ([PrincipalFrom]) and the identical body bytes.
func Middleware(g *core.Guard) func(http.Handler) http.Handler {
	return httpmcp.Middleware(g)
}

// PrincipalFrom returns the principal the middleware stored in r's context.
func PrincipalFrom(r *http.Request) (*core.Principal, bool) {
	return core.PrincipalFromContext(r.Context())
}

// RegisterMetadata registers g.MetadataHandler() (all methods; it answers
// GET, HEAD and OPTIONS and refuses the rest with 405) at every path of
// g.MetadataPaths() on r. Pass the root router: the paths come from the
// configured resource URL and are absolute on the origin, whatever prefix
// the MCP handler is mounted under, while a sub-router created by
// r.Route or mounted with r.Mount would prefix them.
func RegisterMetadata(r chi.Router, g *core.Guard) {
	for _, p := range g.MetadataPaths() {
		r.Handle(p, g.MetadataHandler())
	}
}
