package fibermcp

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/valyala/fasthttp"

	"github.com/mcpauthz/mcpauthz/core"
)

// resultKey is the c.Locals key of the Guard's Result (its principal,
// and the method [HandlerWith] learns about).
type resultKey struct{}

// New returns a fiber middleware that authorizes every request with g.
//
// On refusal it writes Guard.Render's response unchanged and returns nil
// without calling c.Next. On success the principal is available through
// [PrincipalFrom] and core.PrincipalFromContext(c.UserContext()), and the
// request body is left exactly as received. A body larger than
// g.MaxBodyBytes() is refused with the Guard's 413. A request other than a
// POST whose Content-Type is sent more than once, or once and empty, is
// refused with 400 before the Guard runs (not audited): fasthttp keeps one
// Content-Type of several, and none for an empty one, so the handler's
// http.Request could not hold the values the Guard read (a POST gets the
// Guard's 415). So is, with 400, a request whose target fasthttp cannot
// parse with its Host ("#", "x y", which net/http refuses too, "%", a port
// that is not a number): fasthttp then reads the path "/" for the Guard's
// audit and the handler, whatever fiber routed.
func New(g *core.Guard) fiber.Handler {
	return func(c *fiber.Ctx) error {
		st := reqStates.Get().(*reqState)
		// The body is read by Check, after the token is verified; res
		// and room are the request's own, never reused (see keep).
		cr, res, room := fillRequest(st, c.Request(), c.Context().RemoteAddr())
		if len(c.Request().URI().PathOriginal()) == 0 {
			// fasthttp could not parse the target with the Host (see
			// above): the path it reads, for the Guard's audit and the
			// handler alike, is then "/", not the target fiber routed.
			st.release()
			return write(c, g.Render(errBadTarget()))
		}
		if ct := st.ContentType; (len(ct) > 1 || len(ct) == 1 && ct[0] == "") && cr.Method != http.MethodPost {
			// The handler would get fasthttp's one Content-Type (the
			// last), or none for an empty one, not the values the Guard
			// read: refused. A POST gets the Guard's own refusal (415).
			st.release()
			return write(c, g.Render(errContentTypeFields()))
		}
		ctx := c.UserContext()
		res, err := g.CheckIntoName(ctx, cr, res, room)
		st.release() // the Guard keeps no reference to cr or its header
		if err != nil {
			if req := c.Request(); req.IsBodyStream() && req.Header.ContentLength() != 0 {
				// The rest of a streamed body was not read: the connection
				// cannot carry another request.
				c.Context().SetConnectionClose()
			}
			return write(c, g.Render(err))
		}
		c.Locals(resultKey{}, res)
		c.SetUserContext(res.Context(ctx))
		if !res.NeedsFilter() && !res.CreatesSession() {
			return c.Next()
		}
		if err := c.Next(); err != nil {
			return err
		}
		// fasthttp sends nothing before the chain returns, so binding the
		// session created by an initialize response here precedes any use.
		if res.CreatesSession() {
			if err := res.BindSessionValues(sessionIDs(c.Response())); err != nil {
				// Refused (session cap, failing store): the Guard's answer
				// replaces the server's, which has not been sent.
				c.Response().Reset()
				return write(c, g.Render(err))
			}
			return nil
		}
		return filter(c, g, res)
	}
}

// errBadTarget refuses a request whose target fasthttp cannot parse with
// its Host.
func errBadTarget() error {
	return &core.Error{Kind: core.KindMessage, Status: http.StatusBadRequest, Description: "invalid Host or request target"}
}

// errContentTypeFields refuses a request whose Content-Type fasthttp
// cannot hand the MCP handler as the Guard read it: sent more than once,
// or once and empty.
func errContentTypeFields() error {
	return &core.Error{Kind: core.KindMessage, Status: http.StatusBadRequest,
		Description: "Content-Type must be sent at most once, and not empty"}
}

// sessionIDs returns every Mcp-Session-Id value of resp (copies).
func sessionIDs(resp *fasthttp.Response) []string {
	var ids []string
	for _, v := range resp.Header.PeekAll("Mcp-Session-Id") {
		ids = append(ids, string(v))
	}
	return ids
}

// PrincipalFrom returns the principal [New] stored in c.
func PrincipalFrom(c *fiber.Ctx) (*core.Principal, bool) {
	res, ok := c.Locals(resultKey{}).(*core.Result)
	if !ok || res == nil || res.Principal == nil {
		return nil, false
	}
	return res.Principal, true
}

// RegisterMetadata registers g.MetadataHandler() for GET, HEAD and OPTIONS
// at every path of g.MetadataPaths() on app itself, i.e. at the origin
// root, whatever group or prefix the MCP handler is mounted under: the path
// comes from the configured resource URL, not from any router prefix. Call
// it before any app-wide app.Use(New(g)).
func RegisterMetadata(app *fiber.App, g *core.Guard) {
	h := adaptor.HTTPHandler(g.MetadataHandler())
	for _, p := range g.MetadataPaths() {
		app.Get(p, h) // also registers HEAD
		app.Options(p, h)
	}
}

// filter replaces a list response body by its filtered form. A body stream
// is drained first (Response.Body reads it to the end).
func filter(c *fiber.Ctx, g *core.Guard, res *core.Result) error {
	resp := c.Response()
	body := resp.Body()
	out, err := res.FilterResponse(resp.StatusCode(), string(resp.Header.ContentType()), body)
	if err != nil {
		return write(c, g.Render(err))
	}
	if len(out) != len(body) || (len(out) > 0 && &out[0] != &body[0]) {
		resp.SetBody(out) // copies: out may alias fasthttp's body buffer
	}
	return nil
}

// write copies a core.Response onto c: each header Render sets replaces any
// earlier value of that header, multiple values are all kept.
func write(c *fiber.Ctx, resp *core.Response) error {
	h := &c.Response().Header
	for k, vs := range resp.Header {
		h.Del(k)
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	c.Status(resp.Status)
	return c.Send(resp.Body)
}
