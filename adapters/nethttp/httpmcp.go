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
// g before next sees it. On refusal it writes Guard.Render's response and
// does not call next. On success next receives the request with the
// principal in its context ([PrincipalFrom], core.PrincipalFromContext), a
// go-sdk auth.TokenInfo for session binding, and the identical body bytes.
func Middleware(g *core.Guard) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		inner := SDKHandler(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			st, tooLarge, readErr := readBody(w, r, g.MaxBodyBytes())
			body := st.bytes()
			res, err := g.Check(r.Context(), &core.Request{
				Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
				Header: r.Header, Body: body, BodyTooLarge: tooLarge, BodyErr: readErr,
			})
			if err != nil {
				write(w, g.Render(err))
				return
			}
			st.ctx = stateCtx{Context: res.Context(r.Context()), st: st}
			r = r.WithContext(&st.ctx)
			r.Body = &st.body
			r.ContentLength = int64(len(body))
			switch {
			case res.NeedsFilter():
				fw := res.WrapResponseWriter(w)
				defer fw.Close()
				w = fw
			case res.CreatesSession():
				w = &sessionWriter{ResponseWriter: w, res: res, g: g}
			}
			inner.ServeHTTP(w, r)
		})
	}
}

// SDKHandler hands the principal that a Guard adapter stored in the request
// context to a Go MCP SDK handler as auth.TokenInfo (UserID =
// Principal.ID(), Scopes, Expiration), the only way into the SDK's own
// session binding and req.Extra.TokenInfo. Middleware already applies it;
// wrap the SDK handler with it when another framework's middleware (gin,
// fiber) ran the Guard:
//
//	r.Any("/mcp", ginmcp.Middleware(g), gin.WrapH(httpmcp.SDKHandler(sdkHandler)))
//
// A request without a principal in its context is answered 401 by the SDK
// wrapper, so a handler mounted without the Guard fails closed.
func SDKHandler(next http.Handler) http.Handler {
	return auth.RequireBearerToken(tokenInfo, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true, ClockSkew: sdkClockSkew})(next)
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
	ti := newTokenInfo(ctx)
	*ti = auth.TokenInfo{UserID: p.ID(), Scopes: p.Scopes}
	if p.Claims != nil {
		ti.Expiration = p.Claims.Expiry
	}
	return ti, nil
}

// write copies a core.Response: every header value with Add, then the
// status, then the body.
func write(w http.ResponseWriter, resp *core.Response) {
	h := w.Header()
	for k, vs := range resp.Header {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}

// sessionWriter binds the Mcp-Session-Id of an initialize response to the
// principal as the headers are committed. When the binding is refused (the
// principal's session cap, a failing store) it sends the Guard's refusal
// instead of the server's response and discards the server's body.
type sessionWriter struct {
	http.ResponseWriter
	res     *core.Result
	g       *core.Guard
	done    bool
	refused bool
}

func (s *sessionWriter) WriteHeader(code int) {
	if !s.done {
		s.done = true
		if err := s.res.BindSession(s.Header().Get("Mcp-Session-Id")); err != nil {
			s.refused = true
			clear(s.Header())
			write(s.ResponseWriter, s.g.Render(err))
			return
		}
	}
	if !s.refused {
		s.ResponseWriter.WriteHeader(code)
	}
}

func (s *sessionWriter) Write(p []byte) (int, error) {
	if !s.done {
		s.WriteHeader(http.StatusOK)
	}
	if s.refused {
		return len(p), nil
	}
	return s.ResponseWriter.Write(p)
}

func (s *sessionWriter) Flush() { _ = http.NewResponseController(s.ResponseWriter).Flush() }

func (s *sessionWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

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
