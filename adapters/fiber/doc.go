// Package fibermcp is the fiber (v2) adapter of mcpauthz: a native fiber
// middleware that runs every request to an MCP endpoint through a
// [core.Guard]. It never goes through adaptor.HTTPMiddleware.
//
// One line protects a group (or the whole app):
//
//	app := fiber.New()
//	fibermcp.RegisterMetadata(app, g) // RFC 9728 document at the origin root
//	app.Group("/mcp", fibermcp.New(g)).All("", adaptor.HTTPHandler(mcpHandler))
//
// Register the metadata route before an app-wide app.Use(fibermcp.New(g)):
// fiber runs handlers in registration order, and the document must stay
// reachable without a token.
//
// The adapter decides nothing. It builds no http.Header: it hands the Guard
// the request header as a core.HeaderReader (core.Request.Fields) that
// embeds a core.HeaderFields, for which it copies, in one pass over
// fasthttp's header, only the values of the fields the Guard reads
// (Authorization, Content-Type, Mcp-*, Origin, X-Request-Id,
// Last-Event-Id, User-Agent, ...; any other name is looked up in
// fasthttp's header and copied when asked for), and calls
// Guard.CheckIntoName with c.UserContext(). A request costs one
// allocation, which holds the core.Result, the copied values (path, query,
// those header values) and room for the target name of a tools/call or
// prompts/get, sized for them (one of Go's size classes from 224 to 384
// bytes; more than 232 bytes of values cost one more allocation, a name
// the room does not hold a string of its own). The Authorization value,
// most of the bytes, is copied once per pooled request state and reused
// while a client keeps sending the same token; the peer address is handed
// over as a net.Addr
// (core.Request.Peer) and formatted only for the audit event. Check
// verifies the token first and only then reads the body through the
// adapter (a streamed
// body is read with the Guard.MaxBodyBytes limit, growing as bytes arrive,
// and put back; one whose chunked encoding ends with trailer fields is
// refused with 400, because fasthttp adds them to the request header as it
// reads them, after the Guard took the header's values, where the handlers
// after it would read them: a body fasthttp read before the handlers ran
// has them in the header the Guard reads, unlike net/http, which keeps
// trailers out of the header). It then either writes Guard.Render's response (status,
// every header value, body) without calling c.Next, closing the connection
// when a streamed body was left unread, or stores the principal with
// c.Locals ([PrincipalFrom]) and in the user context
// (core.PrincipalFromContext(c.UserContext())) and calls c.Next.
//
// Set fiber.Config.StreamRequestBody (and DisablePreParseMultipartForm):
// without it fasthttp reads every declared body, up to its BodyLimit,
// before any handler runs, so an unauthenticated caller costs body memory.
//
// # List filtering and streaming
//
// For */list requests the response is filtered with Result.FilterBody after
// the handler chain returned. A body stream set with SetBodyStreamWriter is
// drained first (fasthttp offers no way to re-wrap a stream without closing
// it), so list responses are buffered; every other response, including
// native event streams, passes through untouched. [Handler] mounts a
// net/http MCP handler (the go-sdk's, stateful or stateless) without
// fasthttp's buffering adaptor: once the handler flushes, its response is
// streamed through SetBodyStreamWriter, so the GET stream of a stateful
// session works; the handler's context ends when a write to the client
// fails, at server shutdown, or when it returns. The handler runs on a
// goroutine of its own pool (that is what lets a stream outlive the fiber
// handler): up to 128 stay parked between requests and keep their grown
// stacks, one parked through a whole 10 s ends. Its request is built with
// one copy of the request URI, host, address and header values, and one of
// the body (a pooled buffer, reused once the handler returned).
//
// Handler learns which methods of the go-sdk's *mcp.StreamableHTTPHandler
// (passed to it as it is) stream: a POST of one JSON-RPC message that
// passed [New], whose method (one of a fixed set of MCP methods) the
// handler answered 8 times without flushing (each a 200 that is not an
// event stream, or a 202 to a notification: a refusal does not count) and
// never flushed, runs on fasthttp's goroutine, reads the body in place
// and is sent whole, as fiber's adaptor does, saving the handoff to the
// pool; so a go-sdk server with StreamableHTTPOptions{JSONResponse: true}
// runs inline after 8 calls of each method, and one with SSE responses
// never does. If the handler flushes such a response anyway, that
// response (and any other of the method already running inline) goes out
// whole when the handler returns, one Warn is logged, and the method
// streams from then on. [HandlerConfig].Learning extends the learning to
// any handler (LearnAlways: right for one that answers each method always
// whole or always as a stream) or turns it off (LearnNever).
//
// A handler whose POST and DELETE responses never stream, such as the
// go-sdk's with StreamableHTTPOptions{JSONResponse: true}, can skip that
// handoff from the first request: with [HandlerConfig].Buffered it runs on
// fasthttp's goroutine, reads the body in place and is sent whole, as
// fiber's adaptor does, while a GET still streams from the pool:
//
//	sdk := mcp.NewStreamableHTTPHandler(getServer, &mcp.StreamableHTTPOptions{JSONResponse: true})
//	app.All("/mcp", fibermcp.New(g), fibermcp.HandlerWith(sdk, fibermcp.HandlerConfig{Buffered: true}))
//
// A handler that flushes a response under Buffered fails loudly rather
// than hanging: its context is cancelled, its later writes fail, an Error
// is logged, and the client gets a 500 or, once WriteHeader was called, a
// closed connection.
//
// # Operations: idle streams and panics
//
// fasthttp does not tell a handler that its client left; only a failing
// write does. So that a GET stream with nothing to send does not hold its
// two goroutines (the handler's and the stream writer's) until shutdown, an
// idle text/event-stream response gets an SSE comment (": " and a blank
// line, which clients ignore) every [HandlerConfig].KeepAlive (default
// [DefaultKeepAlive], 20 s; negative disables it), and only between events,
// never inside one. When the comment cannot be written the handler's
// context is cancelled: a stream ends within a few intervals of its client
// leaving. Other flushed responses get no comment and end at their next
// failing write or at shutdown.
//
// A panic in the handler is recovered, as net/http does, rather than
// crashing the process: it is logged to [HandlerConfig].Logger (default
// slog.Default()) with the panic value, method, path and stack, never a
// header value (so never the Authorization value). If the handler had
// written nothing, the client gets a 500; if it had called WriteHeader but
// nothing was sent yet, the connection is closed without a response; a
// stream already going out is cut (the connection closes before the last
// chunk, so the client sees an incomplete response). A panic with
// http.ErrAbortHandler is not logged and closes the connection.
//
// # Security
//
// The body inspected is the raw body (c.Request().Body()), exactly what
// the next handler and adaptor.HTTPHandler receive; fiber's c.Body() would
// decompress it, so a compressed body is refused by inspection rather than
// inspected in a different form than the one executed.
package fibermcp
