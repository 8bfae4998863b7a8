package core

import (
	"errors"
	"net"
	"net/http"

	"go.opentelemetry.io/otel/trace"
)

// Request is one HTTP request to the MCP endpoint, as plain data. Adapters
// fill it from their framework; the Guard modifies it only to store the
// body it read through BodyReader.
type Request struct {
	Method string // HTTP method
	Path   string // URL path, for audit only (routing is the framework's job)
	// RemoteAddr is the network address of the peer ("ip:port"), for audit
	// only. OPTIONAL. Adapters set the connection's address; a proxy's
	// X-Forwarded-For is not trusted.
	RemoteAddr string
	RawQuery   string      // raw URL query; a token there is refused
	Header     http.Header // request header (canonical keys, as net/http stores them)
	// Fields, when Header is nil, is the request header in the adapter's
	// own form: Check asks it for the values of the few fields it reads
	// instead of walking a map, so an adapter whose framework does not
	// keep an http.Header (fiber) builds none. OPTIONAL; ignored when
	// Header is non-nil. With both nil the request has no header.
	Fields HeaderReader
	// Body is the complete request body, read with a limit of
	// Guard.MaxBodyBytes. The Guard does not retain it after Check returns,
	// except through Result list filtering, which does not use it.
	Body []byte
	// BodyTooLarge reports that the body exceeded Guard.MaxBodyBytes (Body
	// then holds a prefix or nothing); Check refuses with 413 once the
	// request is authenticated.
	BodyTooLarge bool
	// BodyErr reports that reading the body failed for another reason (a
	// broken connection, a malformed chunked encoding). Check refuses with
	// 400 once the request is authenticated, so adapters never choose a
	// status themselves.
	BodyErr error
	// BodyReader, when set and Body is nil, reads the body for Check: Check
	// calls it once, only after the bearer token has been verified, so an
	// unauthenticated request never costs more than its header (issue 10
	// §2). Check stores what it read in Body. Adapters that cannot defer
	// the read fill Body, BodyTooLarge and BodyErr instead.
	BodyReader BodyReader
	// Peer, when RemoteAddr is empty, is the peer's address, turned into
	// RemoteAddr (Peer.String()) only where the Guard reads it (the audit
	// event), so an adapter that holds a net.Addr need not format it on
	// every request. OPTIONAL.
	Peer net.Addr
}

// HeaderReader is a request header an adapter keeps in its framework's own
// form (see Request.Fields). Values returns every value of the fields
// named name, in the order they came, exactly as http.Header.Values of the
// header net/http would have built: name is in canonical form
// (http.CanonicalHeaderKey) and matches a field whatever the case of its
// name; a repeated field gives every value; nil when there is none. Check
// calls it only while it runs, on the request's goroutine, and does not
// keep or modify the slice. It may keep the strings (a session id, the
// token, audit fields), so they must never change: copies, not views of a
// buffer the framework reuses for the next request.
type HeaderReader interface {
	Values(name string) []string
}

// HeaderFields holds the values of the request header fields the Guard
// itself reads (Check's pipeline; an audit sink's User-Agent is still
// asked of Values), for an adapter that gathers them in its one pass over
// the framework's header: a Request.Fields whose type embeds a
// HeaderFields is read through it, so Check makes no Values call for
// these names. Each field holds exactly what Values returns for its
// canonical name (every value in order, nil when absent), and the same
// rules apply: strings that never change, slices Check does not keep.
type HeaderFields struct {
	Authorization   []string
	ContentType     []string // Content-Type
	ContentEncoding []string // Content-Encoding
	ProtocolVersion []string // Mcp-Protocol-Version
	SessionID       []string // Mcp-Session-Id
	Method          []string // Mcp-Method
	Name            []string // Mcp-Name
	Origin          []string
	RequestID       []string // X-Request-Id
	LastEventID     []string // Last-Event-Id
}

// headerFields returns f; promoted to a type that embeds a HeaderFields,
// it is how Check finds the embedded struct (fieldsHolder).
func (f *HeaderFields) headerFields() *HeaderFields { return f }

// fieldsHolder is a Request.Fields that embeds a HeaderFields.
type fieldsHolder interface{ headerFields() *HeaderFields }

// headerValues is r's header's values of the field named name (canonical),
// from Header or else from Fields.
func (r *Request) headerValues(name string) []string {
	if r.Header == nil && r.Fields != nil {
		return r.Fields.Values(name)
	}
	return r.Header[name]
}

// BodyReader reads a request body for [Guard.Check] after the caller has
// been authenticated. ReadBody returns the whole body, or an error wrapping
// [ErrBodyTooLarge] when it exceeds max bytes (never reading more than
// max+1), or another error when the read fails. Implementations must not
// allocate from a declared Content-Length beyond a small fixed first
// buffer: they grow a buffer as bytes arrive. It is called at most once,
// on the request's goroutine.
type BodyReader interface {
	ReadBody(max int64) ([]byte, error)
}

// Result is the outcome of an allowed request: the principal, and the plan
// for filtering a list response. Adapters put Principal in the request
// context and, when NeedsFilter, pass the response through
// WrapResponseWriter, FilterBody or NewStreamFilter.
type Result struct {
	// Principal is the authenticated caller; never nil.
	Principal *Principal
	// ProtocolVersion is the effective MCP protocol version of the request.
	ProtocolVersion string
	// SessionID is the legacy Mcp-Session-Id of the request ("" if none).
	SessionID string

	// visible decides each item of a list response to filter (nil: no
	// filtering); it closes over the request context and principal. The
	// list is the one of the request's method (listName).
	visible func(kind ObjectKind, name string) bool
	// hidden counts the items visible hid, for the DecisionFilter audit
	// event (listaudit.go); nil without an audit sink.
	hidden *hiddenItems
	// bind binds a session id created by the response to the principal;
	// nil unless the request is a legacy initialize without a session.
	// A non-nil refusal (an invalid response) is only logged and audited
	// as a refused binding, then returned.
	bind func(sessionID string, refusal *Error) error
	// filterSpan starts the SpanFilter span of a list response; nil when
	// tracing is off.
	filterSpan func() trace.Span
	// ctx is the context node handed out by Context (see hotpath.go). Its
	// tiKey is the go-sdk's TokenInfo context key (nil: unknown) and its ti
	// the TokenInfo, built on first use or taken from the token's cache
	// entry.
	ctx principalCtx
	pid string // Principal.ID(), once computed
	// rpc is the JSON-RPC method of a POST of one message, by its index
	// in rpcMethods (0: none; see RPCMethod). A byte, not a string: every
	// adapter's per-request allocation holds a Result (and a list to
	// filter is named by it, see listName).
	rpc uint8
}

// RPCMethod returns the JSON-RPC method of the request when it is a POST
// of a single JSON-RPC request or notification (not a batch, even of one
// message) whose method is one of the MCP methods listed below, exactly
// as the Guard decoded and authorized it. It returns "" for any other
// method, a GET, a DELETE, a batch and a client's JSON-RPC response.
// Adapters use it to pick per-method behaviour without parsing the body
// again; it is never a decision input of its own. The methods: initialize,
// ping, server/discover, logging/setLevel, subscriptions/listen,
// tools/call, tools/list, resources/read, resources/list,
// resources/templates/list, resources/subscribe, resources/unsubscribe,
// prompts/get, prompts/list, completion/complete,
// notifications/initialized, notifications/cancelled,
// notifications/progress and notifications/roots/list_changed.
func (res *Result) RPCMethod() string {
	if res == nil {
		return ""
	}
	return rpcMethods[res.rpc]
}

// rpcMethods are the methods RPCMethod reports, by rpcCode ("" first).
var rpcMethods = [...]string{"", "initialize", "ping", "server/discover", "logging/setLevel",
	"subscriptions/listen", "tools/call", "tools/list", "resources/read", "resources/list",
	"resources/templates/list", "resources/subscribe", "resources/unsubscribe", "prompts/get",
	"prompts/list", "completion/complete", "notifications/initialized", "notifications/cancelled",
	"notifications/progress", "notifications/roots/list_changed"}

// rpcCode returns the index of method in rpcMethods, 0 for any other.
func rpcCode(method string) uint8 {
	switch method {
	case "initialize":
		return 1
	case "ping":
		return 2
	case "server/discover":
		return 3
	case "logging/setLevel":
		return 4
	case "subscriptions/listen":
		return 5
	case "tools/call":
		return 6
	case "tools/list":
		return 7
	case "resources/read":
		return 8
	case "resources/list":
		return 9
	case "resources/templates/list":
		return 10
	case "resources/subscribe":
		return 11
	case "resources/unsubscribe":
		return 12
	case "prompts/get":
		return 13
	case "prompts/list":
		return 14
	case "completion/complete":
		return 15
	case "notifications/initialized":
		return 16
	case "notifications/cancelled":
		return 17
	case "notifications/progress":
		return 18
	case "notifications/roots/list_changed":
		return 19
	}
	return 0
}

// principalID is res.Principal.ID(), computed once per request (or taken
// from the token's cache entry).
func (res *Result) principalID() string {
	if res.pid == "" {
		res.pid = res.Principal.ID()
	}
	return res.pid
}

// CreatesSession reports whether the response may create a 2025-11-25
// session (a legacy initialize request without Mcp-Session-Id) and session
// binding is on. Adapters that can see response headers then call
// BindSession with the Mcp-Session-Id of the response, which binds the
// session to its creator before anyone else can present it.
func (res *Result) CreatesSession() bool { return res != nil && res.bind != nil }

// BindSession binds sessionID, the Mcp-Session-Id the MCP server returned
// for this request, to the request's principal. It does nothing and returns
// nil when CreatesSession is false or sessionID is empty. Otherwise a
// non-nil error is an *Error for [Guard.Render] that the adapter must send
// INSTEAD of the server's response (discarding it): the principal is at
// Config.MaxSessionsPerPrincipal (429, a JSON-RPC error echoing the
// initialize id), the binding store failed (503), the id is invalid or
// already bound to someone else (404). A binding is never overwritten and
// never evicts another. A refusal is logged and recorded as a second
// DecisionEvent with its status and reason (the first said allow/200).
func (res *Result) BindSession(sessionID string) error {
	if !res.CreatesSession() || sessionID == "" {
		return nil
	}
	if !validSessionID(sessionID) {
		return res.bind("", &Error{Kind: KindInternal, Description: "internal error",
			Err: errors.New("core: the MCP server returned an invalid Mcp-Session-Id")})
	}
	return res.bind(sessionID, nil)
}

// BindSessionValues is [Result.BindSession] for every Mcp-Session-Id value
// of the response header, as adapters read it: none binds nothing, one is
// bound, and more than one is refused (500) because the client could
// present a value the Guard did not bind; the adapter then sends the
// refusal instead of the server's response, as for BindSession.
func (res *Result) BindSessionValues(values []string) error {
	switch {
	case len(values) > 1 && res.CreatesSession():
		return res.bind("", &Error{Kind: KindInternal, Description: "internal error",
			Err: errors.New("core: the MCP server returned more than one Mcp-Session-Id")})
	case len(values) == 0:
		return nil
	}
	return res.BindSession(values[0])
}

// NeedsFilter reports whether the response must be filtered: the request is
// a */list call and an Authorizer decides item visibility. When it is false,
// adapters pass the response through untouched.
func (res *Result) NeedsFilter() bool { return res != nil && res.visible != nil }
