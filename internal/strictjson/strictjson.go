// Package strictjson validates JSON text more strictly than encoding/json
// decodes it, so that a value that passes Validate decodes to the same thing
// in every Go JSON decoder the project meets (encoding/json, which matches
// object keys case-insensitively and keeps the last duplicate, and the
// segmentio decoder used by the MCP Go SDK, which matches case-sensitively and
// ignores trailing data).
//
// Validate rejects:
//   - anything but exactly one JSON value, optionally surrounded by JSON
//     whitespace (trailing data, a second value, NUL bytes);
//   - invalid UTF-8 anywhere, control characters inside strings, invalid
//     escapes and escaped lone UTF-16 surrogates;
//   - duplicate object keys and keys that differ only in case (compared after
//     unescaping, with Unicode simple case folding, which is a superset of the
//     folding encoding/json applies);
//   - nesting deeper than Options.MaxDepth.
package strictjson

import (
	"errors"
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// DefaultMaxDepth is the nesting limit used when Options.MaxDepth is zero.
const DefaultMaxDepth = 64

// Options tunes Validate. The zero value is ready to use.
type Options struct {
	// MaxDepth limits the nesting of arrays and objects. Zero means
	// DefaultMaxDepth.
	MaxDepth int
}

// Sentinel causes, matched with errors.Is against the *Error Validate returns.
var (
	ErrSyntax       = errors.New("strictjson: syntax error")
	ErrTrailingData = errors.New("strictjson: trailing data after JSON value")
	ErrInvalidUTF8  = errors.New("strictjson: invalid UTF-8")
	ErrDuplicateKey = errors.New("strictjson: duplicate object key")
	ErrCaseVariant  = errors.New("strictjson: object keys differ only in case")
	ErrTooDeep      = errors.New("strictjson: nesting too deep")
)

// Error reports where and why validation failed.
type Error struct {
	Offset int    // byte offset in the input
	Kind   error  // one of the Err* sentinels
	Detail string // short, client-safe detail (never contains input bytes beyond a key name)
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("%v at offset %d", e.Kind, e.Offset)
	}
	return fmt.Sprintf("%v at offset %d: %s", e.Kind, e.Offset, e.Detail)
}

// Unwrap returns the sentinel kind.
func (e *Error) Unwrap() error { return e.Kind }

// Validate reports whether data is a single strict JSON value. See the package
// documentation for the rules. It allocates only for objects with many keys.
func Validate(data []byte, opts Options) error {
	max := opts.MaxDepth
	if max <= 0 {
		max = DefaultMaxDepth
	}
	s := scanner{data: data, maxDepth: max}
	s.skipWS()
	if err := s.value(0); err != nil {
		return err
	}
	s.skipWS()
	if s.pos != len(s.data) {
		return &Error{Offset: s.pos, Kind: ErrTrailingData}
	}
	return nil
}

type scanner struct {
	data     []byte
	pos      int
	maxDepth int
	buf      []byte // stack of unescaped keys of the open objects
	nonASCII bool   // the last skipStr saw a byte >= 0x80
}

func (s *scanner) errf(kind error, detail string) error {
	return &Error{Offset: s.pos, Kind: kind, Detail: detail}
}

func (s *scanner) skipWS() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) value(depth int) error {
	if s.pos >= len(s.data) {
		return s.errf(ErrSyntax, "unexpected end of input")
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		if depth >= s.maxDepth {
			return s.errf(ErrTooDeep, "")
		}
		return s.object(depth + 1)
	case c == '[':
		if depth >= s.maxDepth {
			return s.errf(ErrTooDeep, "")
		}
		return s.array(depth + 1)
	case c == '"':
		_, err := s.skipStr()
		return err
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	default:
		return s.errf(ErrSyntax, "invalid character")
	}
}

func (s *scanner) literal(lit string) error {
	if len(s.data)-s.pos < len(lit) || string(s.data[s.pos:s.pos+len(lit)]) != lit {
		return s.errf(ErrSyntax, "invalid literal")
	}
	s.pos += len(lit)
	return nil
}

func (s *scanner) number() error {
	start := s.pos
	if s.data[s.pos] == '-' {
		s.pos++
	}
	if s.pos >= len(s.data) {
		return s.errf(ErrSyntax, "invalid number")
	}
	if s.data[s.pos] == '0' {
		s.pos++
	} else if s.data[s.pos] >= '1' && s.data[s.pos] <= '9' {
		for s.pos < len(s.data) && isDigit(s.data[s.pos]) {
			s.pos++
		}
	} else {
		return s.errf(ErrSyntax, "invalid number")
	}
	if s.pos < len(s.data) && s.data[s.pos] == '.' {
		s.pos++
		if s.pos >= len(s.data) || !isDigit(s.data[s.pos]) {
			return s.errf(ErrSyntax, "invalid number")
		}
		for s.pos < len(s.data) && isDigit(s.data[s.pos]) {
			s.pos++
		}
	}
	if s.pos < len(s.data) && (s.data[s.pos] == 'e' || s.data[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.data) && (s.data[s.pos] == '+' || s.data[s.pos] == '-') {
			s.pos++
		}
		if s.pos >= len(s.data) || !isDigit(s.data[s.pos]) {
			return s.errf(ErrSyntax, "invalid number")
		}
		for s.pos < len(s.data) && isDigit(s.data[s.pos]) {
			s.pos++
		}
	}
	if s.pos == start {
		return s.errf(ErrSyntax, "invalid number")
	}
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (s *scanner) array(depth int) error {
	s.pos++ // '['
	s.skipWS()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return nil
	}
	for {
		s.skipWS()
		if err := s.value(depth); err != nil {
			return err
		}
		s.skipWS()
		if s.pos >= len(s.data) {
			return s.errf(ErrSyntax, "unterminated array")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		default:
			return s.errf(ErrSyntax, "expected ',' or ']'")
		}
	}
}

// smallObject is the number of keys compared pairwise before switching to a
// map of folded keys.
const smallObject = 16

// keySpan locates one object key: in the input when it has no escapes, else
// in the scanner's unescape buffer.
type keySpan struct {
	start, end int
	unescaped  bool
	ascii      bool // the unescaped key is pure ASCII
}

func (s *scanner) keyBytes(k keySpan) []byte {
	if k.unescaped {
		return s.buf[k.start:k.end]
	}
	return s.data[k.start:k.end]
}

// key scans an object key at s.pos. Keys without escapes are referenced in
// place; escaped keys are unescaped onto the end of s.buf (a stack shared by
// the enclosing objects, truncated when each object ends).
func (s *scanner) key() (keySpan, error) {
	start := s.pos
	esc, err := s.skipStr()
	if err != nil {
		return keySpan{}, err
	}
	if !esc {
		return keySpan{start: start + 1, end: s.pos - 1, ascii: !s.nonASCII}, nil
	}
	s.pos = start
	base := len(s.buf)
	if s.buf == nil {
		s.buf = make([]byte, 0, 64)
	}
	b, err := s.str(s.buf)
	if err != nil {
		return keySpan{}, err
	}
	s.buf = b
	return keySpan{start: base, end: len(b), unescaped: true, ascii: isASCII(b[base:])}, nil
}

func (s *scanner) object(depth int) error {
	s.pos++ // '{'
	s.skipWS()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return nil
	}
	bufBase := len(s.buf)
	defer func() { s.buf = s.buf[:bufBase] }()
	var small [smallObject]keySpan
	n := 0
	var folded map[string]string
	for {
		s.skipWS()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return s.errf(ErrSyntax, "expected object key")
		}
		keyStart := s.pos
		ks, err := s.key()
		if err != nil {
			return err
		}
		kb := s.keyBytes(ks)
		if folded == nil && n < smallObject {
			for i := 0; i < n; i++ {
				prev := s.keyBytes(small[i])
				if len(prev) == len(kb) && string(prev) == string(kb) {
					return &Error{Offset: keyStart, Kind: ErrDuplicateKey, Detail: strconv.Quote(string(kb))}
				}
				if small[i].ascii && ks.ascii {
					if len(prev) == len(kb) && equalFoldASCII(prev, kb) {
						return &Error{Offset: keyStart, Kind: ErrCaseVariant, Detail: strconv.Quote(string(kb))}
					}
					continue
				}
				if equalFold(prev, kb) {
					return &Error{Offset: keyStart, Kind: ErrCaseVariant, Detail: strconv.Quote(string(kb))}
				}
			}
			small[n] = ks
			n++
		} else {
			if folded == nil {
				folded = make(map[string]string, 2*smallObject)
				for i := 0; i < n; i++ {
					k := string(s.keyBytes(small[i]))
					folded[foldKey(k)] = k
				}
			}
			k := string(kb)
			fk := foldKey(k)
			if prev, ok := folded[fk]; ok {
				kind := ErrCaseVariant
				if prev == k {
					kind = ErrDuplicateKey
				}
				return &Error{Offset: keyStart, Kind: kind, Detail: strconv.Quote(k)}
			}
			folded[fk] = k
		}
		s.skipWS()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return s.errf(ErrSyntax, "expected ':'")
		}
		s.pos++
		s.skipWS()
		if err := s.value(depth); err != nil {
			return err
		}
		s.skipWS()
		if s.pos >= len(s.data) {
			return s.errf(ErrSyntax, "unterminated object")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return s.errf(ErrSyntax, "expected ',' or '}'")
		}
	}
}

// skipStr scans a string starting at the opening quote without copying it,
// reporting whether it contains escapes.
func (s *scanner) skipStr() (escaped bool, err error) {
	s.pos++ // opening quote
	s.nonASCII = false
	for {
		// Fast path over plain ASCII.
		for s.pos < len(s.data) {
			c := s.data[s.pos]
			if c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
				break
			}
			s.pos++
		}
		if s.pos >= len(s.data) {
			return escaped, s.errf(ErrSyntax, "unterminated string")
		}
		c := s.data[s.pos]
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
			r, size := utf8.DecodeRune(s.data[s.pos:])
			if r == utf8.RuneError && size <= 1 {
				return escaped, s.errf(ErrInvalidUTF8, "")
			}
			s.nonASCII = true
			s.pos += size
		}
	}
}

// equalFoldASCII compares two ASCII strings of equal length ignoring case.
func equalFoldASCII(a, b []byte) bool {
	for i := range a {
		if a[i] != b[i] && lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
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
