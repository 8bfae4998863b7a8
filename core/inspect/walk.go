package inspect

import (
	"encoding/binary"
	"unicode/utf16"
	"unicode/utf8"
)

// The functions in this file walk JSON text that has already passed
// strictjson.Validate; they do not re-check syntax, they only locate values.
// Every index they return is within len(d) for valid input.

func skipWS(d []byte, i int) int {
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

// skipString returns the index after the string starting at d[i] == '"', and
// whether it contains escapes.
func skipString(d []byte, i int) (int, bool) {
	esc := false
	j := i + 1
	for {
		// Eight bytes at a time while none is '"' or '\\'.
		for j+8 <= len(d) && !quoteOrBackslash8(binary.LittleEndian.Uint64(d[j:])) {
			j += 8
		}
		if j >= len(d) {
			return len(d), esc
		}
		switch d[j] {
		case '"':
			return j + 1, esc
		case '\\':
			esc = true
			j += 2
		default:
			j++
		}
	}
}

// quoteOrBackslash8 reports whether one of the eight bytes in v is '"' or
// '\\'.
func quoteOrBackslash8(v uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := v ^ (ones * '"')
	b := v ^ (ones * '\\')
	return ((q-ones)&^q|(b-ones)&^b)&highs != 0
}

// structural marks the bytes skipValue must look at inside containers.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

// skipValue returns the index after the value starting at d[i].
func skipValue(d []byte, i int) int {
	if i >= len(d) {
		return i
	}
	switch d[i] {
	case '"':
		end, _ := skipString(d, i)
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
				i, _ = skipString(d, i)
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

// objIter iterates over the members of an object.
type objIter struct {
	d    []byte
	i    int // position of the next key, or of '}'
	done bool
}

func newObjIter(d []byte, start int) objIter {
	// d[start] == '{'
	i := skipWS(d, start+1)
	it := objIter{d: d, i: i}
	if i >= len(d) || d[i] == '}' {
		it.done = true
	}
	return it
}

// next returns the raw key (between quotes), whether it has escapes, and the
// start of its value. The caller must pass the end of the value to advance.
func (it *objIter) next() (key []byte, esc bool, val int, ok bool) {
	if it.done {
		return nil, false, 0, false
	}
	ks := it.i
	ke, esc := skipString(it.d, ks)
	v := skipWS(it.d, ke)
	v = skipWS(it.d, v+1) // ':'
	return it.d[ks+1 : ke-1], esc, v, true
}

// advance moves past the value that ends at end.
func (it *objIter) advance(end int) {
	i := skipWS(it.d, end)
	if i >= len(it.d) || it.d[i] != ',' {
		it.done = true
		it.i = i
		return
	}
	it.i = skipWS(it.d, i+1)
}

// unescape decodes the body of a valid JSON string (without quotes).
func unescape(raw []byte, dst []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch raw[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(raw[i+2 : i+6])
			if utf16.IsSurrogate(r) && i+12 <= len(raw) {
				r = utf16.DecodeRune(r, hex4(raw[i+8:i+12]))
				i += 6
			}
			dst = utf8.AppendRune(dst, r)
			i += 6
			continue
		default: // '"', '\\', '/'
			dst = append(dst, raw[i+1])
		}
		i += 2
	}
	return dst
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

// stringAt decodes the JSON string value starting at d[i] == '"' into a Go
// string, and returns the index after it.
func stringAt(d []byte, i int) (string, int) {
	end, esc := skipString(d, i)
	raw := d[i+1 : end-1]
	if !esc {
		return string(raw), end
	}
	return string(unescape(raw, make([]byte, 0, len(raw)))), end
}

// decodedKey returns the key decoded (allocation-free for unescaped keys
// and short escaped ones, using buf).
func decodedKey(raw []byte, esc bool, buf []byte) []byte {
	if !esc {
		return raw
	}
	return unescape(raw, buf[:0])
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
