package inspect

// msgView holds the value offsets (-1 when absent) of the members Inspect
// reads from one message. It is filled either during validation (visitor,
// single messages) or by walking the validated body (walkMessage, batches);
// build turns it into a Message, so both paths share every rule.
type msgView struct {
	jsonrpc, id, method, params int
	ambiguous                   bool // a message member spelled like a protocol member

	name, uri, meta, ref int
	paramsAmbiguous      bool

	metaVersion int // params._meta["io.modelcontextprotocol/protocolVersion"]

	refType, refName, refURI int
	refAmbiguous             bool
}

func newView() msgView {
	return msgView{-1, -1, -1, -1, false, -1, -1, -1, -1, false, -1, -1, -1, -1, false}
}

func foldsToAny(key []byte, keys []string) bool {
	for _, k := range keys {
		if foldsTo(key, k) {
			return true
		}
	}
	return false
}

// messageMember records a member of the message object.
func (v *msgView) messageMember(key []byte, val int) (isParams bool) {
	switch string(key) {
	case "jsonrpc":
		v.jsonrpc = val
	case "id":
		v.id = val
	case "method":
		v.method = val
	case "params":
		v.params = val
		return true
	case "result", "error":
	default:
		if foldsToAny(key, messageKeys[:]) {
			v.ambiguous = true
		}
	}
	return false
}

// paramsMember records a member of params; sub is 1 for _meta, 2 for ref.
func (v *msgView) paramsMember(key []byte, val int) (sub int) {
	switch string(key) {
	case "name":
		v.name = val
	case "uri":
		v.uri = val
	case "_meta":
		v.meta = val
		return 1
	case "ref":
		v.ref = val
		return 2
	default:
		if foldsToAny(key, paramKeys[:]) {
			v.paramsAmbiguous = true
		}
	}
	return 0
}

func (v *msgView) metaMember(key []byte, val int) {
	if string(key) == metaProtocolVersion {
		v.metaVersion = val
	}
}

func (v *msgView) refMember(key []byte, val int) {
	switch string(key) {
	case "type":
		v.refType = val
	case "name":
		v.refName = val
	case "uri":
		v.refURI = val
	default:
		if foldsToAny(key, refKeys[:]) {
			v.refAmbiguous = true
		}
	}
}

// visitor fills a msgView during strictjson validation of a single message
// (VisitDepth 3: message, params, params._meta / params.ref).
type visitor struct {
	v        msgView
	inParams bool // the last depth-1 member is params
	sub      int  // the last depth-2 member of params: 1 _meta, 2 ref
}

// VisitMember implements strictjson.Visitor.
func (x *visitor) VisitMember(depth int, key []byte, val int) {
	switch depth {
	case 1:
		x.inParams = x.v.messageMember(key, val)
		x.sub = 0
	case 2:
		if x.inParams {
			x.sub = x.v.paramsMember(key, val)
		}
	case 3:
		if !x.inParams {
			return
		}
		switch x.sub {
		case 1:
			x.v.metaMember(key, val)
		case 2:
			x.v.refMember(key, val)
		}
	}
}

// walkMessage fills a msgView for the object at start by walking the
// validated body.
func (d *decoder) walkMessage(start int) msgView {
	b := d.body
	v := newView()
	var kbuf [64]byte
	each := func(obj int, fn func(key []byte, val int)) {
		it := newObjIter(b, obj)
		for {
			raw, esc, val, ok := it.next()
			if !ok {
				return
			}
			fn(decodedKey(raw, esc, kbuf[:0]), val)
			it.advance(skipValue(b, val))
		}
	}
	each(start, func(key []byte, val int) { v.messageMember(key, val) })
	if v.params >= 0 && b[v.params] == '{' {
		each(v.params, func(key []byte, val int) { v.paramsMember(key, val) })
		if v.meta >= 0 && b[v.meta] == '{' {
			each(v.meta, v.metaMember)
		}
		if v.ref >= 0 && b[v.ref] == '{' {
			each(v.ref, v.refMember)
		}
	}
	return v
}
