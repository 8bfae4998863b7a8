package inspect

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

// decoder decodes JSON-RPC messages from a body the walker validated, using
// the member offsets it recorded.
type decoder struct {
	body         []byte
	version      string
	v20260728    bool      // version >= Version20260728, compared once
	allowUnknown bool      // Options.AllowUnknownMethods
	maxName      int       // Options.MaxNameLength (negative: unbounded)
	maxURI       int       // Options.MaxURIBytes (negative: unbounded)
	args         *ArgDecls // Options.Args
	// nameBuf, when not nil, is spare memory nothing else writes or
	// reads (requestBox.name): targetField copies one unescaped target
	// into it, makes the string from it and drops it, so those bytes are
	// never written again. Only set for a single-message body.
	nameBuf []byte
}

// Member names of a JSON-RPC message, of params and of params.ref that a
// case-insensitive decoder could bind to a differently spelled key.
var (
	messageKeys = [...]string{"jsonrpc", "id", "method", "params", "result", "error"}
	paramKeys   = [...]string{"name", "uri", "_meta", "ref", "arguments"}
	refKeys     = [...]string{"type", "name", "uri"}
)

const metaProtocolVersion = "io.modelcontextprotocol/protocolVersion"

// batch builds the messages of the batch at start; views holds, in order,
// the view of each element object.
func (d *decoder) batch(start int, views []msgView) ([]Message, error) {
	b := d.body
	i := jsonscan.SkipWS(b, start+1)
	if b[i] == ']' {
		return nil, newErr(ErrInvalidRequest, "empty batch", nil)
	}
	var msgs []Message
	for n := 0; ; n++ {
		if b[i] != '{' || n >= len(views) {
			return nil, newErr(ErrInvalidRequest, "batch element must be a JSON-RPC message object", nil)
		}
		var m Message
		if err := d.build(&views[n], &m); err != nil {
			return nil, err
		}
		msgs = append(msgs, m)
		i = jsonscan.SkipWS(b, jsonscan.ValueEnd(b, i))
		if b[i] == ']' {
			return msgs, nil
		}
		i = jsonscan.SkipWS(b, i+1) // ','
	}
}

func (d *decoder) invalid(m *Message, msg string) *Error {
	e := newErr(ErrInvalidRequest, msg, nil)
	e.ID = m.ID
	return e
}

func (d *decoder) invalidParams(m *Message, msg string) *Error {
	e := newErr(ErrInvalidParams, msg, nil)
	e.ID = m.ID
	return e
}

// rawString decodes the string at b[i] into buf (or returns it in place).
func rawString(b []byte, i int, buf []byte) []byte {
	if _, esc := jsonscan.StringEnd(b, i); !esc {
		buf = nil // alias b
	}
	s, _ := jsonscan.AppendString(buf, b, i)
	return s
}

// str is rawString for a string value whose end the walker recorded.
func (d *decoder) str(at int, e strEnd, buf []byte) []byte {
	switch {
	case e.end == 0:
		return rawString(d.body, at, buf)
	case !e.esc:
		return d.body[at+1 : e.end-1]
	}
	s, _ := jsonscan.AppendString(buf, d.body, at)
	return s
}

// stringField decodes the string value at v; ok is false when absent or
// not a string.
func (d *decoder) stringField(v int) (string, bool) {
	if v < 0 || d.body[v] != '"' {
		return "", false
	}
	s, _ := jsonscan.String(d.body, v)
	return s, true
}

// maxEscapedRune is the most JSON text one code point can take: a
// surrogate pair escaped as two \uXXXX.
const maxEscapedRune = 12

// targetField decodes the target string at v (a name when isName, else a
// URI) and enforces the length limits before decoding a long value; ok is
// false when absent or not a string, tooLong when it is refused.
func (d *decoder) targetField(v int, e strEnd, isName bool) (s string, ok, tooLong bool) {
	if v < 0 || d.body[v] != '"' {
		return "", false, false
	}
	max := d.maxURI
	if isName {
		max = d.maxName
	}
	if e.end == 0 {
		e.end, e.esc = jsonscan.StringEnd(d.body, v)
	}
	if max >= 0 && e.end-v-2 > maxEscapedRune*max {
		return "", true, true
	}
	switch raw := d.body[v+1 : e.end-1]; {
	case e.esc:
		s, _ = jsonscan.String(d.body, v)
	case len(raw) > 0 && len(raw) <= cap(d.nameBuf):
		buf := append(d.nameBuf[:0], raw...) // fits: no reallocation
		d.nameBuf = nil                      // used once: buf is never written again
		s = unsafe.String(unsafe.SliceData(buf), len(buf))
	default:
		s = string(raw)
	}
	switch {
	case isName && (s == "" || (max >= 0 && len(s) > max && utf8.RuneCountInString(s) > max)):
		// (a string has at most as many runes as bytes)
		return "", true, true
	case !isName && max >= 0 && len(s) > max:
		return "", true, true
	}
	return s, true, false
}

// limitErr is the refusal of an oversized (or empty) target.
func (d *decoder) limitErr(m *Message, what string, isName bool) error {
	if isName {
		if d.maxName < 0 {
			return d.invalidParams(m, what+" must not be empty")
		}
		return d.invalidParams(m, what+" must be 1 to "+strconv.Itoa(d.maxName)+" characters")
	}
	return d.invalidParams(m, what+" exceeds "+strconv.Itoa(d.maxURI)+" bytes")
}

// build applies the message rules to a view.
func (d *decoder) build(v *msgView, m *Message) error {
	b := d.body
	var buf [64]byte
	if v.id >= 0 {
		switch c := b[v.id]; {
		case c == 'n': // null: a notification for the SDK
		case c == '"':
			end := v.idEnd
			if end == 0 {
				end, _ = jsonscan.StringEnd(b, v.id)
			}
			m.ID = json.RawMessage(b[v.id:end])
		case c == '-' || (c >= '0' && c <= '9'):
			end := v.idEnd
			if end == 0 {
				end = jsonscan.ValueEnd(b, v.id)
			}
			if !shortInteger(b[v.id:end]) {
				if _, err := strconv.ParseFloat(string(b[v.id:end]), 64); err != nil {
					return newErr(ErrInvalidRequest, "invalid id", err)
				}
			}
			m.ID = json.RawMessage(b[v.id:end])
		default:
			return newErr(ErrInvalidRequest, "id must be a string or a number", nil)
		}
	}
	if v.ambiguous {
		return d.invalid(m, "ambiguous member name")
	}
	switch at := v.jsonrpc; {
	case at >= 0 && v.jsonrpcEnd.end == at+5 && string(b[at:at+5]) == `"2.0"`:
		// The common value, as the walker recorded it: no decoding.
	case at < 0 || b[at] != '"' || string(d.str(at, v.jsonrpcEnd, buf[:0])) != "2.0":
		return d.invalid(m, `"jsonrpc" must be "2.0"`)
	}
	if at := v.method; at >= 0 {
		if b[at] != '"' {
			return d.invalid(m, "method must be a non-empty string")
		}
		var s []byte
		if e := v.methodEnd; e.end > at+1 && !e.esc {
			s = b[at+1 : e.end-1] // recorded without escapes: the text itself
		} else {
			s = d.str(at, e, buf[:0])
		}
		if len(s) == 0 {
			return d.invalid(m, "method must be a non-empty string")
		}
		m.Method = internMethod(s)
	}
	switch {
	case v.method >= 0 && m.ID != nil:
		m.Kind = KindRequest
	case v.method >= 0:
		m.Kind = KindNotification
	case m.ID != nil:
		if d.v20260728 {
			return d.invalid(m, "clients must not send JSON-RPC responses in protocol version "+d.version)
		}
		m.Kind = KindResponse
		m.Target = connectTarget
		return nil
	default:
		return d.invalid(m, "message has neither method nor id")
	}
	if v.params < 0 || b[v.params] != '{' {
		// Only objects are searched for name, uri, _meta and ref.
		v.name, v.uri, v.meta, v.ref, v.metaVersion, v.arguments = -1, -1, -1, -1, -1, -1
		v.paramsAmbiguous = false
	}
	if v.paramsAmbiguous {
		return d.invalidParams(m, "ambiguous params member name")
	}
	if m.Kind == KindRequest && d.v20260728 && removedIn20260728(m.Method) {
		// Answered like the go-sdk: 404, -32601, before any parameter
		// or _meta validation.
		e := newErr(ErrUnknownMethod, "Method not found", nil)
		e.ID, e.Status = m.ID, 404
		return e
	}
	if err := d.checkMeta(m, v); err != nil {
		return err
	}
	return d.target(m, v)
}

// shortInteger reports whether the valid JSON number n is an integer of at
// most 300 digits, which strconv.ParseFloat always accepts (it fails only
// beyond float64's range, 1.8e308): the common id skips the parse.
func shortInteger(n []byte) bool {
	if len(n) > 300 {
		return false
	}
	for _, c := range n {
		if c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}
	return true
}

// removedIn20260728 reports the methods that protocol version 2026-07-28
// removed (resource subscriptions moved to subscriptions/listen).
func removedIn20260728(method string) bool {
	return method == "resources/subscribe" || method == "resources/unsubscribe"
}

// target sets m.Target from the method and params.
func (d *decoder) target(m *Message, v *msgView) error {
	switch m.Method {
	case "tools/call":
		if err := d.need(m, v, v.name, v.nameEnd, TargetTool, ActionCall, true); err != nil {
			return err
		}
		if specs := d.args.For(m.Target.Name); specs != nil {
			return d.extractArgs(m, specs, v.arguments)
		}
		return nil
	case "resources/read":
		if err := d.need(m, v, v.uri, v.uriEnd, TargetResource, ActionRead, false); err != nil {
			return err
		}
		return d.templateArgs(m)
	case "resources/subscribe", "resources/unsubscribe":
		if err := d.need(m, v, v.uri, v.uriEnd, TargetResource, ActionSubscribe, false); err != nil {
			return err
		}
		return d.templateArgs(m)
	case "prompts/get":
		return d.need(m, v, v.name, v.nameEnd, TargetPrompt, ActionGet, true)
	case "completion/complete":
		return d.completionTarget(m, v)
	case "tools/list":
		m.Target = Target{Kind: TargetServer, Action: ActionList, List: ListTools}
	case "resources/list":
		m.Target = Target{Kind: TargetServer, Action: ActionList, List: ListResources}
	case "resources/templates/list":
		m.Target = Target{Kind: TargetServer, Action: ActionList, List: ListResourceTemplates}
	case "prompts/list":
		m.Target = Target{Kind: TargetServer, Action: ActionList, List: ListPrompts}
	case "initialize", "ping", "server/discover", "logging/setLevel", "subscriptions/listen":
		m.Target = connectTarget
	default:
		if len(m.Method) > len("notifications/") && m.Method[:len("notifications/")] == "notifications/" {
			m.Target = connectTarget
			return nil
		}
		if d.allowUnknown {
			m.Target = connectTarget
			return nil
		}
		e := newErr(ErrUnknownMethod, "Method not found", nil)
		e.ID = m.ID
		if d.v20260728 && m.Kind == KindRequest {
			e.Status = 404
		}
		return e
	}
	return nil
}

// need sets m.Target to the target of kind and action named by the params
// member at (params.name when isName, else params.uri), or refuses it.
func (d *decoder) need(m *Message, v *msgView, at int, e strEnd, kind, action string, isName bool) error {
	if v.params < 0 || d.body[v.params] != '{' {
		return d.invalidParams(m, "params must be an object")
	}
	what := "uri"
	if isName {
		what = "name"
	}
	s, ok, tooLong := d.targetField(at, e, isName)
	if !ok {
		return d.invalidParams(m, "params."+what+" must be a string")
	}
	if tooLong {
		return d.limitErr(m, "params."+what, isName)
	}
	m.Target = Target{Kind: kind, Name: s, Action: action}
	return nil
}

// templateArgs refuses a URI not in normal form (checkResourceURI) and
// sets m.Args from the declared resource template the URI fits
// (uritemplate.go); a refused URI or variable is -32602.
func (d *decoder) templateArgs(m *Message) error {
	if err := checkResourceURI(m.Target.Name); err != nil {
		return d.invalidParams(m, "params.uri: "+err.Error())
	}
	if !d.args.HasResources() {
		return nil
	}
	vals, ok, err := d.args.MatchResource(m.Target.Name)
	if err != nil {
		return d.invalidParams(m, "params.uri: "+err.Error())
	}
	if ok {
		m.Args = vals
	}
	return nil
}

func (d *decoder) completionTarget(m *Message, v *msgView) error {
	b := d.body
	if v.params < 0 || b[v.params] != '{' {
		return d.invalidParams(m, "params must be an object")
	}
	if v.ref < 0 || b[v.ref] != '{' {
		return d.invalidParams(m, "params.ref must be an object")
	}
	if v.refAmbiguous {
		return d.invalidParams(m, "ambiguous params.ref member name")
	}
	t, _ := d.stringField(v.refType)
	switch t {
	case "ref/prompt":
		s, ok, tooLong := d.targetField(v.refName, strEnd{}, true)
		if !ok {
			return d.invalidParams(m, "params.ref.name must be a string")
		}
		if tooLong {
			return d.limitErr(m, "params.ref.name", true)
		}
		m.Target = Target{Kind: TargetPrompt, Name: s, Action: ActionComplete}
	case "ref/resource":
		s, ok, tooLong := d.targetField(v.refURI, strEnd{}, false)
		if !ok {
			return d.invalidParams(m, "params.ref.uri must be a string")
		}
		if tooLong {
			return d.limitErr(m, "params.ref.uri", false)
		}
		m.Target = Target{Kind: TargetResource, Name: s, Action: ActionComplete}
	default:
		return d.invalidParams(m, "params.ref.type must be ref/prompt or ref/resource")
	}
	return nil
}

// checkMeta enforces the per-request protocol version in
// params._meta["io.modelcontextprotocol/protocolVersion"]: when it is a
// non-empty string it must equal the effective version, and 2026-07-28 calls
// must carry it.
func (d *decoder) checkMeta(m *Message, v *msgView) error {
	b := d.body
	var metaVersion []byte
	var buf [64]byte
	if v.meta >= 0 && b[v.meta] == '{' && v.metaVersion >= 0 && b[v.metaVersion] == '"' {
		metaVersion = rawString(b, v.metaVersion, buf[:0])
	}
	if len(metaVersion) > 0 && string(metaVersion) != d.version {
		e := newErr(ErrHeaderMismatch, "Header mismatch: MCP-Protocol-Version header value does not match _meta protocol version", nil)
		e.ID = m.ID
		return e
	}
	if len(metaVersion) == 0 && m.Kind == KindRequest && d.v20260728 {
		return d.invalidParams(m, `missing or invalid _meta field "`+metaProtocolVersion+`"`)
	}
	return nil
}

// internMethod returns a constant string for known methods (no allocation).
func internMethod(s []byte) string {
	switch string(s) {
	case "tools/call":
		return "tools/call"
	case "tools/list":
		return "tools/list"
	case "resources/read":
		return "resources/read"
	case "resources/list":
		return "resources/list"
	case "resources/templates/list":
		return "resources/templates/list"
	case "resources/subscribe":
		return "resources/subscribe"
	case "resources/unsubscribe":
		return "resources/unsubscribe"
	case "prompts/get":
		return "prompts/get"
	case "prompts/list":
		return "prompts/list"
	case "completion/complete":
		return "completion/complete"
	case "initialize":
		return "initialize"
	case "ping":
		return "ping"
	case "server/discover":
		return "server/discover"
	case "notifications/initialized":
		return "notifications/initialized"
	case "notifications/cancelled":
		return "notifications/cancelled"
	case "notifications/progress":
		return "notifications/progress"
	}
	return string(s)
}
