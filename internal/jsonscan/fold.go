package jsonscan

import (
	"encoding/binary"
	"unicode"
	"unicode/utf8"
)

// equalFoldASCII compares two ASCII strings of equal length ignoring case.
// It compares 8 bytes at a time (keys crafted to share a fold bit are
// compared pairwise to their end); a word holding a byte of 0x80 or more
// is compared byte by byte.
func equalFoldASCII(a, b []byte) bool {
	b = b[:len(a)]
	for len(a) >= 8 {
		x, y := binary.LittleEndian.Uint64(a), binary.LittleEndian.Uint64(b)
		if x != y && ((x|y)&hiBits != 0 && !equalFoldBytes(a[:8], b[:8]) || (x|y)&hiBits == 0 && lowerWord(x) != lowerWord(y)) {
			return false
		}
		a, b = a[8:], b[8:]
	}
	return equalFoldBytes(a, b)
}

const (
	loBits = 0x0101010101010101
	hiBits = 0x8080808080808080
)

// lowerWord maps the ASCII upper-case letters of the 8 bytes of w (each
// below 0x80) to lower case: a byte's high bit is set by adding 0x80-'A'
// when it is 'A' or more, and by adding 0x80-'Z'-1 when it is past 'Z';
// no addition carries into the next byte.
func lowerWord(w uint64) uint64 {
	upper := (w + (0x80-'A')*loBits) &^ (w + (0x80-'Z'-1)*loBits) & hiBits
	return w | upper>>2
}

func equalFoldBytes(a, b []byte) bool {
	for i := range a {
		if a[i] != b[i] && lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

// equalFold reports whether a and b are equal under Unicode simple folding.
func equalFold(a, b []byte) bool {
	if len(a) == len(b) {
		ascii := true
		for i := 0; i < len(a); i++ {
			ca, cb := a[i], b[i]
			if ca >= utf8.RuneSelf || cb >= utf8.RuneSelf {
				ascii = false
				break
			}
			if ca != cb && lower(ca) != lower(cb) {
				return false
			}
		}
		if ascii {
			return true
		}
	} else if isASCII(a) && isASCII(b) {
		return false
	}
	return foldKey(string(a)) == foldKey(string(b))
}

// asciiPrefix returns the length of s's leading run of ASCII bytes.
func asciiPrefix(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return i
		}
	}
	return len(s)
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// foldKey maps every rune to the smallest rune of its simple-folding orbit, so
// that two strings are case variants exactly when their fold keys are equal.
func foldKey(s string) string {
	if i := asciiPrefix(s); i == len(s) {
		// An ASCII letter's orbit is its two cases (and, for k and s, a
		// non-ASCII rune): the smallest is the upper case.
		b := []byte(s)
		for i, c := range b {
			if 'a' <= c && c <= 'z' {
				b[i] = c - ('a' - 'A')
			}
		}
		return string(b)
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		min := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < min {
				min = f
			}
		}
		b = utf8.AppendRune(b, min)
	}
	return string(b)
}
