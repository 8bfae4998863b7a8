package inspect

import (
	"encoding/json"
	"strconv"
)

// decoder decodes JSON-RPC messages from a body that passed
// strictjson.Validate.
type decoder struct {
	body    []byte
	version string
	opts    *Options

	// Set by message for the last message decoded, for header checks.
	metaVersion string
}

// Member names of a JSON-RPC message and of params that a case-insensitive
// decoder could bind to a differently spelled key.
var (
	messageKeys = [...]string{"jsonrpc", "id", "method", "params", "result", "error"}
	paramKeys   = [...]string{"name", "uri", "_meta", "ref"}
	refKeys     = [...]string{"type", "name", "uri"}
)

const metaProtocolVersion = "io.modelcontextprotocol/protocolVersion"

func (d *decoder) batch(start int) ([]Message, error) {
	b := d.body
	i := skipWS(b, start+1)
	if b[i] == ']' {
		return nil, newErr(ErrInvalidRequest, "empty batch", nil)
	}
	var msgs []Message
	for {
		if b[i] != '{' {
			return nil, newErr(ErrInvalidRequest, "batch element must be a JSON-RPC message object", nil)
		}
		m, err := d.message(i)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, m)
		i = skipWS(b, skipValue(b, i))
		if b[i] == ']' {
			return msgs, nil
		}
		i = skipWS(b, i+1) // ','
	}
}

// message decodes the object at start.
func (d *decoder) message(start int) (Message, error) {
	b := d.body
	var (
		m                    Message
		versionOK, hasMethod bool
		params               = -1
		pv                   paramsView
		paramsOK             = true
		kbuf                 [64]byte
	)
	it := newObjIter(b, start)
	for {
		raw, esc, v, ok := it.next()
		if !ok {
			break
		}
		key := decodedKey(raw, esc, kbuf[:0])
		end := -1
		switch string(key) {
		case "jsonrpc":
			if b[v] == '"' {
				s, e := rawString(b, v, kbuf[:0])
				versionOK = string(s) == "2.0"
				end = e
			}
		case "id":
			switch c := b[v]; {
			case c == 'n': // null: a notification for the SDK
			case c == '"':
				end, _ = skipString(b, v)
				m.ID = json.RawMessage(b[v:end])
			case c == '-' || (c >= '0' && c <= '9'):
				end = skipValue(b, v)
				if _, err := strconv.ParseFloat(string(b[v:end]), 64); err != nil {
					return m, newErr(ErrInvalidRequest, "invalid id", err)
				}
				m.ID = json.RawMessage(b[v:end])
			default:
				return m, newErr(ErrInvalidRequest, "id must be a string or a number", nil)
			}
		case "method":
			if b[v] != '"' {
				return m, d.invalid(m, "method must be a non-empty string")
			}
			s, e := rawString(b, v, kbuf[:0])
			if len(s) == 0 {
				return m, d.invalid(m, "method must be a non-empty string")
			}
			m.Method = internMethod(s)
			hasMethod = true
			end = e
		case "params":
			params = v
			if b[v] == '{' {
				pv, end, paramsOK = d.params(v)
			}
		case "result", "error":
		default:
			for _, k := range messageKeys {
				if foldsTo(key, k) {
					return m, d.invalid(m, "ambiguous member name")
				}
			}
		}
		if end < 0 {
			end = skipValue(b, v)
		}
		it.advance(end)
	}
	if !versionOK {
		return m, d.invalid(m, `"jsonrpc" must be "2.0"`)
	}
	switch {
	case hasMethod && m.ID != nil:
		m.Kind = KindRequest
	case hasMethod:
		m.Kind = KindNotification
	case m.ID != nil:
		if d.version >= Version20260728 {
			return m, d.invalid(m, "clients must not send JSON-RPC responses in protocol version "+d.version)
		}
		m.Kind = KindResponse
		m.Target = connectTarget
		return m, nil
	default:
		return m, d.invalid(m, "message has neither method nor id")
	}
	if !paramsOK {
		return m, d.invalidParams(&m, "ambiguous params member name")
	}
	if params < 0 || b[params] != '{' {
		pv = paramsView{-1, -1, -1, -1}
	}
	return m, d.target(&m, params, pv)
}

func (d *decoder) invalid(m Message, msg string) *Error {
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
func rawString(b []byte, i int, buf []byte) ([]byte, int) {
	end, esc := skipString(b, i)
	raw := b[i+1 : end-1]
	if !esc {
		return raw, end
	}
	return unescape(raw, buf), end
}

// paramsView holds the value offsets of the params members Inspect reads
// (-1 when absent).
type paramsView struct {
	name, uri, meta, ref int
}

// params scans the params object at start (b[start] == '{') and returns
// the index after it; ok is false if a member name is ambiguous.
func (d *decoder) params(start int) (p paramsView, end int, ok bool) {
	p = paramsView{-1, -1, -1, -1}
	b := d.body
	var kbuf [64]byte
	it := newObjIter(b, start)
	for {
		raw, esc, v, more := it.next()
		if !more {
			return p, it.end(), true
		}
		key := decodedKey(raw, esc, kbuf[:0])
		switch string(key) {
		case "name":
			p.name = v
		case "uri":
			p.uri = v
		case "_meta":
			p.meta = v
		case "ref":
			p.ref = v
		default:
			for _, k := range paramKeys {
				if foldsTo(key, k) {
					return p, 0, false
				}
			}
		}
		it.advance(skipValue(b, v))
	}
}

// stringField decodes the string value at v; ok is false when absent or
// not a string.
func (d *decoder) stringField(v int) (string, bool) {
	if v < 0 || d.body[v] != '"' {
		return "", false
	}
	s, _ := stringAt(d.body, v)
	return s, true
}

// target sets m.Target from the method and params, and checks the
// per-request _meta protocol version.
func (d *decoder) target(m *Message, paramsAt int, p paramsView) error {
	if err := d.checkMeta(m, p.meta); err != nil {
		return err
	}
	need := func(v int, kind, action, what string) error {
		if paramsAt < 0 || d.body[paramsAt] != '{' {
			return d.invalidParams(m, "params must be an object")
		}
		s, ok := d.stringField(v)
		if !ok {
			return d.invalidParams(m, "params."+what+" must be a string")
		}
		m.Target = Target{Kind: kind, Name: s, Action: action}
		return nil
	}
	switch m.Method {
	case "tools/call":
		return need(p.name, TargetTool, ActionCall, "name")
	case "resources/read":
		return need(p.uri, TargetResource, ActionRead, "uri")
	case "resources/subscribe", "resources/unsubscribe":
		return need(p.uri, TargetResource, ActionSubscribe, "uri")
	case "prompts/get":
		return need(p.name, TargetPrompt, ActionGet, "name")
	case "completion/complete":
		return d.completionTarget(m, paramsAt, p.ref)
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
		if d.opts.AllowUnknownMethods {
			m.Target = connectTarget
			return nil
		}
		e := newErr(ErrUnknownMethod, "Method not found", nil)
		e.ID = m.ID
		if d.version >= Version20260728 && m.Kind == KindRequest {
			e.Status = 404
		}
		return e
	}
	return nil
}

func (d *decoder) completionTarget(m *Message, paramsAt, ref int) error {
	b := d.body
	if paramsAt < 0 || b[paramsAt] != '{' {
		return d.invalidParams(m, "params must be an object")
	}
	if ref < 0 || b[ref] != '{' {
		return d.invalidParams(m, "params.ref must be an object")
	}
	typ, name, uri := -1, -1, -1
	var kbuf [64]byte
	it := newObjIter(b, ref)
	for {
		raw, esc, v, ok := it.next()
		if !ok {
			break
		}
		key := decodedKey(raw, esc, kbuf[:0])
		switch string(key) {
		case "type":
			typ = v
		case "name":
			name = v
		case "uri":
			uri = v
		default:
			for _, k := range refKeys {
				if foldsTo(key, k) {
					return d.invalidParams(m, "ambiguous params.ref member name")
				}
			}
		}
		it.advance(skipValue(b, v))
	}
	t, _ := d.stringField(typ)
	switch t {
	case "ref/prompt":
		s, ok := d.stringField(name)
		if !ok {
			return d.invalidParams(m, "params.ref.name must be a string")
		}
		m.Target = Target{Kind: TargetPrompt, Name: s, Action: ActionComplete}
	case "ref/resource":
		s, ok := d.stringField(uri)
		if !ok {
			return d.invalidParams(m, "params.ref.uri must be a string")
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
func (d *decoder) checkMeta(m *Message, meta int) error {
	d.metaVersion = ""
	b := d.body
	if meta >= 0 && b[meta] == '{' {
		var kbuf [64]byte
		it := newObjIter(b, meta)
		for {
			raw, esc, v, ok := it.next()
			if !ok {
				break
			}
			if string(decodedKey(raw, esc, kbuf[:0])) == metaProtocolVersion && b[v] == '"' {
				s, _ := rawString(b, v, kbuf[:0])
				d.metaVersion = string(s)
			}
			it.advance(skipValue(b, v))
		}
	}
	if d.metaVersion != "" && d.metaVersion != d.version {
		e := newErr(ErrHeaderMismatch, "Header mismatch: MCP-Protocol-Version header value does not match _meta protocol version", nil)
		e.ID = m.ID
		return e
	}
	if d.metaVersion == "" && m.Kind == KindRequest && d.version >= Version20260728 {
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
