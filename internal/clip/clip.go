// Package clip is the one truncation of caller-influenced strings put into
// log records, audit events, span attributes and error texts. Every cut is
// at a UTF-8 rune boundary.
package clip

import (
	"strconv"
	"unicode/utf8"
)

// Marker starts the mark String appends to a cut string:
// "…[truncated N bytes]".
const Marker = "…[truncated "

// markerRoom is the most the mark takes: Marker, 20 digits, " bytes]".
const markerRoom = len(Marker) + 20 + len(" bytes]")

// String returns s when it has at most max bytes; otherwise its longest
// prefix cut at a rune boundary that, with the mark "…[truncated N bytes]"
// (N = bytes dropped) appended, fits in max bytes. When max leaves no room
// for any of s, the result is the mark alone. Invalid UTF-8 in the kept
// prefix is preserved as is (slog escapes it).
func String(s string, max int) string {
	if len(s) <= max {
		return s
	}
	keep := Prefix(s, max-markerRoom)
	return keep + Marker + strconv.Itoa(len(s)-len(keep)) + " bytes]"
}

// Prefix returns the longest prefix of s of at most n bytes that does not
// end inside a multi-byte rune; s itself when it has at most n bytes, ""
// when n <= 0.
func Prefix(s string, n int) string {
	if n >= len(s) {
		return s
	}
	if n <= 0 {
		return ""
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Quote returns s quoted as strconv.Quote does when that has at most limit
// bytes; otherwise the quoted longest prefix of s that, with the mark
// "…[truncated N bytes]" (N = bytes of s dropped) after the closing
// quote, fits in limit bytes. The cut is made after escaping, between two
// escapes or runes, so a value of control characters or invalid UTF-8
// (one byte each, four once escaped) cannot make the text longer than
// limit. When limit leaves no room for any of s, the result is "" and the
// mark.
func Quote(s string, limit int) string {
	if len(s) <= limit {
		if q := strconv.Quote(s); len(q) <= limit {
			return q
		}
	}
	room := limit - markerRoom - 2 // the quotes
	b := make([]byte, 0, max(room, 0)+2+markerRoom)
	b = append(b, '"')
	var esc [16]byte // the longest escape, `"\U0010ffff"`, is 12 bytes
	i := 0
	for i < len(s) {
		_, size := utf8.DecodeRuneInString(s[i:])
		e := strconv.AppendQuote(esc[:0], s[i:i+size])
		e = e[1 : len(e)-1]
		if len(b)-1+len(e) > room {
			break
		}
		b = append(b, e...)
		i += size
	}
	b = append(b, '"')
	b = append(b, Marker...)
	b = strconv.AppendInt(b, int64(len(s)-i), 10)
	b = append(b, " bytes]"...)
	return string(b)
}
