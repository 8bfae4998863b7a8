package inspect

import "unicode/utf8"

// msgView holds the value offsets (-1 when absent) of the members Inspect
// reads from one message. It is filled either during validation (visitor,
// single messages and each object of a batch); build turns it into a
// Message.
type msgView struct {
	jsonrpc, id, method, params int
	ambiguous                   bool // a message member spelled like a protocol member

	name, uri, meta, ref int
	paramsAmbiguous      bool
	arguments            int // params.arguments

	metaVersion int // params._meta["io.modelcontextprotocol/protocolVersion"]

	refType, refName, refURI int
	refAmbiguous             bool
}

func newView() msgView {
	return msgView{-1, -1, -1, -1, false, -1, -1, -1, -1, false, -1, -1, -1, -1, -1, false}
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
	case "arguments":
		v.arguments = val
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

// visitor fills msgViews during jsonscan validation: for a single message
// (VisitDepth 3: message, params, params._meta / params.ref) in v, for a
// batch (VisitDepth 4, one level deeper) one view per element object in
// views, in document order.
type visitor struct {
	v        msgView
	batch    bool
	views    []msgView
	inParams bool // the last message member is params
	sub      int  // the last member of params: 1 _meta, 2 ref
}

// VisitObject implements jsonscan.ObjectVisitor: in a batch, each object
// at depth 2 is a new message.
func (x *visitor) VisitObject(depth, _ int) {
	if x.batch && depth == 2 {
		x.views = append(x.views, newView())
		x.inParams, x.sub = false, 0
	}
}

// VisitMember implements jsonscan.Visitor.
func (x *visitor) VisitMember(depth int, key []byte, val int) {
	v := &x.v
	if x.batch {
		if depth == 1 || len(x.views) == 0 { // not reached: arrays have no members
			return
		}
		v = &x.views[len(x.views)-1]
		depth--
	}
	switch depth {
	case 1:
		x.inParams = v.messageMember(key, val)
		x.sub = 0
	case 2:
		if x.inParams {
			x.sub = v.paramsMember(key, val)
		}
	case 3:
		if !x.inParams {
			return
		}
		switch x.sub {
		case 1:
			v.metaMember(key, val)
		case 2:
			v.refMember(key, val)
		}
	}
}

// foldsTo reports whether key equals the ASCII string want under Unicode
// simple case folding without being identical to it: a key a
// case-insensitive decoder (encoding/json) would bind to want. Only the
// non-ASCII runes that fold to ASCII letters (KELVIN SIGN, LONG S) matter.
func foldsTo(key []byte, want string) bool {
	if len(key) < len(want) || len(key) > 3*len(want) || string(key) == want {
		return false
	}
	j := 0
	for i := 0; i < len(key); {
		if j >= len(want) {
			return false
		}
		c := key[i]
		var r rune
		if c < utf8.RuneSelf {
			r = rune(c)
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			i++
		} else {
			var size int
			r, size = utf8.DecodeRune(key[i:])
			i += size
			switch r {
			case 0x212A: // KELVIN SIGN
				r = 'k'
			case 0x017F: // LATIN SMALL LETTER LONG S
				r = 's'
			default:
				return false
			}
		}
		w := rune(want[j])
		if 'A' <= w && w <= 'Z' {
			w += 'a' - 'A'
		}
		if r != w {
			return false
		}
		j++
	}
	return j == len(want)
}
