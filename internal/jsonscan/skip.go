package jsonscan

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// The fast skipper validates and skips a whole value in one tight loop over
// a local index, for the values a caller does not look into (a tool call's
// arguments). It accepts only text the general scanner (skipValue) accepts,
// ends where it ends, and gives up (-1) on anything it does not handle
// itself: any error, a key with an escape or a non-ASCII byte, an object
// whose keys' fold bits clash too often, nesting at the depth limit. The
// caller then scans the same value again with skipValue, which finds the
// error or accepts the value with its exact rules, so that errors, offsets
// and the accepted language do not depend on the fast skipper at all.
// FuzzSkipFast checks that against skipValue.
//
// Giving up costs at most one wasted scan of the value: the general scanner
// never calls the fast skipper again for the values nested in it.

// maxFastClashes is how many fold-bit clashes (each settled by re-reading
// the object's earlier keys) one object may have before the fast skipper
// leaves it to the general scanner and its map of folded keys.
const maxFastClashes = 4

// fastKeys is how many keys of an object fastObject remembers to settle a
// fold-bit clash without re-reading the object.
const fastKeys = 8

// skipFast returns the index after the value at data[i], validated under
// Validate's rules, or -1 when the general scanner must decide. depth is
// the nesting depth of the value's container and maxDepth the limit, as for
// skipValue.
func skipFast(data []byte, i, depth, maxDepth int) int {
	if i >= len(data) {
		return -1
	}
	switch c := data[i]; c {
	case '"':
		return fastString(data, i)
	case '{':
		if depth >= maxDepth {
			return -1 // the limit and its error: the general scanner's
		}
		return fastObject(data, i, depth+1, maxDepth)
	case '[':
		if depth >= maxDepth {
			return -1
		}
		return fastArray(data, i, depth+1, maxDepth)
	case 't':
		if len(data)-i >= 4 && binary.LittleEndian.Uint32(data[i:]) == 't'|'r'<<8|'u'<<16|'e'<<24 {
			return i + 4
		}
	case 'f':
		if len(data)-i >= 5 && data[i+4] == 'e' && binary.LittleEndian.Uint32(data[i:]) == 'f'|'a'<<8|'l'<<16|'s'<<24 {
			return i + 5
		}
	case 'n':
		if len(data)-i >= 4 && binary.LittleEndian.Uint32(data[i:]) == 'n'|'u'<<8|'l'<<16|'l'<<24 {
			return i + 4
		}
	default:
		if c == '-' || c-'0' <= 9 {
			return fastNumber(data, i)
		}
	}
	return -1
}

// fastString skips the string at data[i] == '"': plain ASCII eight bytes at
// a time, escapes and multi-byte UTF-8 checked as skipStr checks them.
func fastString(data []byte, i int) int {
	i++
	for {
		for i+8 <= len(data) {
			m := special8(binary.LittleEndian.Uint64(data[i:]))
			if m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto flagged
			}
			i += 8
		}
		for i < len(data) && plainByte[data[i]] {
			i++
		}
		if i >= len(data) {
			return -1
		}
	flagged:
		switch c := data[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			if i = fastEscape(data, i); i < 0 {
				return -1
			}
		case c < 0x20:
			return -1
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size <= 1 {
				return -1
			}
			i += size
		}
	}
}

// plainEnd returns the index after the string at data[i] == '"' when it is
// plain (no escape, control or non-ASCII byte) and its closing quote lies
// in a whole 8-byte word of data (read a word at a time), else -1. It is
// inlined: a call would spill the callers' loop state.
func plainEnd(data []byte, i int) int {
	for i++; i+8 <= len(data); i += 8 {
		if m := special8(binary.LittleEndian.Uint64(data[i:])); m != 0 {
			if i += bits.TrailingZeros64(m) >> 3; data[i] == '"' {
				return i + 1
			}
			return -1
		}
	}
	return -1 // the last bytes: fastString's
}

// fastEscape returns the index after the escape at data[i] == '\\', or -1
// where escape would refuse it.
func fastEscape(data []byte, i int) int {
	if i+1 >= len(data) {
		return -1
	}
	switch data[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 2
	case 'u':
	default:
		return -1
	}
	r, ok := fastHex4(data, i+2)
	if !ok {
		return -1
	}
	i += 6
	if r < 0xD800 || r > 0xDFFF {
		return i
	}
	// A surrogate: a high one followed by an escaped low one.
	if r >= 0xDC00 || i+1 >= len(data) || data[i] != '\\' || data[i+1] != 'u' {
		return -1
	}
	if r2, ok := fastHex4(data, i+2); !ok || r2 < 0xDC00 || r2 > 0xDFFF {
		return -1
	}
	return i + 6
}

func fastHex4(data []byte, at int) (rune, bool) {
	if at+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[at : at+4] {
		var d byte
		switch {
		case c-'0' <= 9:
			d = c - '0'
		case c|0x20-'a' <= 'f'-'a':
			d = c | 0x20 - 'a' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

// fastNumber skips the number at data[i] (a '-' or a digit) under the JSON
// grammar number enforces.
func fastNumber(data []byte, i int) int {
	if data[i] == '-' {
		i++
		if i >= len(data) {
			return -1
		}
	}
	switch c := data[i]; {
	case c == '0':
		i++
	case c-'1' <= 8:
		i++
		for i < len(data) && data[i]-'0' <= 9 {
			i++
		}
	default:
		return -1
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || data[i]-'0' > 9 {
			return -1
		}
		for i < len(data) && data[i]-'0' <= 9 {
			i++
		}
	}
	if i < len(data) && data[i]|0x20 == 'e' {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || data[i]-'0' > 9 {
			return -1
		}
		for i < len(data) && data[i]-'0' <= 9 {
			i++
		}
	}
	return i
}

// fastObject skips the object at data[start] == '{' (depth as for
// skipObject). Its keys must be plain ASCII; a key whose fold bit an
// earlier key has set is compared with the earlier keys (fastClash).
func fastObject(data []byte, start, depth, maxDepth int) int {
	i := SkipWS(data, start+1)
	if i < len(data) && data[i] == '}' {
		return i + 1
	}
	if len(data) > maxInt32 {
		return -1 // the spans below are int32: the general scanner's
	}
	var seen uint64
	clashes := 0
	// The first fastKeys keys, so that a clash is settled by comparing
	// with them rather than by re-reading the object (fastClash).
	var spans [fastKeys]struct{ start, end int32 }
	n := 0
	for {
		if i >= len(data) || data[i] != '"' {
			return -1
		}
		ks := i + 1
		ke := ks
		for {
			if ke+8 > len(data) {
				return -1 // near the end: the general scanner's
			}
			if m := special8(binary.LittleEndian.Uint64(data[ke:])); m != 0 {
				ke += bits.TrailingZeros64(m) >> 3
				break
			}
			ke += 8
		}
		if data[ke] != '"' {
			return -1 // an escape, a control or a non-ASCII byte
		}
		key := data[ks:ke]
		if bit := asciiFoldBit(key); seen&bit == 0 {
			seen |= bit
		} else if clashes++; clashes > maxFastClashes {
			return -1
		} else if n <= fastKeys {
			for _, sp := range spans[:n] {
				if k := data[sp.start:sp.end]; len(k) == len(key) && equalFoldASCII(k, key) {
					return -1
				}
			}
		} else if fastClash(data, start, ks, key) {
			return -1
		}
		if n < fastKeys {
			spans[n] = struct{ start, end int32 }{int32(ks), int32(ke)}
		}
		n++
		i = ke + 1
		if i < len(data) && data[i] <= ' ' {
			i = SkipWS(data, i)
		}
		if i >= len(data) || data[i] != ':' {
			return -1
		}
		if i++; i < len(data) && data[i] <= ' ' {
			i = SkipWS(data, i)
		}
		// The common values are read here, without a call: a call spills
		// every value live in this loop (Go has no callee-saved
		// registers), which costs more than reading a short value.
		switch {
		case i >= len(data):
			return -1
		case data[i] == '"':
			// A plain string, a word at a time; fastString from the
			// start when a byte needs a look.
			if j := plainEnd(data, i); j >= 0 {
				i = j
			} else {
				i = fastString(data, i)
			}
		case data[i]-'1' <= 8:
			// A positive integer without a leading zero, when a ','
			// or '}' follows its digits.
			j := i + 1
			for j < len(data) && data[j]-'0' <= 9 {
				j++
			}
			if j < len(data) && (data[j] == ',' || data[j] == '}') {
				i = j
			} else {
				i = skipFast(data, i, depth, maxDepth)
			}
		case len(data)-i >= 4 && binary.LittleEndian.Uint32(data[i:]) == 't'|'r'<<8|'u'<<16|'e'<<24:
			i += 4
		case len(data)-i >= 5 && data[i+4] == 'e' && binary.LittleEndian.Uint32(data[i:]) == 'f'|'a'<<8|'l'<<16|'s'<<24:
			i += 5
		default:
			i = skipFast(data, i, depth, maxDepth)
		}
		// fastNext, by hand: the call costs about 1 % of an Inspect.
		if i < 0 {
			return -1
		}
		if i < len(data) && data[i] == ',' {
			i++ // compact
		} else {
			if i = SkipWS(data, i); i >= len(data) {
				return -1
			}
			if data[i] == '}' {
				return i + 1
			}
			if data[i] != ',' {
				return -1
			}
			i++
		}
		if i < len(data) && data[i] <= ' ' {
			i = SkipWS(data, i)
		}
	}
}

// fastClash reports whether key (at data[ks:]) equals, or is an ASCII case
// variant of, a key of the object at data[start] that comes before it. The
// members before ks were validated by fastObject: plain ASCII keys and
// valid values, which the walk helpers can read.
func fastClash(data []byte, start, ks int, key []byte) bool {
	for i := SkipWS(data, start+1); i < ks-1; {
		end, _ := StringEnd(data, i) // a key: no escapes
		if k := data[i+1 : end-1]; len(k) == len(key) && equalFoldASCII(k, key) {
			return true
		}
		v := SkipWS(data, SkipWS(data, end)+1)              // past ':'
		i = SkipWS(data, SkipWS(data, ValueEnd(data, v))+1) // past ','
	}
	return false
}

// fastArray skips the array at data[start] == '['.
func fastArray(data []byte, start, depth, maxDepth int) int {
	i := SkipWS(data, start+1)
	if i < len(data) && data[i] == ']' {
		return i + 1
	}
	for {
		// A plain string element is read here, without a call (see
		// fastObject): arrays of names (groups, roles) are common; any
		// other element goes to skipFast.
		if i < len(data) && data[i] == '"' {
			if j := plainEnd(data, i); j >= 0 {
				i = j
			} else if i = fastString(data, i); i < 0 {
				return -1
			}
		} else if i = skipFast(data, i, depth, maxDepth); i < 0 {
			return -1
		}
		var more bool
		if i, more = fastNext(data, i, ']'); !more {
			return i
		}
	}
}

// fastNext reads what follows a member or element that ends at data[i]
// (i < 0: the value was refused): after a ',' and whitespace, more is true
// and next is the index of the next one; else next is the index after the
// closing byte, or -1 for anything else.
func fastNext(data []byte, i int, closing byte) (next int, more bool) {
	if i < 0 {
		return -1, false
	}
	if i < len(data) && data[i] == ',' {
		i++ // compact
	} else {
		i = SkipWS(data, i)
		if i >= len(data) {
			return -1, false
		}
		if data[i] == closing {
			return i + 1, false
		}
		if data[i] != ',' {
			return -1, false
		}
		i++
	}
	if i < len(data) && data[i] <= ' ' {
		i = SkipWS(data, i)
	}
	return i, true
}
