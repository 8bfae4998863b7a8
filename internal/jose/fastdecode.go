package jose

import (
	"encoding/binary"
	"encoding/json"
	"unicode/utf8"
)

// Single-pass strict decoding of the common case.
//
// strictjson.Validate followed by decodeValidated reads a claims set twice.
// fastDecoder does both in one pass for the subset of JSON that access
// tokens use in practice: object keys that are ASCII without escapes,
// strings without escapes, at most fastMaxKeys members per object and
// fastMaxDepth levels of nesting. Within that subset it enforces every rule
// of strictjson (grammar, valid UTF-8, no control characters in strings, no
// duplicate or case-variant keys, no trailing data). On anything else, valid
// or not, it gives up (ok == false) and the caller falls back to
// strictjson.Validate + decodeValidated, which either accepts the input with
// the same result or reports the precise error. So the fast path can only
// accept what the slow path accepts, and builds the same values
// (FuzzFastDecode checks both properties).

const (
	// fastMaxKeys bounds the pairwise duplicate check per object.
	fastMaxKeys = 64
	// fastMaxDepth is well below strictjson.DefaultMaxDepth.
	fastMaxDepth = 32
)

type fastDecoder struct {
	data []byte
	s    string // string(data); strings and numbers are substrings
	pos  int
}

// decodeStrictObject decodes data as a strict JSON object in one pass; ok is
// false when the input is outside the fast subset or invalid. text must
// equal string(data): strings in the result are substrings of it.
func decodeStrictObject(data []byte, text string) (m map[string]any, ok bool) {
	if len(text) != len(data) {
		return nil, false
	}
	d := fastDecoder{data: data, s: text}
	d.ws()
	if d.peek() != '{' {
		return nil, false
	}
	m, ok = d.object(1)
	if !ok {
		return nil, false
	}
	d.ws()
	if d.pos != len(d.data) {
		return nil, false
	}
	return m, true
}

func (d *fastDecoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

func (d *fastDecoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *fastDecoder) value(depth int) (any, bool) {
	switch c := d.peek(); {
	case c == '"':
		s, _, ok := d.str()
		return s, ok
	case c == '{':
		if depth >= fastMaxDepth {
			return nil, false
		}
		m, ok := d.object(depth + 1)
		return m, ok
	case c == '[':
		if depth >= fastMaxDepth {
			return nil, false
		}
		a, ok := d.array(depth + 1)
		return a, ok
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, false
}

func (d *fastDecoder) literal(lit string) bool {
	if len(d.s)-d.pos < len(lit) || d.s[d.pos:d.pos+len(lit)] != lit {
		return false
	}
	d.pos += len(lit)
	return true
}

// number enforces the RFC 8259 grammar.
func (d *fastDecoder) number() (any, bool) {
	start := d.pos
	if d.peek() == '-' {
		d.pos++
	}
	switch c := d.peek(); {
	case c == '0':
		d.pos++
	case c >= '1' && c <= '9':
		d.digits()
	default:
		return nil, false
	}
	if d.peek() == '.' {
		d.pos++
		if !d.digits() {
			return nil, false
		}
	}
	if c := d.peek(); c == 'e' || c == 'E' {
		d.pos++
		if c := d.peek(); c == '+' || c == '-' {
			d.pos++
		}
		if !d.digits() {
			return nil, false
		}
	}
	return json.Number(d.s[start:d.pos]), true
}

// digits skips one or more digits, reporting whether there was one.
func (d *fastDecoder) digits() bool {
	start := d.pos
	for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
		d.pos++
	}
	return d.pos > start
}

// str reads a string without escapes or control characters whose bytes
// are valid UTF-8; ascii reports that it is pure ASCII.
func (d *fastDecoder) str() (s string, ascii, ok bool) {
	d.pos++ // opening quote
	start := d.pos
	var high byte
	for {
		for d.pos+8 <= len(d.data) && plainASCII8(binary.LittleEndian.Uint64(d.data[d.pos:])) {
			d.pos += 8
		}
		if d.pos >= len(d.data) {
			return "", false, false
		}
		c := d.data[d.pos]
		switch {
		case c == '"':
			s = d.s[start:d.pos]
			d.pos++
			if high >= utf8.RuneSelf && !utf8.ValidString(s) {
				return "", false, false
			}
			return s, high < utf8.RuneSelf, true
		case c == '\\' || c < 0x20:
			return "", false, false
		}
		high |= c
		d.pos++
	}
}

const (
	ones8  = 0x0101010101010101
	highs8 = 0x8080808080808080
)

// plainASCII8 reports whether the eight bytes in v are all ASCII other than
// '"', '\\' and control characters.
func plainASCII8(v uint64) bool {
	q := v ^ (ones8 * '"')
	b := v ^ (ones8 * '\\')
	m := (q - ones8) &^ q
	m |= (b - ones8) &^ b
	m |= (v - ones8*0x20) &^ v
	m |= v
	return m&highs8 == 0
}

// object collects the members first and then builds an exactly sized map
// (smaller and faster than a guessed size hint).
func (d *fastDecoder) object(depth int) (map[string]any, bool) {
	d.pos++ // '{'
	d.ws()
	if d.peek() == '}' {
		d.pos++
		return map[string]any{}, true
	}
	// Key offsets (ints, so the array stays on the stack) and values.
	var kbuf [16]struct{ start, end int }
	var vbuf [16]any
	keys, vals := kbuf[:0], vbuf[:0]
	for {
		d.ws()
		if d.peek() != '"' {
			return nil, false
		}
		k, ascii, ok := d.str()
		if !ok || !ascii || len(keys) == fastMaxKeys {
			return nil, false
		}
		for _, prev := range keys {
			if prev.end-prev.start == len(k) && equalFoldASCII(d.s[prev.start:prev.end], k) {
				return nil, false // duplicate or case variant
			}
		}
		keys = append(keys, struct{ start, end int }{d.pos - 1 - len(k), d.pos - 1})
		d.ws()
		if d.peek() != ':' {
			return nil, false
		}
		d.pos++
		d.ws()
		v, ok := d.value(depth)
		if !ok {
			return nil, false
		}
		vals = append(vals, v)
		d.ws()
		switch d.peek() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			m := make(map[string]any, len(vals))
			for i, v := range vals {
				m[d.s[keys[i].start:keys[i].end]] = v
			}
			return m, true
		default:
			return nil, false
		}
	}
}

func (d *fastDecoder) array(depth int) ([]any, bool) {
	d.pos++ // '['
	d.ws()
	if d.peek() == ']' {
		d.pos++
		return []any{}, true
	}
	var stack [16]any
	elems := stack[:0]
	for {
		d.ws()
		v, ok := d.value(depth)
		if !ok {
			return nil, false
		}
		elems = append(elems, v)
		d.ws()
		switch d.peek() {
		case ',':
			d.pos++
		case ']':
			d.pos++
			a := make([]any, len(elems))
			copy(a, elems)
			return a, true
		default:
			return nil, false
		}
	}
}

// equalFoldASCII compares two ASCII strings of equal length ignoring case.
func equalFoldASCII(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z' {
			return false
		}
	}
	return true
}
