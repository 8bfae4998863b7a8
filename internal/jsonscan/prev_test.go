package jsonscan

// This file is a frozen copy of the scanner before the Scanner cursor was
// introduced, kept only as the reference of FuzzValidateAgainstPrevious:
// the new scanner must accept and refuse exactly what it did, with the same
// error kind, offset and detail, and report the same members to a Visitor.

import (
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// refValidate is Validate as it was before the Scanner cursor (commit
// d6d3f8d), frozen as the reference of FuzzValidateAgainstPrevious.
func refValidate(data []byte, opts Options) error {
	max := opts.MaxDepth
	if max <= 0 {
		max = DefaultMaxDepth
	}
	s := refScanner{data: data, maxDepth: max}
	s.setVisitor(opts)
	_, err := s.top()
	return err
}

func (s *refScanner) setVisitor(opts Options) {
	if opts.Visitor == nil || opts.VisitDepth <= 0 {
		return
	}
	s.visitor, s.visitDepth = opts.Visitor, opts.VisitDepth
	s.objVisitor, _ = opts.Visitor.(ObjectVisitor)
}

// top scans exactly one value surrounded by optional whitespace.
func (s *refScanner) top() (any, error) {
	s.skipWS()
	v, err := s.value(0)
	if err != nil {
		return nil, err
	}
	s.skipWS()
	if s.pos != len(s.data) {
		return nil, &Error{Offset: s.pos, Kind: ErrTrailingData}
	}
	return v, nil
}

type refScanner struct {
	data     []byte
	pos      int
	maxDepth int
	buf      []byte // stack of unescaped keys of the open objects
	nonASCII bool   // the last skipStr saw a byte >= 0x80

	visitor    Visitor
	objVisitor ObjectVisitor // visitor, when it also wants object starts
	visitDepth int

	// Decode mode: build values; text is string(data), so that strings
	// without escapes and numbers are substrings of one copy.
	build bool
	text  string
	vals  []any    // stack of the array elements and member values being built
	keys  []string // stack of the member keys being built
}

func (s *refScanner) errf(kind error, detail string) error {
	return &Error{Offset: s.pos, Kind: kind, Detail: detail}
}

func (s *refScanner) skipWS() {
	if s.pos < len(s.data) && s.data[s.pos] > ' ' {
		return // the common case: no whitespace at all
	}
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// value scans one value; in decode mode it also returns it.
func (s *refScanner) value(depth int) (any, error) {
	if s.pos >= len(s.data) {
		return nil, s.errf(ErrSyntax, "unexpected end of input")
	}
	switch s.data[s.pos] { // a jump table: strings and numbers first
	case '"':
		if s.build {
			return s.stringValue()
		}
		_, err := s.skipStr()
		return nil, err
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		start := s.pos
		if err := s.number(); err != nil || !s.build {
			return nil, err
		}
		return json.Number(s.text[start:s.pos]), nil
	case '{':
		if depth >= s.maxDepth {
			return nil, s.errf(ErrTooDeep, "")
		}
		return s.object(depth + 1)
	case '[':
		if depth >= s.maxDepth {
			return nil, s.errf(ErrTooDeep, "")
		}
		return s.array(depth + 1)
	case 't':
		return true, s.literal("true")
	case 'f':
		return false, s.literal("false")
	case 'n':
		return nil, s.literal("null")
	default:
		return nil, s.errf(ErrSyntax, "invalid character")
	}
}

// stringValue decodes the string at s.pos (decode mode).
func (s *refScanner) stringValue() (any, error) {
	start := s.pos
	esc, err := s.skipStr()
	if err != nil {
		return nil, err
	}
	if !esc {
		return s.text[start+1 : s.pos-1], nil
	}
	n := s.pos - start
	s.pos = start
	b, err := s.str(make([]byte, 0, n))
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

func (s *refScanner) literal(lit string) error {
	if len(s.data)-s.pos < len(lit) || string(s.data[s.pos:s.pos+len(lit)]) != lit {
		return s.errf(ErrSyntax, "invalid literal")
	}
	s.pos += len(lit)
	return nil
}

func (s *refScanner) number() error {
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

func (s *refScanner) array(depth int) (any, error) {
	s.pos++ // '['
	s.skipWS()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		if s.build {
			return []any{}, nil
		}
		return nil, nil
	}
	base := len(s.vals)
	for {
		s.skipWS()
		if err := s.element(depth, "unterminated array"); err != nil {
			return nil, err
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			if !s.build {
				return nil, nil
			}
			a := make([]any, len(s.vals)-base)
			copy(a, s.vals[base:])
			clear(s.vals[base:])
			s.vals = s.vals[:base]
			return a, nil
		default:
			return nil, s.errf(ErrSyntax, "expected ',' or ']'")
		}
	}
}

// refSmallObject is the number of keys compared pairwise before switching to a
// map of folded keys.
const refSmallObject = 16

// refKeySpan locates one object key: in the input when it has no escapes, else
// in the refScanner's unescape buffer.
type refKeySpan struct {
	start, end int
	unescaped  bool
	ascii      bool // the unescaped key is pure ASCII
}

func (s *refScanner) keyBytes(k refKeySpan) []byte {
	if k.unescaped {
		return s.buf[k.start:k.end]
	}
	return s.data[k.start:k.end]
}

// key scans an object key at s.pos. Keys without escapes are referenced in
// place; escaped keys are unescaped onto the end of s.buf (a stack shared by
// the enclosing objects, truncated when each object ends).
func (s *refScanner) key() (refKeySpan, error) {
	start := s.pos
	esc, err := s.skipStr()
	if err != nil {
		return refKeySpan{}, err
	}
	if !esc {
		return refKeySpan{start: start + 1, end: s.pos - 1, ascii: !s.nonASCII}, nil
	}
	s.pos = start
	base := len(s.buf)
	if s.buf == nil {
		s.buf = make([]byte, 0, 64)
	}
	b, err := s.str(s.buf)
	if err != nil {
		return refKeySpan{}, err
	}
	s.buf = b
	return refKeySpan{start: base, end: len(b), unescaped: true, ascii: isASCII(b[base:])}, nil
}

func (s *refScanner) object(depth int) (any, error) {
	if s.objVisitor != nil && depth <= s.visitDepth {
		s.objVisitor.VisitObject(depth, s.pos)
	}
	s.pos++ // '{'
	s.skipWS()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		if s.build {
			return map[string]any{}, nil
		}
		return nil, nil
	}
	base, keyBase := len(s.vals), len(s.keys)
	bufBase := len(s.buf) // escaped keys of this object are popped on success
	var small [refSmallObject]refKeySpan
	n := 0
	var folded map[string]string
	for {
		s.skipWS()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return nil, s.errf(ErrSyntax, "expected object key")
		}
		keyStart := s.pos
		ks, err := s.key()
		if err != nil {
			return nil, err
		}
		kb := s.keyBytes(ks)
		if folded == nil && n < refSmallObject {
			for i := 0; i < n; i++ {
				sameLen := small[i].end-small[i].start == len(kb)
				if small[i].ascii && ks.ascii {
					// ASCII keys conflict only at equal lengths.
					if !sameLen {
						continue
					}
					prev := s.keyBytes(small[i])
					if string(prev) == string(kb) {
						return nil, &Error{Offset: keyStart, Kind: ErrDuplicateKey, Detail: strconv.Quote(string(kb))}
					}
					if equalFoldASCII(prev, kb) {
						return nil, &Error{Offset: keyStart, Kind: ErrCaseVariant, Detail: strconv.Quote(string(kb))}
					}
					continue
				}
				prev := s.keyBytes(small[i])
				if sameLen && string(prev) == string(kb) {
					return nil, &Error{Offset: keyStart, Kind: ErrDuplicateKey, Detail: strconv.Quote(string(kb))}
				}
				if equalFold(prev, kb) {
					return nil, &Error{Offset: keyStart, Kind: ErrCaseVariant, Detail: strconv.Quote(string(kb))}
				}
			}
			small[n] = ks
			n++
		} else {
			if folded == nil {
				folded = make(map[string]string, 2*refSmallObject)
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
				return nil, &Error{Offset: keyStart, Kind: kind, Detail: strconv.Quote(k)}
			}
			folded[fk] = k
		}
		s.skipWS()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return nil, s.errf(ErrSyntax, "expected ':'")
		}
		s.pos++
		s.skipWS()
		if s.visitor != nil && depth <= s.visitDepth {
			s.visitor.VisitMember(depth, s.keyBytes(ks), s.pos)
		}
		if s.build {
			if ks.unescaped {
				s.keys = append(s.keys, string(kb))
			} else {
				s.keys = append(s.keys, s.text[ks.start:ks.end])
			}
		}
		if err := s.element(depth, "unterminated object"); err != nil {
			return nil, err
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			s.buf = s.buf[:bufBase]
			if !s.build {
				return nil, nil
			}
			return s.buildObject(base, keyBase), nil
		default:
			return nil, s.errf(ErrSyntax, "expected ',' or '}'")
		}
	}
}

// element scans an array element or member value (pushing it on s.vals in
// decode mode) and the whitespace after it; end-of-input there is an
// ErrSyntax with detail unterminated.
func (s *refScanner) element(depth int, unterminated string) error {
	v, err := s.value(depth)
	if err != nil {
		return err
	}
	if s.build {
		s.vals = append(s.vals, v)
	}
	s.skipWS()
	if s.pos >= len(s.data) {
		return s.errf(ErrSyntax, unterminated)
	}
	return nil
}

// buildObject pops the members collected since base into an exactly sized
// map (decode mode).
func (s *refScanner) buildObject(base, keyBase int) map[string]any {
	vals, keys := s.vals[base:], s.keys[keyBase:]
	m := make(map[string]any, len(vals))
	for i, v := range vals {
		m[keys[i]] = v
	}
	clear(vals)
	clear(keys)
	s.vals, s.keys = s.vals[:base], s.keys[:keyBase]
	return m
}

// skipStr scans a string starting at the opening quote without copying it,
// reporting whether it contains escapes.
func (s *refScanner) skipStr() (escaped bool, err error) {
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
func (s *refScanner) str(dst []byte) ([]byte, error) {
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

func (s *refScanner) escape(dst []byte) ([]byte, error) {
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

func (s *refScanner) hex4(at int) (rune, bool) {
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
