package jose

import (
	"encoding/json"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/mcpauthz/mcpauthz/internal/strictjson"
)

// DecodeJSON validates data with internal/strictjson (valid UTF-8, no
// duplicate or case-variant keys, no trailing data, bounded depth) and then
// decodes it case-sensitively into plain Go values: map[string]any, []any,
// string, json.Number, bool and nil. Numbers are never converted to float64.
func DecodeJSON(data []byte) (any, error) {
	if err := strictjson.Validate(data, strictjson.Options{}); err != nil {
		return nil, err
	}
	return decodeValidated(data, 8), nil
}

// decodeValidated decodes JSON text that strictjson.Validate accepted. All
// strings without escapes share one copy of data.
func decodeValidated(data []byte, topHint int) any {
	var stack [16]any
	d := decoder{data: data, s: string(data), topHint: topHint, scratch: stack[:0]}
	d.ws()
	d.start = d.pos
	return d.value()
}

// decodeObject is DecodeJSON for a value that must be a JSON object.
func decodeObject(data []byte) (map[string]any, error) {
	v, err := DecodeJSON(data)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a JSON object")
	}
	return m, nil
}

// decoder walks JSON text that strictjson.Validate has accepted. It never
// indexes out of range even on invalid input (it then returns junk values),
// so a bug in the validator cannot become a panic.
type decoder struct {
	data  []byte
	s     string // string(data), sliced for escape-free strings and numbers
	pos   int
	start int // offset of the top-level value
	// topHint sizes the top-level object's map.
	topHint int
	// scratch is a stack for array elements being collected.
	scratch []any
}

func (d *decoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

func (d *decoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) value() any {
	switch c := d.peek(); c {
	case '{':
		return d.object(d.pos == d.start)
	case '[':
		return d.array()
	case '"':
		return d.str()
	case 't':
		d.pos += 4
		return true
	case 'f':
		d.pos += 5
		return false
	case 'n':
		d.pos += 4
		return nil
	default:
		start := d.pos
		for d.pos < len(d.data) {
			c := d.data[d.pos]
			if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
				d.pos++
				continue
			}
			break
		}
		if d.pos == start { // invalid input: make progress
			d.pos = len(d.data)
		}
		return json.Number(d.s[start:d.pos])
	}
}

func (d *decoder) object(top bool) map[string]any {
	d.pos++ // '{'
	hint := 4
	if top {
		hint = d.topHint
	}
	m := make(map[string]any, hint)
	d.ws()
	if d.peek() == '}' {
		d.pos++
		return m
	}
	for d.pos < len(d.data) {
		d.ws()
		k := d.str()
		d.ws()
		d.pos++ // ':'
		d.ws()
		m[k] = d.value()
		d.ws()
		c := d.peek()
		d.pos++
		if c != ',' {
			break
		}
	}
	return m
}

// array collects elements on a scratch stack shared by nested arrays and
// then copies them into one exactly sized slice.
func (d *decoder) array() []any {
	d.pos++ // '['
	d.ws()
	if d.peek() == ']' {
		d.pos++
		return []any{}
	}
	base := len(d.scratch)
	for d.pos < len(d.data) {
		d.ws()
		v := d.value()
		d.scratch = append(d.scratch, v)
		d.ws()
		c := d.peek()
		d.pos++
		if c != ',' {
			break
		}
	}
	a := make([]any, len(d.scratch)-base)
	copy(a, d.scratch[base:])
	clear(d.scratch[base:])
	d.scratch = d.scratch[:base]
	return a
}

func (d *decoder) str() string {
	if d.peek() != '"' {
		d.pos = len(d.data)
		return ""
	}
	d.pos++
	start := d.pos
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c == '"' {
			s := d.s[start:d.pos]
			d.pos++
			return s
		}
		if c == '\\' {
			return d.slowStr(start)
		}
		d.pos++
	}
	return d.s[start:]
}

func (d *decoder) slowStr(start int) string {
	b := make([]byte, 0, d.pos-start+16)
	b = append(b, d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return string(b)
		case c != '\\':
			b = append(b, c)
			d.pos++
			continue
		}
		if d.pos+1 >= len(d.data) {
			d.pos = len(d.data)
			break
		}
		e := d.data[d.pos+1]
		d.pos += 2
		switch e {
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r := d.hex4()
			if utf16.IsSurrogate(r) && d.pos+1 < len(d.data) && d.data[d.pos] == '\\' && d.data[d.pos+1] == 'u' {
				d.pos += 2
				r = utf16.DecodeRune(r, d.hex4())
			}
			b = utf8.AppendRune(b, r)
		default: // '"', '\\', '/'
			b = append(b, e)
		}
	}
	return string(b)
}

func (d *decoder) hex4() rune {
	var r rune
	for i := 0; i < 4 && d.pos < len(d.data); i++ {
		c := d.data[d.pos]
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		}
		d.pos++
	}
	return r
}
