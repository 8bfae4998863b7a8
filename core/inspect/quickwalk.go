package inspect

import "github.com/mcpauthz/mcpauthz/internal/jsonscan"

// quickWalk is the walker's fast path for the common body: one message
// object whose keys are plain ASCII, whose jsonrpc, method, name and uri
// strings have no escape or non-ASCII byte, with no params.ref, nested
// less deep than the fast skipper's limits. It validates and fills v in one
// pass over a local index, with jsonscan's quick helpers, and reports false
// on anything else; the walker then walks the body again from the start
// (walker.body), so that what is accepted or refused, and every error, is
// the walker's alone. When it reports true, v is exactly what the walker
// would have filled and the walker would have accepted the body as a single
// message (FuzzQuickWalk).
func quickWalk(body []byte, maxDepth int, v *msgView) bool {
	if maxDepth <= 0 {
		maxDepth = jsonscan.DefaultMaxDepth
	}
	if maxDepth < 4 {
		return false // _meta's members are at depth 3: leave small limits to the walker
	}
	i := jsonscan.SkipWS(body, 0)
	if i >= len(body) || body[i] != '{' {
		return false
	}
	q := quick{b: body, max: maxDepth}
	if i = q.message(i, v); i < 0 {
		return false
	}
	return jsonscan.SkipWS(body, i) == len(body)
}

// quick is the state of one quickWalk.
type quick struct {
	b   []byte
	max int
}

// Fold bits of the member names a key must not fold to (view.go), and of
// the member names the quick walk matches as literals.
var (
	messageKeyBits = foldBits(messageKeys[:]...)
	paramKeyBits   = foldBits(paramKeys[:]...)

	bitJSONRPC, bitID, bitMethod, bitParams = foldBits("jsonrpc"), foldBits("id"), foldBits("method"), foldBits("params")
	bitResult, bitError                     = foldBits("result"), foldBits("error")
	bitName, bitURI, bitMeta, bitArguments  = foldBits("name"), foldBits("uri"), foldBits("_meta"), foldBits("arguments")
	bitProgressToken                        = foldBits("progressToken")
)

func foldBits(keys ...string) uint64 {
	var m uint64
	for _, k := range keys {
		m |= jsonscan.FoldBit([]byte(k))
	}
	return m
}

// The members the quick walk matches as literals.
const (
	keyOther = iota
	keyJSONRPC
	keyID
	keyMethod
	keyParams
	keyResult // or "error"
	keyName
	keyURI
	keyMeta
	keyRef
	keyArguments
)

// str reads the string value at i when it is plain: its end, or -1.
func (q *quick) str(i int, e *strEnd) int {
	end := jsonscan.QuickString(q.b, i)
	e.end = end
	return end
}

// messageKey matches the key at b[i] == '"' against the message members
// (the key with its quotes, by its first letter): it returns which, the
// index of its closing quote and its fold bit, or keyOther. A plain key
// equal to a member name always matches: keyOther means another key.
func (q *quick) messageKey(i int) (k, ke int, bit uint64) {
	b := q.b
	n := len(b) - i
	if n < 4 {
		return keyOther, 0, 0
	}
	switch b[i+1] {
	case 'j':
		if n >= 9 && string(b[i:i+9]) == `"jsonrpc"` {
			return keyJSONRPC, i + 8, bitJSONRPC
		}
	case 'i':
		if n >= 4 && string(b[i:i+4]) == `"id"` {
			return keyID, i + 3, bitID
		}
	case 'm':
		if n >= 8 && string(b[i:i+8]) == `"method"` {
			return keyMethod, i + 7, bitMethod
		}
	case 'p':
		if n >= 8 && string(b[i:i+8]) == `"params"` {
			return keyParams, i + 7, bitParams
		}
	case 'r':
		if n >= 8 && string(b[i:i+8]) == `"result"` {
			return keyResult, i + 7, bitResult
		}
	case 'e':
		if n >= 7 && string(b[i:i+7]) == `"error"` {
			return keyResult, i + 6, bitError
		}
	}
	return keyOther, 0, 0
}

// paramsKey is messageKey for the params members.
func (q *quick) paramsKey(i int) (k, ke int, bit uint64) {
	b := q.b
	n := len(b) - i
	if n < 5 {
		return keyOther, 0, 0
	}
	switch b[i+1] {
	case 'n':
		if n >= 6 && string(b[i:i+6]) == `"name"` {
			return keyName, i + 5, bitName
		}
	case 'u':
		if n >= 5 && string(b[i:i+5]) == `"uri"` {
			return keyURI, i + 4, bitURI
		}
	case '_':
		if n >= 7 && string(b[i:i+7]) == `"_meta"` {
			return keyMeta, i + 6, bitMeta
		}
	case 'a':
		if n >= 11 && string(b[i:i+11]) == `"arguments"` {
			return keyArguments, i + 10, bitArguments
		}
	case 'r':
		if n >= 5 && string(b[i:i+5]) == `"ref"` {
			return keyRef, 0, 0
		}
	}
	return keyOther, 0, 0
}

// message walks the message object at b[i] == '{' (depth 0) and returns
// the index after it, or -1.
func (q *quick) message(i int, v *msgView) int {
	b := q.b
	i, end := jsonscan.QuickOpen(b, i)
	if i < 0 {
		return end
	}
	var o jsonscan.QuickObject
	for {
		var at int
		var key []byte
		k, ke, bit := q.messageKey(i)
		if k != keyOther {
			at = o.Known(b, i, ke, bit)
		} else {
			key, bit, at = o.Key(b, i)
		}
		if at < 0 || at >= len(b) {
			return -1
		}
		switch k {
		case keyJSONRPC:
			v.jsonrpc = at
			if len(b)-at >= 5 && string(b[at:at+5]) == `"2.0"` {
				i = at + 5 // the one valid value, without QuickString
				v.jsonrpcEnd.end = i
			} else if b[at] == '"' {
				i = q.str(at, &v.jsonrpcEnd)
			} else {
				i = jsonscan.QuickValue(b, at, 1, q.max)
			}
		case keyID:
			v.id = at
			i = jsonscan.QuickInteger(b, at)
			if i < 0 {
				i = jsonscan.QuickValue(b, at, 1, q.max)
			}
			v.idEnd = i
		case keyMethod:
			v.method = at
			if b[at] == '"' {
				i = q.str(at, &v.methodEnd)
			} else {
				i = jsonscan.QuickValue(b, at, 1, q.max)
			}
		case keyParams:
			v.params = at
			if b[at] == '{' {
				i = q.params(at, v)
			} else {
				i = jsonscan.QuickValue(b, at, 1, q.max)
			}
		case keyResult:
			i = jsonscan.QuickValue(b, at, 1, q.max)
		default:
			if bit&messageKeyBits != 0 && foldsToAny(key, messageKeys[:]) {
				v.ambiguous = true
			}
			i = jsonscan.QuickValue(b, at, 1, q.max)
		}
		if i >= 0 && i+1 < len(b) && b[i] == ',' && b[i+1] == '"' {
			i++ // compact text: QuickNext without the call
			continue
		}
		var more bool
		if i, more = jsonscan.QuickNext(b, i); !more {
			return i
		}
	}
}

// params walks the params object at b[i] == '{' (depth 1).
func (q *quick) params(i int, v *msgView) int {
	b := q.b
	i, end := jsonscan.QuickOpen(b, i)
	if i < 0 {
		return end
	}
	var o jsonscan.QuickObject
	for {
		var at int
		var key []byte
		k, ke, bit := q.paramsKey(i)
		switch k {
		case keyOther:
			key, bit, at = o.Key(b, i)
		case keyRef:
			return -1 // completion/complete: the walker's
		default:
			at = o.Known(b, i, ke, bit)
		}
		if at < 0 || at >= len(b) {
			return -1
		}
		switch k {
		case keyName:
			v.name = at
			if b[at] == '"' {
				i = q.str(at, &v.nameEnd)
			} else {
				i = jsonscan.QuickValue(b, at, 2, q.max)
			}
		case keyURI:
			v.uri = at
			if b[at] == '"' {
				i = q.str(at, &v.uriEnd)
			} else {
				i = jsonscan.QuickValue(b, at, 2, q.max)
			}
		case keyMeta:
			v.meta = at
			if b[at] == '{' {
				i = q.meta(at, v)
			} else {
				i = jsonscan.QuickValue(b, at, 2, q.max)
			}
		case keyArguments:
			v.arguments = at
			i = jsonscan.QuickValue(b, at, 2, q.max)
		default:
			if bit&paramKeyBits != 0 && foldsToAny(key, paramKeys[:]) {
				v.paramsAmbiguous = true
			}
			i = jsonscan.QuickValue(b, at, 2, q.max)
		}
		if i >= 0 && i+1 < len(b) && b[i] == ',' && b[i+1] == '"' {
			i++ // compact text: QuickNext without the call
			continue
		}
		var more bool
		if i, more = jsonscan.QuickNext(b, i); !more {
			return i
		}
	}
}

// meta walks params._meta at b[i] == '{' (depth 2).
func (q *quick) meta(i int, v *msgView) int {
	b := q.b
	i, end := jsonscan.QuickOpen(b, i)
	if i < 0 {
		return end
	}
	var o jsonscan.QuickObject
	for {
		var at int
		if len(b)-i >= 15 && string(b[i:i+15]) == `"progressToken"` {
			// The usual _meta member (a tools/call's), matched as a
			// literal like the envelope's members.
			at = o.Known(b, i, i+14, bitProgressToken)
		} else {
			var key []byte
			if key, _, at = o.Key(b, i); string(key) == metaProtocolVersion {
				v.metaVersion = at
			}
		}
		if at < 0 {
			return -1
		}
		i = jsonscan.QuickValue(b, at, 3, q.max)
		if i >= 0 && i+1 < len(b) && b[i] == ',' && b[i+1] == '"' {
			i++ // compact text: QuickNext without the call
			continue
		}
		var more bool
		if i, more = jsonscan.QuickNext(b, i); !more {
			return i
		}
	}
}
