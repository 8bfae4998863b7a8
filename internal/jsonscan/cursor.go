package jsonscan

import (
	"encoding/binary"
	"math/bits"
)

// Scanner validates JSON text piece by piece, for a caller that walks a
// document of a known shape and extracts what it needs in the same pass,
// without a Visitor (the MCP inspector). Every method applies exactly
// Validate's rules, so a document walked from Reset to Finish, every value
// either skipped with Value or descended into with OpenObject / OpenArray,
// is accepted exactly when Validate accepts it, with the same *Error.
//
// Use:
//
//	var c jsonscan.Scanner
//	c.Reset(data, maxDepth)
//	var o jsonscan.Object
//	if c.Peek() == '{' { err = c.OpenObject(&o, 0) } ...
//	for { key, ok, err := c.NextMember(&o); ...; err = c.Value(1) }
//	err = c.Finish()
//
// The zero Scanner is empty input; it must not be copied after Reset.
type Scanner struct{ s scanner }

// Object is the state of one object open in a Scanner: the keys read so
// far, for the duplicate and case-variant checks. Use a fresh zero Object
// for every object.
type Object struct{ o objectState }

// Array is the state of one array open in a Scanner. Use a fresh zero Array
// for every array.
type Array struct{ a arrayState }

// Reset starts scanning data, with nesting limited to maxDepth (zero or
// less: DefaultMaxDepth), and skips leading whitespace.
func (c *Scanner) Reset(data []byte, maxDepth int) {
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	// A Scanner never sets the Validate and Decode fields (visitor, build
	// state): reset only what it uses.
	c.s.data, c.s.pos, c.s.maxDepth, c.s.buf, c.s.nonASCII = data, 0, maxDepth, c.s.buf[:0], false
	c.s.skipWS()
}

// Pos returns the offset of the next byte to read.
func (c *Scanner) Pos() int { return c.s.pos }

// Peek returns the next byte, or 0 at the end of the input. After Reset,
// NextMember and NextElement it is the first byte of a value.
func (c *Scanner) Peek() byte {
	if c.s.pos < len(c.s.data) {
		return c.s.data[c.s.pos]
	}
	return 0
}

// Value validates the value at Pos and moves past it. depth is the nesting
// depth of its container: 0 at the top level, 1 for a member of the
// top-level object, and so on.
func (c *Scanner) Value(depth int) error {
	if end := skipFast(c.s.data, c.s.pos, depth, c.s.maxDepth); end >= 0 {
		c.s.pos = end
		return nil
	}
	return c.s.skipValue(depth)
}

// String validates the string at Pos (Peek() == '"') and moves past it,
// returning its raw text between the quotes and whether that contains
// escapes (decode it with [AppendString] on the input when it does).
func (c *Scanner) String() (raw []byte, escaped bool, err error) {
	start := c.s.pos
	// skipValue's inlined fast path for plain strings.
	data := c.s.data
	for i := start + 1; i+8 <= len(data); i += 8 {
		if m := special8(binary.LittleEndian.Uint64(data[i:])); m != 0 {
			if i += bits.TrailingZeros64(m) >> 3; data[i] == '"' {
				c.s.pos = i + 1
				return data[start+1 : i], false, nil
			}
			break
		}
	}
	escaped, err = c.s.skipStr()
	if err != nil {
		return nil, false, err
	}
	return c.s.data[start+1 : c.s.pos-1], escaped, nil
}

// OpenObject enters the object at Pos (Peek() == '{'); depth is as for
// Value. Read its members with NextMember.
func (c *Scanner) OpenObject(o *Object, depth int) error {
	if depth >= c.s.maxDepth {
		return c.s.errf(ErrTooDeep, "")
	}
	c.s.openObject(&o.o)
	return nil
}

// NextMember reads the next member's key of the object o, refusing a
// duplicate or case variant of an earlier key, and stops at its value; it
// returns false once the object is closed. The caller must then read the
// value (Value, String, OpenObject or OpenArray at depth+1) before calling
// NextMember again. key is unescaped and valid until the object closes.
func (c *Scanner) NextMember(o *Object) (key []byte, ok bool, err error) {
	return c.s.nextMember(&o.o)
}

// OpenArray enters the array at Pos (Peek() == '['); depth is as for
// Value. Read its elements with NextElement.
func (c *Scanner) OpenArray(a *Array, depth int) error {
	if depth >= c.s.maxDepth {
		return c.s.errf(ErrTooDeep, "")
	}
	c.s.openArray()
	return nil
}

// NextElement stops at the next element of the array a, or returns false
// once the array is closed. The caller must read the element (at depth+1)
// before calling NextElement again.
func (c *Scanner) NextElement(a *Array) (bool, error) { return c.s.nextElement(&a.a) }

// Finish checks that only whitespace follows the top-level value.
func (c *Scanner) Finish() error { return c.s.finish() }
