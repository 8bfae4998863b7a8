package jsonscan

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// skipStr scans a string starting at the opening quote without copying it,
// reporting whether it contains escapes.
func (s *scanner) skipStr() (escaped bool, err error) {
	s.pos++ // opening quote
	s.nonASCII = false
	data := s.data
	for {
		// Fast path over plain ASCII: eight bytes at a time; the lowest
		// flagged byte of special8 is exactly the first byte that needs a
		// look, so the scan jumps straight to it.
		i := s.pos
		for i+8 <= len(data) {
			if m := special8(binary.LittleEndian.Uint64(data[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto found
			}
			i += 8
		}
		for i < len(data) && plainByte[data[i]] {
			i++
		}
	found:
		s.pos = i
		if i >= len(data) {
			return escaped, s.errf(ErrSyntax, "unterminated string")
		}
		c := data[i]
		switch {
		case c == '"':
			s.pos++
			return escaped, nil
		case c == '\\':
			escaped = true
			if _, err := s.escape(nil); err != nil {
				return escaped, err
			}
		case c < 0x20:
			return escaped, s.errf(ErrSyntax, "control character in string")
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size <= 1 {
				return escaped, s.errf(ErrInvalidUTF8, "")
			}
			s.nonASCII = true
			s.pos += size
		}
	}
}

// str scans a string starting at the opening quote and appends its unescaped
// contents to dst when dst is non-nil.
func (s *scanner) str(dst []byte) ([]byte, error) {
	s.pos++ // opening quote
	for {
		if s.pos >= len(s.data) {
			return dst, s.errf(ErrSyntax, "unterminated string")
		}
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return dst, nil
		case c == '\\':
			var err error
			dst, err = s.escape(dst)
			if err != nil {
				return dst, err
			}
		case c < 0x20:
			return dst, s.errf(ErrSyntax, "control character in string")
		case c < utf8.RuneSelf:
			if dst != nil {
				dst = append(dst, c)
			}
			s.pos++
		default:
			r, size := utf8.DecodeRune(s.data[s.pos:])
			if r == utf8.RuneError && size <= 1 {
				return dst, s.errf(ErrInvalidUTF8, "")
			}
			if dst != nil {
				dst = append(dst, s.data[s.pos:s.pos+size]...)
			}
			s.pos += size
		}
	}
}

func (s *scanner) escape(dst []byte) ([]byte, error) {
	if s.pos+1 >= len(s.data) {
		return dst, s.errf(ErrSyntax, "unterminated escape")
	}
	c := s.data[s.pos+1]
	var b byte
	switch c {
	case '"', '\\', '/':
		b = c
	case 'b':
		b = '\b'
	case 'f':
		b = '\f'
	case 'n':
		b = '\n'
	case 'r':
		b = '\r'
	case 't':
		b = '\t'
	case 'u':
		r, ok := s.hex4(s.pos + 2)
		if !ok {
			return dst, s.errf(ErrSyntax, "invalid \\u escape")
		}
		s.pos += 6
		if utf16.IsSurrogate(r) {
			if r >= 0xDC00 || s.pos+1 >= len(s.data) || s.data[s.pos] != '\\' || s.data[s.pos+1] != 'u' {
				return dst, s.errf(ErrInvalidUTF8, "lone surrogate escape")
			}
			r2, ok := s.hex4(s.pos + 2)
			if !ok || r2 < 0xDC00 || r2 > 0xDFFF {
				return dst, s.errf(ErrInvalidUTF8, "lone surrogate escape")
			}
			s.pos += 6
			r = utf16.DecodeRune(r, r2)
		}
		if dst != nil {
			dst = utf8.AppendRune(dst, r)
		}
		return dst, nil
	default:
		return dst, s.errf(ErrSyntax, "invalid escape")
	}
	if dst != nil {
		dst = append(dst, b)
	}
	s.pos += 2
	return dst, nil
}

func (s *scanner) hex4(at int) (rune, bool) {
	if at+4 > len(s.data) {
		return 0, false
	}
	var r rune
	for _, c := range s.data[at : at+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// special8 flags (bit 7 of the byte) the bytes packed in v that end a run
// of plain string text: a byte < 0x20, '"', '\\' or >= 0x80. Bytes above
// the first flagged one may be flagged spuriously, but the lowest flag is
// always exact and a zero result means all eight bytes are plain.
//
// Why the lowest flag is exact without masking each difference with the
// byte's complement (the textbook has-zero test): below the first special
// byte every byte c is in 0x20..0x7f and is neither '"' nor '\\', so c^'"'
// and c^'\\' are in 1..0x7f and c-0x20 is in 0..0x5f: no subtraction
// borrows out of such a byte and none of the three terms sets its bit 7.
// The first special byte c, with no borrow coming in, sets bit 7 in a
// term: c^'"' or c^'\\' is 0 and minus 1 is 0xff; c < 0x20 minus 0x20
// wraps to 0xe0 or more; c >= 0x80 makes c^'"' and c^'\\' both 0x80 or
// more, and only one of them can be exactly 0x80 (c is 0xa2 or 0xdc), so
// the other keeps bit 7 after minus 1. Bytes above it may see a borrow,
// which only adds spurious flags there (TestSpecial8 tries every byte
// value in every lane, TestWordScanEveryOffset every offset).
func special8(v uint64) uint64 {
	q := (v ^ (ones * '"')) - ones
	b := (v ^ (ones * '\\')) - ones
	return (q | b | (v - ones*0x20)) & highs
}

// plainByte marks the bytes special8 does not flag.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()
