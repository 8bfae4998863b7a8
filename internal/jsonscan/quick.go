package jsonscan

import (
	"encoding/binary"
	"math/bits"
)

// The quick walk helpers let a caller that walks a document of a known
// shape (the MCP inspector's JSON-RPC envelope) validate and extract in one
// tight pass over a local index, without a Scanner. Like the fast skipper
// (skip.go), each helper accepts only text that Validate accepts under the
// same rules, and gives up (-1) on anything it does not handle itself: a
// key with an escape or a non-ASCII byte, a key equal to or a case variant
// of an earlier one, a string with an escape, any syntax error. The caller
// then walks the whole document again with a Scanner, which finds the error
// or accepts the text with its exact rules, so that the accepted language,
// every error and its offset never depend on the quick walk.

// QuickObject is the state of one object walked with the quick helpers:
// the fold bits of its keys so far (see asciiFoldBit) and where its first
// keys are, to settle a fold-bit clash. Use a fresh zero QuickObject for
// every object.
type QuickObject struct {
	seen  uint64
	n     int
	spans [fastKeys]struct{ start, end int32 }
}

// QuickOpen returns the index of the first key of the object at data[i] ==
// '{' (after its whitespace), or -1 when the object is empty: then end is
// the index after its '}'.
func QuickOpen(data []byte, i int) (first, end int) {
	if i = SkipWS(data, i+1); i < len(data) && data[i] == '}' {
		return -1, i + 1
	}
	return i, 0
}

// Key reads the key of the member at data[i], which must be '"', and the
// ':' and whitespace after it. It returns the key (between the quotes, all
// plain ASCII), its fold bit (equal for keys equal under ASCII case
// folding), and the index of the member's value; value is -1 when the quick
// walk gives up: the key is not plain ASCII text, it equals or is a case
// variant of an earlier key of o, or no ':' follows.
func (o *QuickObject) Key(data []byte, i int) (key []byte, bit uint64, value int) {
	if i >= len(data) || data[i] != '"' {
		return nil, 0, -1
	}
	ks := i + 1
	ke := ks
	for {
		if ke+8 > len(data) {
			return nil, 0, -1 // near the end: the Scanner's
		}
		if m := special8(binary.LittleEndian.Uint64(data[ke:])); m != 0 {
			ke += bits.TrailingZeros64(m) >> 3
			break
		}
		ke += 8
	}
	if data[ke] != '"' {
		return nil, 0, -1 // an escape, a control or a non-ASCII byte
	}
	key = data[ks:ke]
	bit = asciiFoldBit(key)
	return key, bit, o.Known(data, i, ke, bit)
}

// Known is Key for a key the caller matched itself: the plain ASCII text
// data[i+1:ke] between the quotes at data[i] and data[ke], with fold bit
// bit (see [FoldBit]). It returns the index of the member's value, or -1
// as Key does.
func (o *QuickObject) Known(data []byte, i, ke int, bit uint64) (value int) {
	// Add and QuickColon, by hand: one call per member.
	if o.seen&bit != 0 || o.n >= fastKeys {
		if !o.addSlow(data, i+1, ke, bit) {
			return -1
		}
	} else {
		o.seen |= bit
		o.spans[o.n] = struct{ start, end int32 }{int32(i + 1), int32(ke)}
		o.n++
	}
	if j := ke + 1; j >= 0 && j+1 < len(data) && data[j] == ':' && data[j+1] > ' ' {
		return j + 1 // compact text
	}
	return quickColon(data, ke+1)
}

// Add records the key data[ks:ke], plain ASCII text whose fold bit is bit
// (see [FoldBit]), for a caller that matched it itself, and reports false
// when the quick walk gives up: it equals or is a case variant of an
// earlier key of o, or o cannot tell.
func (o *QuickObject) Add(data []byte, ks, ke int, bit uint64) bool {
	if o.seen&bit != 0 || o.n >= fastKeys {
		return o.addSlow(data, ks, ke, bit)
	}
	// (With 2 GiB of data or more the spans are wrong, but addSlow
	// gives up before it reads them.)
	o.seen |= bit
	o.spans[o.n] = struct{ start, end int32 }{int32(ks), int32(ke)}
	o.n++
	return true
}

// addSlow is Add for a key whose fold bit clashes or that does not fit in
// o.spans.
func (o *QuickObject) addSlow(data []byte, ks, ke int, bit uint64) bool {
	if len(data) > maxInt32 {
		return false
	}
	if o.seen&bit != 0 {
		// Between ASCII keys a conflict means the same bit; a shared bit
		// is settled by comparing with the earlier keys.
		if o.n > fastKeys {
			return false
		}
		key := data[ks:ke]
		for _, sp := range o.spans[:o.n] {
			if k := data[sp.start:sp.end]; len(k) == len(key) && equalFoldASCII(k, key) {
				return false
			}
		}
	}
	o.seen |= bit
	if o.n < fastKeys {
		o.spans[o.n] = struct{ start, end int32 }{int32(ks), int32(ke)}
	}
	o.n++
	return true
}

// QuickColon returns the index of the value after the ':' that follows a
// key whose closing quote is at data[i-1], skipping whitespace on both
// sides, or -1.
func QuickColon(data []byte, i int) int {
	if i >= 0 && i+1 < len(data) && data[i] == ':' && data[i+1] > ' ' {
		return i + 1 // compact text
	}
	return quickColon(data, i)
}

func quickColon(data []byte, i int) int {
	if i < len(data) && data[i] <= ' ' {
		i = SkipWS(data, i)
	}
	if i >= len(data) || data[i] != ':' {
		return -1
	}
	if i++; i < len(data) && data[i] <= ' ' {
		i = SkipWS(data, i)
	}
	return i
}

// FoldBit returns the fold bit Key reports for the plain ASCII key k.
func FoldBit(k []byte) uint64 { return asciiFoldBit(k) }

// QuickNext reads what follows a member that ends at data[i] (i < 0: the
// quick walk already gave up): after a ',' and whitespace, more is true and
// next is the index of the next key; after the object's '}', more is false
// and next is the index after it; anything else is -1.
func QuickNext(data []byte, i int) (next int, more bool) {
	return fastNext(data, i, '}')
}

// QuickValue validates the value at data[i] under Validate's rules and
// returns the index after it, or -1 when the quick walk gives up (an error,
// or text the fast skipper leaves to the Scanner). depth is the nesting
// depth of its container and maxDepth the limit, as for [Scanner.Value].
func QuickValue(data []byte, i, depth, maxDepth int) int {
	return skipFast(data, i, depth, maxDepth)
}

// QuickString returns the index after the string at data[i] == '"' when
// its text is plain ASCII (no escape, control or non-ASCII byte), or -1.
func QuickString(data []byte, i int) int {
	j := i + 1
	for j+8 <= len(data) {
		if m := special8(binary.LittleEndian.Uint64(data[j:])); m != 0 {
			if j += bits.TrailingZeros64(m) >> 3; data[j] == '"' {
				return j + 1
			}
			return -1
		}
		j += 8
	}
	for j < len(data) && plainByte[data[j]] {
		j++
	}
	if j < len(data) && data[j] == '"' {
		return j + 1
	}
	return -1
}

// QuickInteger returns the index after the number at data[i] when it is a
// positive integer without a leading zero followed directly by ',' or '}'
// (the common JSON-RPC id), or -1 ([QuickValue] decides).
func QuickInteger(data []byte, i int) int {
	if i < 0 || i >= len(data) || data[i]-'1' > 8 {
		return -1
	}
	for i++; i < len(data); i++ {
		switch c := data[i]; {
		case c-'0' <= 9:
		case c == ',' || c == '}':
			return i
		default:
			return -1
		}
	}
	return -1
}
