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
//
// Options.Visitor lets a caller locate object members while the input is
// validated, so that strict validation and extraction take one pass.
package strictjson

import (
	"errors"
	"fmt"
	"strconv"
)

// DefaultMaxDepth is the nesting limit used when Options.MaxDepth is zero.
const DefaultMaxDepth = 64

// Options tunes Validate. The zero value is ready to use.
type Options struct {
	// MaxDepth limits the nesting of arrays and objects. Zero means
	// DefaultMaxDepth.
	MaxDepth int

	// Visitor, when non-nil, is told about every member of the objects
	// nested at most VisitDepth deep, so that a caller can locate values
	// while the input is validated (one pass instead of two). OPTIONAL.
	Visitor Visitor
	// VisitDepth is the deepest object depth reported to Visitor: the
	// top-level value, if an object, has depth 1, and every array or object
	// adds one. OPTIONAL; zero reports nothing.
	VisitDepth int
}

// Visitor receives object members during validation.
type Visitor interface {
	// VisitMember is called, in document order, for each member of an
	// object at depth (see Options.VisitDepth), after its key passed the
	// duplicate checks and before its value is validated. key is the
	// unescaped key, valid only during the call; value is the offset of the
	// first byte of the member's value. The members reported before
	// Validate fails may come from invalid input: discard them on error.
	VisitMember(depth int, key []byte, value int)
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
	s := scanner{data: data, maxDepth: max, visitor: opts.Visitor, visitDepth: opts.VisitDepth}
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

	visitor    Visitor
	visitDepth int
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
		if s.visitor != nil && depth <= s.visitDepth {
			s.visitor.VisitMember(depth, s.keyBytes(ks), s.pos)
		}
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
