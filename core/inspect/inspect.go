package inspect

import (
	"bytes"
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

// Header names read by Inspect.
const (
	HeaderProtocolVersion = "Mcp-Protocol-Version"
	HeaderSessionID       = "Mcp-Session-Id"
	HeaderMethod          = "Mcp-Method"
	HeaderName            = "Mcp-Name"
)

// Inspect parses one HTTP request to an MCP Streamable HTTP endpoint and
// returns what it asks the server to do, or an *Error saying why it must be
// refused. httpMethod is the request method ("POST", "GET", ...), header the
// request header, body the complete request body (ignored for GET and
// DELETE). See the package documentation for the rules.
//
// The returned Request aliases body (Message.ID); body must not be modified
// while it is in use.
func Inspect(httpMethod string, header http.Header, body []byte, opts Options) (*Request, error) {
	box := new(requestBox)
	h := headerOf(header)
	if err := inspectInto(&box.r, httpMethod, &h, body, &opts, box.name[:0]); err != nil {
		return nil, err
	}
	return &box.r, nil
}

// requestBox is the one allocation of [Inspect]: the Request and room for
// the bytes of its single message's target name (a 256-byte size class).
type requestBox struct {
	r    Request
	name [48]byte
}

// InspectInto is [Inspect] writing its result into dst, which it first
// resets, so that a caller can keep the Request inside its own per-request
// state instead of allocating one more object. On error dst holds no
// message. dst.Messages may point into dst itself: use dst in place, do not
// copy it by value while the Messages are in use.
func InspectInto(dst *Request, httpMethod string, header http.Header, body []byte, opts Options) error {
	h := headerOf(header)
	return InspectHeader(dst, httpMethod, &h, body, opts)
}

// InspectHeader is [InspectInto] for a header whose fields the caller has
// gathered into h (see [Header]); h is only read.
func InspectHeader(dst *Request, httpMethod string, h *Header, body []byte, opts Options) error {
	return InspectHeaderName(dst, httpMethod, h, body, opts, nil)
}

// InspectHeaderName is [InspectHeader] that may keep the target name of a
// single-message body in name's spare capacity (name[:cap(name)]) instead
// of allocating a string for it. The caller hands that memory over for
// good: nothing may ever write it again, nor pass it to another call,
// because the strings in dst (and whatever they are copied into:
// decisions, audit events, context values) point into it for as long as
// they live. Memory inside a per-request object that is never reused
// qualifies; a pooled or reused buffer does not. With too little room
// (or a batch, or an escaped name) it behaves exactly as InspectHeader.
func InspectHeaderName(dst *Request, httpMethod string, h *Header, body []byte, opts Options, name []byte) error {
	if !dst.zero() {
		*dst = Request{} // a caller's pooled dst usually comes back zeroed already
	}
	err := inspectInto(dst, httpMethod, h, body, &opts, name)
	if err != nil {
		*dst = Request{}
	}
	return err
}

// inspectInto inspects into r. nameBuf, when not nil, is memory that only
// this call may ever write (requestBox.name): the single message's target
// string may be stored in it instead of being allocated.
func inspectInto(r *Request, httpMethod string, h *Header, body []byte, opts *Options, nameBuf []byte) error {
	switch httpMethod {
	case http.MethodPost, http.MethodGet, http.MethodDelete:
	default:
		e := newErr(ErrMethodNotAllowed, "method not allowed", nil)
		e.Allow = "GET, POST, DELETE"
		return e
	}
	version, err := effectiveVersion(h, opts)
	if err != nil {
		return err
	}
	r.Version = version
	v20260728 := atLeast20260728(version)
	if !v20260728 {
		sid, err := single(h.SessionID)
		if err != nil {
			return newErr(ErrInvalidRequest, "repeated Mcp-Session-Id header", nil)
		}
		r.SessionID = sid
	}
	if httpMethod != http.MethodPost {
		if v20260728 {
			e := newErr(ErrMethodNotAllowed, "method not allowed", nil)
			e.Allow = "POST"
			return e
		}
		return nil
	}
	if err := checkContentHeaders(h); err != nil {
		return err
	}
	if max := opts.maxBody(); max > 0 && len(body) > max {
		return newErr(ErrTooLarge, "request body too large", nil)
	}
	// Messages are located while they are validated (one pass).
	v := newView()
	var views []msgView // a batch's, one per element object
	var batch bool
	if !quickWalk(body, opts.MaxDepth, &v) {
		// The walker from the start (see walker.body).
		var w walker
		v = newView()
		batch, err = w.walk(body, opts.MaxDepth, &v, &views)
	}
	if err != nil {
		switch {
		case len(bytes.TrimLeft(body, " \t\r\n")) == 0:
			return newErr(ErrParse, "empty request body", err)
		case bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")):
			return newErr(ErrParse, "byte order mark not allowed", err)
		}
		return newErr(ErrParse, "parse error", err)
	}
	i := jsonscan.SkipWS(body, 0)
	d := decoder{body: body, version: version, v20260728: v20260728, allowUnknown: opts.AllowUnknownMethods,
		maxName: opts.maxName(), maxURI: opts.maxURI(), args: opts.Args}
	switch {
	case !batch && body[i] == '{':
		m := &r.one[0]
		d.nameBuf = nameBuf
		if err := d.build(&v, m); err != nil {
			return err
		}
		if err := checkStandardHeaders(h, v20260728, m); err != nil {
			return err
		}
		r.Messages = r.one[:]
	case batch:
		if version >= Version20250618 {
			return newErr(ErrInvalidRequest, "JSON-RPC batching is not supported in protocol version "+version, nil)
		}
		r.Batch = true
		msgs, err := d.batch(i, views)
		if err != nil {
			return err
		}
		r.Messages = msgs
	default:
		return newErr(ErrInvalidRequest, "body must be a JSON-RPC message object", nil)
	}
	return nil
}

// effectiveVersion validates MCP-Protocol-Version.
func effectiveVersion(h *Header, opts *Options) (string, error) {
	supported := opts.versions()
	v, err := single(h.ProtocolVersion)
	if err != nil {
		return "", newErr(ErrHeaderMismatch, "repeated MCP-Protocol-Version header", nil)
	}
	if v == "" {
		if len(opts.SupportedVersions) == 0 {
			return Version20250326, nil // one of defaultVersions
		}
		for _, s := range supported {
			if s == Version20250326 {
				return s, nil
			}
		}
		return "", newErr(ErrHeaderMismatch, "missing required MCP-Protocol-Version header", nil)
	}
	for _, s := range supported {
		if s == v {
			return s, nil
		}
	}
	e := newErr(ErrUnsupportedVersion, "Unsupported protocol version", nil)
	e.Data = VersionData{Supported: append([]string(nil), supported...), Requested: safeEcho(v)}
	return "", e
}

// Header is the part of a request header Inspect reads: each field holds
// header[name] for its canonical name, nil when absent. [InspectInto] looks
// the names up itself; a caller that already walks the whole header once
// (core's hot path) fills a Header with Set and calls [InspectHeader]
// instead, which is the same inspection without the lookups.
type Header struct {
	ProtocolVersion []string // Mcp-Protocol-Version
	SessionID       []string // Mcp-Session-Id
	ContentType     []string // Content-Type
	ContentEncoding []string // Content-Encoding
	Method          []string // Mcp-Method
	Name            []string // Mcp-Name
}

// Set stores vals in the field for key when key is the canonical name of
// one of Header's fields, and reports whether it was. A non-canonical key
// is not one of them, exactly as a map lookup by the canonical name would
// not find it.
func (h *Header) Set(key string, vals []string) bool {
	switch key {
	case HeaderProtocolVersion:
		h.ProtocolVersion = vals
	case HeaderSessionID:
		h.SessionID = vals
	case "Content-Type":
		h.ContentType = vals
	case "Content-Encoding":
		h.ContentEncoding = vals
	case HeaderMethod:
		h.Method = vals
	case HeaderName:
		h.Name = vals
	default:
		return false
	}
	return true
}

// headerOf looks up Header's names in header. Once every key of the map
// has been found, the remaining names are known to be absent without a
// lookup.
func headerOf(header http.Header) Header {
	left := len(header)
	get := func(name string) []string {
		if left <= 0 {
			return nil
		}
		vals, ok := header[name]
		if ok {
			left--
		}
		return vals
	}
	var h Header
	h.ProtocolVersion = get(HeaderProtocolVersion)
	h.SessionID = get(HeaderSessionID)
	h.ContentType = get("Content-Type")
	h.ContentEncoding = get("Content-Encoding")
	h.Method = get(HeaderMethod)
	h.Name = get(HeaderName)
	return h
}

// single returns the OWS-trimmed value of a header that may appear at
// most once ("" when absent).
func single(vals []string) (string, error) {
	switch len(vals) {
	case 0:
		return "", nil
	case 1:
		return trimOWS(vals[0]), nil
	}
	return "", errors.New("repeated header")
}

func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// safeEcho returns s when it is short printable ASCII, else "".
func safeEcho(s string) string {
	if len(s) > 64 {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return ""
		}
	}
	return s
}

// checkContentHeaders enforces Content-Type application/json (charset, if
// any, UTF-8) and no Content-Encoding other than identity.
func checkContentHeaders(h *Header) error {
	cts := h.ContentType
	if len(cts) != 1 {
		return newErr(ErrUnsupportedMediaType, "Content-Type must be application/json", nil)
	}
	if ct := cts[0]; ct != "application/json" {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return newErr(ErrUnsupportedMediaType, "Content-Type must be application/json", err)
		}
		if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
			return newErr(ErrUnsupportedMediaType, "Content-Type charset must be utf-8", nil)
		}
	}
	for _, v := range h.ContentEncoding {
		for _, enc := range strings.Split(v, ",") {
			if enc = trimOWS(enc); enc != "" && !strings.EqualFold(enc, "identity") {
				return newErr(ErrUnsupportedMediaType, "Content-Encoding not supported", nil)
			}
		}
	}
	return nil
}
