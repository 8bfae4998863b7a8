package jsonscan

import (
	"encoding/binary"
)

// The walk helpers below read JSON text that already passed Validate (or
// Decode): they do not re-check the grammar, they only locate values, so
// that offsets kept by a Visitor can be read later without a second
// validation. On valid input every index they return is within len(d); on
// invalid input they never index out of range (they return junk instead).

// SkipWS returns the index of the first non-whitespace byte at or after i.
func SkipWS(d []byte, i int) int {
	for i < len(d) {
		switch d[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// StringEnd returns the index after the string starting at d[i] == '"', and
// whether it contains escapes.
func StringEnd(d []byte, i int) (end int, escaped bool) {
	j := i + 1
	for {
		// Eight bytes at a time while none is '"' or '\\'.
		for j+8 <= len(d) && !quoteOrBackslash8(binary.LittleEndian.Uint64(d[j:])) {
			j += 8
		}
		if j >= len(d) {
			return len(d), escaped
		}
		switch d[j] {
		case '"':
			return j + 1, escaped
		case '\\':
			escaped = true
			j += 2
		default:
			j++
		}
	}
}

// quoteOrBackslash8 reports whether one of the eight bytes in v is '"' or
// '\\'.
func quoteOrBackslash8(v uint64) bool {
	q := v ^ (ones * '"')
	b := v ^ (ones * '\\')
	return ((q-ones)&^q|(b-ones)&^b)&highs != 0
}

// structural marks the bytes ValueEnd must look at inside containers.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

// ValueEnd returns the index after the value starting at d[i].
func ValueEnd(d []byte, i int) int {
	if i >= len(d) {
		return i
	}
	switch d[i] {
	case '"':
		end, _ := StringEnd(d, i)
		return end
	case '{', '[':
		depth := 0
		for i < len(d) {
			for i < len(d) && !structural[d[i]] {
				i++
			}
			if i >= len(d) {
				break
			}
			switch d[i] {
			case '"':
				i, _ = StringEnd(d, i)
				continue
			case '{', '[':
				depth++
			default: // '}', ']'
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	default: // number, true, false, null
		for i < len(d) {
			switch d[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
}

// Members iterates over the members of the object starting at d[start] ==
// '{'. Use:
//
//	it := jsonscan.Members(d, start)
//	for it.Next() { ... it.Key(buf), it.Value() ...; it.Skip() }
//
// Every Next must be followed by Skip (or Advance) before the next Next.
type MemberIter struct {
	d        []byte
	i        int // position of the next key, or of '}'
	done     bool
	key      []byte // raw key between the quotes
	escaped  bool
	val      int
	advanced bool
}

// Members returns an iterator over the object at d[start].
func Members(d []byte, start int) MemberIter {
	i := SkipWS(d, start+1)
	return MemberIter{d: d, i: i, done: i >= len(d) || d[i] == '}', advanced: true}
}

// Next moves to the next member, reporting whether there is one.
func (it *MemberIter) Next() bool {
	if it.done {
		return false
	}
	if !it.advanced {
		it.Skip()
		if it.done {
			return false
		}
	}
	ks := it.i
	ke, esc := StringEnd(it.d, ks)
	if ke-1 < ks+1 {
		it.done = true
		return false
	}
	v := SkipWS(it.d, ke)
	it.key, it.escaped, it.val = it.d[ks+1:ke-1], esc, SkipWS(it.d, v+1) // ':'
	it.advanced = false
	return true
}

// Key returns the member's unescaped key, using buf when it has escapes
// (valid until the next call).
func (it *MemberIter) Key(buf []byte) []byte {
	if !it.escaped {
		return it.key
	}
	return unescape(it.key, buf[:0])
}

// End returns the index after the object's closing brace, once Next has
// returned false.
func (it *MemberIter) End() int { return it.i + 1 }

// Value returns the offset of the member's value.
func (it *MemberIter) Value() int { return it.val }

// Skip moves past the current member's value.
func (it *MemberIter) Skip() { it.Advance(ValueEnd(it.d, it.val)) }

// Advance moves past the current member, whose value ends at end (when the
// caller already knows it).
func (it *MemberIter) Advance(end int) {
	it.advanced = true
	i := SkipWS(it.d, end)
	if i >= len(it.d) || it.d[i] != ',' {
		it.done = true
		it.i = i
		return
	}
	it.i = SkipWS(it.d, i+1)
}

// AppendString appends the unescaped contents of the string at d[i] == '"'
// to dst and returns it with the index after the string. When the string has
// no escapes and dst is nil, the result aliases d.
func AppendString(dst, d []byte, i int) ([]byte, int) {
	end, esc := StringEnd(d, i)
	if end-1 < i+1 {
		return dst, end
	}
	raw := d[i+1 : end-1]
	if !esc {
		if dst == nil {
			return raw, end
		}
		return append(dst, raw...), end
	}
	return unescape(raw, dst), end
}

// String decodes the string at d[i] == '"' into a Go string and returns the
// index after it.
func String(d []byte, i int) (string, int) {
	b, end := AppendString(nil, d, i)
	return string(b), end
}

// unescape decodes the body of a valid JSON string (without its quotes) with
// the strict scanner's escape decoder.
func unescape(raw, dst []byte) []byte {
	if dst == nil {
		dst = make([]byte, 0, len(raw))
	}
	s := scanner{data: raw}
	for s.pos < len(raw) {
		c := raw[s.pos]
		if c != '\\' {
			dst = append(dst, c)
			s.pos++
			continue
		}
		var err error
		if dst, err = s.escape(dst); err != nil {
			return dst // not reached for validated input
		}
	}
	return dst
}
