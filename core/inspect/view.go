package inspect

import (
	"unicode/utf8"

	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

// msgView holds the value offsets (-1 when absent) of the members Inspect
// reads from one message. The walker fills it during validation (a single
// message, or each object of a batch); build turns it into a Message.
type msgView struct {
	jsonrpc, id, method, params int
	ambiguous                   bool // a message member spelled like a protocol member

	name, uri, meta, ref int
	paramsAmbiguous      bool
	arguments            int // params.arguments

	metaVersion int // params._meta["io.modelcontextprotocol/protocolVersion"]

	refType, refName, refURI int
	refAmbiguous             bool

	// Where the values read on every call end, recorded by the walker so
	// that build does not scan them again (zero: not recorded).
	idEnd                                  int
	jsonrpcEnd, methodEnd, nameEnd, uriEnd strEnd
}

// strEnd is where a string value ends (the index after its closing quote)
// and whether it has escapes; end 0 means not recorded.
type strEnd struct {
	end int
	esc bool
}

// newView returns an empty view: every offset -1.
func newView() msgView { return emptyView }

// emptyView is newView's result, copied rather than built field by field.
// Never written.
var emptyView = msgView{jsonrpc: -1, id: -1, method: -1, params: -1, name: -1, uri: -1, meta: -1, ref: -1,
	arguments: -1, metaVersion: -1, refType: -1, refName: -1, refURI: -1}

func foldsToAny(key []byte, keys []string) bool {
	for _, k := range keys {
		if foldsTo(key, k) {
			return true
		}
	}
	return false
}

// walker validates a body with jsonscan's rules and, in the same pass,
// fills the msgView of each message: one specialised walk of the JSON-RPC
// envelope (message, params, params._meta and params.ref members) with no
// visitor indirection; every other value is validated and skipped.
type walker struct {
	c jsonscan.Scanner
}

// body walks a whole body: a single message into v, or, when it is an
// array, one view per element object appended to views (batch reports
// which). Non-object elements are validated and skipped; the batch rules
// refuse them afterwards.
//
// The common single message is first tried by quickWalk, in one tight
// pass; anything it does not handle is walked again here from the start.
func (w *walker) body(body []byte, maxDepth int, v *msgView, views *[]msgView) (batch bool, err error) {
	if quickWalk(body, maxDepth, v) {
		return false, nil
	}
	*v = newView()
	return w.walk(body, maxDepth, v, views)
}

// walk is body without quickWalk.
func (w *walker) walk(body []byte, maxDepth int, v *msgView, views *[]msgView) (batch bool, err error) {
	w.c.Reset(body, maxDepth)
	switch w.c.Peek() {
	case '{':
		err = w.message(v, 0)
	case '[':
		batch = true
		err = w.batch(views)
	default:
		err = w.c.Value(0)
	}
	if err != nil {
		return batch, err
	}
	return batch, w.c.Finish()
}

func (w *walker) batch(views *[]msgView) error {
	var a jsonscan.Array
	if err := w.c.OpenArray(&a, 0); err != nil {
		return err
	}
	for {
		more, err := w.c.NextElement(&a)
		if !more || err != nil {
			return err
		}
		if w.c.Peek() != '{' {
			if err := w.c.Value(1); err != nil {
				return err
			}
			continue
		}
		*views = append(*views, newView())
		if err := w.message(&(*views)[len(*views)-1], 1); err != nil {
			return err
		}
	}
}

// message walks the message object at the scanner; depth is its
// container's (0 for a single message, 1 in a batch).
func (w *walker) message(v *msgView, depth int) error {
	var o jsonscan.Object
	if err := w.c.OpenObject(&o, depth); err != nil {
		return err
	}
	depth++
	for {
		key, more, err := w.c.NextMember(&o)
		if !more || err != nil {
			return err
		}
		at := w.c.Pos()
		switch string(key) {
		case "jsonrpc":
			v.jsonrpc = at
			if w.c.Peek() == '"' {
				if v.jsonrpcEnd, err = w.str(); err != nil {
					return err
				}
				continue
			}
		case "id":
			v.id = at
			if err := w.c.Value(depth); err != nil {
				return err
			}
			v.idEnd = w.c.Pos()
			continue
		case "method":
			v.method = at
			if w.c.Peek() == '"' {
				if v.methodEnd, err = w.str(); err != nil {
					return err
				}
				continue
			}
		case "params":
			v.params = at
			if w.c.Peek() == '{' {
				if err := w.params(v, depth); err != nil {
					return err
				}
				continue
			}
		case "result", "error":
		default:
			if foldsToAny(key, messageKeys[:]) {
				v.ambiguous = true
			}
		}
		if err := w.c.Value(depth); err != nil {
			return err
		}
	}
}

// str reads the string value at the scanner and says where it ends.
func (w *walker) str() (strEnd, error) {
	_, esc, err := w.c.String()
	return strEnd{end: w.c.Pos(), esc: esc}, err
}

// params walks the params object.
func (w *walker) params(v *msgView, depth int) error {
	var o jsonscan.Object
	if err := w.c.OpenObject(&o, depth); err != nil {
		return err
	}
	depth++
	for {
		key, more, err := w.c.NextMember(&o)
		if !more || err != nil {
			return err
		}
		at := w.c.Pos()
		switch string(key) {
		case "name":
			v.name = at
			if w.c.Peek() == '"' {
				if v.nameEnd, err = w.str(); err != nil {
					return err
				}
				continue
			}
		case "uri":
			v.uri = at
			if w.c.Peek() == '"' {
				if v.uriEnd, err = w.str(); err != nil {
					return err
				}
				continue
			}
		case "_meta":
			v.meta = at
			if w.c.Peek() == '{' {
				if err := w.meta(v, depth); err != nil {
					return err
				}
				continue
			}
		case "ref":
			v.ref = at
			if w.c.Peek() == '{' {
				if err := w.ref(v, depth); err != nil {
					return err
				}
				continue
			}
		case "arguments":
			v.arguments = at
		default:
			if foldsToAny(key, paramKeys[:]) {
				v.paramsAmbiguous = true
			}
		}
		if err := w.c.Value(depth); err != nil {
			return err
		}
	}
}

// meta walks params._meta.
func (w *walker) meta(v *msgView, depth int) error {
	var o jsonscan.Object
	if err := w.c.OpenObject(&o, depth); err != nil {
		return err
	}
	depth++
	for {
		key, more, err := w.c.NextMember(&o)
		if !more || err != nil {
			return err
		}
		if string(key) == metaProtocolVersion {
			v.metaVersion = w.c.Pos()
		}
		if err := w.c.Value(depth); err != nil {
			return err
		}
	}
}

// ref walks params.ref.
func (w *walker) ref(v *msgView, depth int) error {
	var o jsonscan.Object
	if err := w.c.OpenObject(&o, depth); err != nil {
		return err
	}
	depth++
	for {
		key, more, err := w.c.NextMember(&o)
		if !more || err != nil {
			return err
		}
		at := w.c.Pos()
		switch string(key) {
		case "type":
			v.refType = at
		case "name":
			v.refName = at
		case "uri":
			v.refURI = at
		default:
			if foldsToAny(key, refKeys[:]) {
				v.refAmbiguous = true
			}
		}
		if err := w.c.Value(depth); err != nil {
			return err
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
