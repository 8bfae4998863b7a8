package httpmcp

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/mcpauthz/mcpauthz/core"
)

// Middleware returns net/http middleware that authorizes every request with
// g before next sees it (it is core's one adapter body, [core.Guard.Serve]).
// On refusal it writes Guard.Render's response and does not call next. On
// success next receives the request with the principal in its context
// ([PrincipalFrom], core.PrincipalFromContext), the go-sdk auth.TokenInfo
// for session binding (auth.TokenInfoFromContext), and the identical body
// bytes.
func Middleware(g *core.Guard) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		// Handler types, not closures: every frame under the MCP handler is
		// unwound again when the collector scans the stack (Guard.ServeHandler).
		return &guarded{g: g, next: SDKHandler(next)}
	}
}

type guarded struct {
	g    *core.Guard
	next http.Handler
}

func (h *guarded) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.g.ServeHandler(w, r, h.next) }

// SDKHandler makes sure a Go MCP SDK handler sees the principal that a
// Guard adapter stored in the request context as auth.TokenInfo (UserID =
// Principal.ID(), Scopes, Expiration), the only way into the SDK's own
// session binding and req.Extra.TokenInfo. The context of [Middleware] and
// of the gin adapter already carries it, and the request passes straight
// through; a context with a principal but no TokenInfo (a framework that
// rebuilt the context) goes through the SDK's auth.RequireBearerToken:
//
//	r.Any("/mcp", ginmcp.Middleware(g), gin.WrapH(httpmcp.SDKHandler(sdkHandler)))
//
// A request without a principal in its context is answered 401 by the SDK
// wrapper, so a handler mounted without the Guard fails closed.
func SDKHandler(next http.Handler) http.Handler {
	slow := auth.RequireBearerToken(tokenInfo, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true, ClockSkew: sdkClockSkew})(next)
	return &sdkHandler{next: next, slow: slow}
}

type sdkHandler struct{ next, slow http.Handler }

func (s *sdkHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if auth.TokenInfoFromContext(ctx) != nil {
		if _, ok := core.PrincipalFromContext(ctx); ok {
			s.next.ServeHTTP(w, r)
			return
		}
	}
	s.slow.ServeHTTP(w, r)
}

// sdkClockSkew keeps the go-sdk's own expiry check (wall clock, no leeway by
// default) from refusing a token the verifier accepted within its leeway.
const sdkClockSkew = 5 * time.Minute

// tokenInfo hands the verified principal to the go-sdk as auth.TokenInfo.
func tokenInfo(ctx context.Context, _ string, _ *http.Request) (*auth.TokenInfo, error) {
	p, ok := core.PrincipalFromContext(ctx)
	if !ok {
		return nil, auth.ErrInvalidToken
	}
	ti := &auth.TokenInfo{UserID: p.ID(), Scopes: p.Scopes}
	if p.Claims != nil {
		ti.Expiration = p.Claims.Expiry
	}
	return ti, nil
}

// PrincipalFrom returns the principal the middleware stored in r's context.
func PrincipalFrom(r *http.Request) (*core.Principal, bool) {
	return core.PrincipalFromContext(r.Context())
}

// Register mounts mcp behind the middleware at g.ResourcePath() (exactly
// that path) and the metadata handler at every g.MetadataPaths() path, on
// mux. It panics, like http.ServeMux.Handle, if a pattern conflicts.
func Register(mux *http.ServeMux, g *core.Guard, mcp http.Handler) {
	p := g.ResourcePath()
	if strings.HasSuffix(p, "/") {
		p += "{$}"
	}
	mux.Handle(p, Middleware(g)(mcp))
	for _, mp := range g.MetadataPaths() {
		mux.Handle(mp, g.MetadataHandler())
	}
}
