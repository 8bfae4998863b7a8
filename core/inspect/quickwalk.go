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
// params._meta's progressToken.
var (
	messageKeyBits   = foldBits(messageKeys[:]...)
	paramKeyBits     = foldBits(paramKeys[:]...)
	bitProgressToken = foldBits("progressToken")
)

func foldBits(keys ...string) uint64 {
	var m uint64
	for _, k := range keys {
		m |= jsonscan.FoldBit([]byte(k))
	}
	return m
}

// The members the quick walk matches as literals: the index of the name in
// messageKeys or paramKeys, or keyOther.
const (
	keyJSONRPC = iota
	keyID
	keyMethod
	keyParams
	keyResult
	keyError
)

const (
	keyName = iota
	keyURI
	keyMeta
	keyRef
	keyArguments
)

const keyOther = -1

// A literal member's duplicate check. The quick walk matches the envelope's
// members as literals, so it checks their keys with one bit each in lit
// (bit k for the name at index k of messageKeys or paramKeys, or bit 0 for
// progressToken) instead of the fold bits and spans of a QuickObject, which
// only hold the object's other keys. The two sets stay exact together:
// two literals clash only when they are the same name (the names differ
// under case folding); a literal and another key clash only when the
// other key is a case variant of the name (a plain key equal to the name
// is always matched as the literal), and seen marks the name's bit for
// that variant too, so that whichever comes second gives up; two other
// keys clash in the QuickObject.

// seen marks bit k of lit and reports false when it was already set: the
// name or a case variant of it came before, which the walker refuses.
func seen(lit *uint32, k int) bool {
	bit := uint32(1) << (k & 31) // (k < 6: the mask only spares the shift's range check)
	if *lit&bit != 0 {
		return false
	}
	*lit |= bit
	return true
}

// foldIndex returns the index of the name in keys that key is a case
// variant of (see foldsTo), or -1.
func foldIndex(key []byte, keys []string) int {
	for i, k := range keys {
		if foldsTo(key, k) {
			return i
		}
	}
	return -1
}

// str reads the string value at i when it is plain: its end, or -1.
func (q *quick) str(i int, e *strEnd) int {
	end := jsonscan.QuickString(q.b, i)
	e.end = end
	return end
}

// messageKey matches the key at b[i] == '"' against the message members
// (the key with its quotes, by its first letter): it returns which and the
// index of its value (-1: no ':' follows), or keyOther. A plain key equal
// to a member name always matches: keyOther means another key.
func (q *quick) messageKey(i int) (k, at int) {
	b := q.b
	n := len(b) - i
	if n < 4 {
		return keyOther, 0
	}
	k = keyOther
	var ke int // the closing quote
	switch b[i+1] {
	case 'j':
		if n >= 9 && string(b[i:i+9]) == `"jsonrpc"` {
			k, ke = keyJSONRPC, i+8
		}
	case 'i':
		if string(b[i:i+4]) == `"id"` {
			k, ke = keyID, i+3
		}
	case 'm':
		if n >= 8 && string(b[i:i+8]) == `"method"` {
			k, ke = keyMethod, i+7
		}
	case 'p':
		if n >= 8 && string(b[i:i+8]) == `"params"` {
			k, ke = keyParams, i+7
		}
	case 'r':
		if n >= 8 && string(b[i:i+8]) == `"result"` {
			k, ke = keyResult, i+7
		}
	case 'e':
		if n >= 7 && string(b[i:i+7]) == `"error"` {
			k, ke = keyError, i+6
		}
	}
	if k == keyOther {
		return keyOther, 0
	}
	if j := ke + 1; j+1 < len(b) && b[j] == ':' && b[j+1] > ' ' {
		return k, j + 1 // compact text
	}
	return k, jsonscan.QuickColon(b, ke+1)
}

// paramsKey is messageKey for the params members; keyRef's value index is
// not read.
func (q *quick) paramsKey(i int) (k, at int) {
	b := q.b
	n := len(b) - i
	if n < 5 {
		return keyOther, 0
	}
	k = keyOther
	var ke int
	switch b[i+1] {
	case 'n':
		if n >= 6 && string(b[i:i+6]) == `"name"` {
			k, ke = keyName, i+5
		}
	case 'u':
		if string(b[i:i+5]) == `"uri"` {
			k, ke = keyURI, i+4
		}
	case '_':
		if n >= 7 && string(b[i:i+7]) == `"_meta"` {
			k, ke = keyMeta, i+6
		}
	case 'a':
		if n >= 11 && string(b[i:i+11]) == `"arguments"` {
			k, ke = keyArguments, i+10
		}
	case 'r':
		if string(b[i:i+5]) == `"ref"` {
			return keyRef, 0
		}
	}
	if k == keyOther {
		return keyOther, 0
	}
	if j := ke + 1; j+1 < len(b) && b[j] == ':' && b[j+1] > ' ' {
		return k, j + 1 // compact text
	}
	return k, jsonscan.QuickColon(b, ke+1)
}

// message walks the message object at b[i] == '{' (depth 0) and returns
// the index after it, or -1.
func (q *quick) message(i int, v *msgView) int {
	b := q.b
	i, end := jsonscan.QuickOpen(b, i)
	if i < 0 {
		return end
	}
	var o jsonscan.QuickObject // the other keys
	var lit uint32
	for {
		var k, at int
		if len(b)-i >= 11 {
			// messageKey inline for its common members, where each
			// fits with its ':' and the next byte (`"jsonrpc":x`): a
			// call spills every value live in this loop.
			k = keyOther
			var ke int
			switch b[i+1] {
			case 'j':
				if string(b[i:i+9]) == `"jsonrpc"` {
					k, ke = keyJSONRPC, i+8
				}
			case 'i':
				if string(b[i:i+4]) == `"id"` {
					k, ke = keyID, i+3
				}
			case 'm':
				if string(b[i:i+8]) == `"method"` {
					k, ke = keyMethod, i+7
				}
			case 'p':
				if string(b[i:i+8]) == `"params"` {
					k, ke = keyParams, i+7
				}
			}
			switch {
			case k == keyOther:
				k, at = q.messageKey(i) // result, error or another key
			case b[ke+1] == ':' && b[ke+2] > ' ':
				at = ke + 2 // compact text
			default:
				at = jsonscan.QuickColon(b, ke+1)
			}
		} else {
			k, at = q.messageKey(i)
		}
		if k != keyOther {
			if !seen(&lit, k) {
				return -1
			}
		} else {
			var key []byte
			var bit uint64
			if key, bit, at = o.Key(b, i); at >= 0 && bit&messageKeyBits != 0 {
				if f := foldIndex(key, messageKeys[:]); f >= 0 {
					v.ambiguous = true
					if !seen(&lit, f) {
						return -1
					}
				}
			}
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
		default:
			i = jsonscan.QuickValue(b, at, 1, q.max)
		}
		if i >= 0 && i+1 < len(b) && b[i] == ',' && b[i+1] == '"' {
			i++ // compact text: QuickNext without the call
			continue
		}
		if i >= 0 && i < len(b) && b[i] == '}' {
			return i + 1 // the object's end, as QuickNext reads it
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
	var o jsonscan.QuickObject // the other keys
	var lit uint32
	for {
		var k, at int
		if len(b)-i >= 13 {
			// paramsKey inline, where each member fits with its ':'
			// and the next byte (`"arguments":x`), as in message.
			k = keyOther
			var ke int
			switch b[i+1] {
			case 'n':
				if string(b[i:i+6]) == `"name"` {
					k, ke = keyName, i+5
				}
			case 'u':
				if string(b[i:i+5]) == `"uri"` {
					k, ke = keyURI, i+4
				}
			case '_':
				if string(b[i:i+7]) == `"_meta"` {
					k, ke = keyMeta, i+6
				}
			case 'a':
				if string(b[i:i+11]) == `"arguments"` {
					k, ke = keyArguments, i+10
				}
			}
			switch {
			case k == keyOther:
				k, at = q.paramsKey(i) // ref or another key
			case b[ke+1] == ':' && b[ke+2] > ' ':
				at = ke + 2 // compact text
			default:
				at = jsonscan.QuickColon(b, ke+1)
			}
		} else {
			k, at = q.paramsKey(i)
		}
		switch k {
		case keyOther:
			var key []byte
			var bit uint64
			if key, bit, at = o.Key(b, i); at >= 0 && bit&paramKeyBits != 0 {
				if f := foldIndex(key, paramKeys[:]); f >= 0 {
					v.paramsAmbiguous = true
					if !seen(&lit, f) {
						return -1
					}
				}
			}
		case keyRef:
			return -1 // completion/complete: the walker's
		default:
			if !seen(&lit, k) {
				return -1
			}
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
			i = jsonscan.QuickValue(b, at, 2, q.max)
		}
		if i >= 0 && i+1 < len(b) && b[i] == ',' && b[i+1] == '"' {
			i++ // compact text: QuickNext without the call
			continue
		}
		if i >= 0 && i < len(b) && b[i] == '}' {
			return i + 1 // the object's end, as QuickNext reads it
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
	var o jsonscan.QuickObject // the keys other than progressToken
	var lit uint32
	for {
		var at int
		if len(b)-i >= 15 && string(b[i:i+15]) == `"progressToken"` {
			// The usual _meta member (a tools/call's), matched as a
			// literal like the envelope's members.
			if !seen(&lit, 0) {
				return -1
			}
			if j := i + 15; j+1 < len(b) && b[j] == ':' && b[j+1] > ' ' {
				at = j + 1 // compact text
			} else {
				at = jsonscan.QuickColon(b, j)
			}
		} else {
			var key []byte
			var bit uint64
			key, bit, at = o.Key(b, i)
			switch {
			case at < 0:
			case string(key) == metaProtocolVersion:
				v.metaVersion = at
			case bit == bitProgressToken && foldsTo(key, "progressToken") && !seen(&lit, 0):
				return -1
			}
		}
		if at < 0 {
			return -1
		}
		if i = -1; at < len(b) && b[at] == '"' {
			i = jsonscan.QuickString(b, at) // the usual progressToken
		}
		if i < 0 {
			i = jsonscan.QuickValue(b, at, 3, q.max)
		}
		if i >= 0 && i+1 < len(b) && b[i] == ',' && b[i+1] == '"' {
			i++ // compact text: QuickNext without the call
			continue
		}
		if i >= 0 && i < len(b) && b[i] == '}' {
			return i + 1 // the object's end, as QuickNext reads it
		}
		var more bool
		if i, more = jsonscan.QuickNext(b, i); !more {
			return i
		}
	}
}
