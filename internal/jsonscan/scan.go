// Package jsonscan is the project's one strict JSON scanner. It validates
// JSON text more strictly than encoding/json decodes it, so that a value that
// passes it decodes to the same thing
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
// Every consumer validates and extracts in one pass:
//   - a [Scanner] walks a document of a known shape, validating it piece by
//     piece with the same rules, and the caller extracts what it needs on
//     the way (the MCP inspector); the quick helpers ([QuickObject],
//     [QuickValue], [QuickString], quick.go) walk the common text of such a
//     document faster and give up on anything else, and the caller then
//     walks it again with a Scanner;
//   - [Validate] with Options.Visitor (and [ObjectVisitor]) locates object
//     members while the input is validated (the lazy JWT claims);
//   - [Decode] validates and builds plain Go values in the same pass (the
//     JOSE layer, configuration and HTTP documents);
//   - the walk helpers ([SkipWS], [ValueEnd], [Members], [AppendString]) read
//     text that already passed Validate (list filtering, offsets kept by a
//     visitor).
//
// A value a Scanner skips ([Scanner.Value]) is first tried by a fast
// skipper (skip.go) that handles the common text in one loop and gives up
// on anything else; the general scanner then reads the value again from its
// start, so that the accepted language, every error and its offset are the
// general scanner's alone. Object members are read the same way: the
// common member by a short path, any other by the general one.
package jsonscan

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
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

// ObjectVisitor is a Visitor that is also told where each object at depth
// at most VisitDepth opens, before its first member; a caller reading a
// batch (an array of objects) learns where each element starts.
type ObjectVisitor interface {
	Visitor
	VisitObject(depth int, offset int)
}

// Sentinel causes, matched with errors.Is against the *Error Validate returns.
var (
	ErrSyntax       = errors.New("jsonscan: syntax error")
	ErrTrailingData = errors.New("jsonscan: trailing data after JSON value")
	ErrInvalidUTF8  = errors.New("jsonscan: invalid UTF-8")
	ErrDuplicateKey = errors.New("jsonscan: duplicate object key")
	ErrCaseVariant  = errors.New("jsonscan: object keys differ only in case")
	ErrTooDeep      = errors.New("jsonscan: nesting too deep")
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
	s.setVisitor(opts)
	s.skipWS()
	if err := s.skipValue(0); err != nil {
		return err
	}
	return s.finish()
}

// Decode validates data exactly as Validate does and, in the same pass,
// decodes it case-sensitively into plain Go values: map[string]any, []any,
// string, json.Number, bool and nil. Numbers are never converted to
// float64. Strings without escapes are substrings of one copy of data.
// Options.Visitor, if set, is called as by Validate.
func Decode(data []byte, opts Options) (any, error) {
	max := opts.MaxDepth
	if max <= 0 {
		max = DefaultMaxDepth
	}
	s := scanner{data: data, text: string(data), build: true, maxDepth: max}
	s.setVisitor(opts)
	return s.top()
}

// DecodeObject is Decode for a value that must be a JSON object; a valid
// value of another type is an ErrSyntax *Error at its first byte.
func DecodeObject(data []byte, opts Options) (map[string]any, error) {
	v, err := Decode(data, opts)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &Error{Offset: SkipWS(data, 0), Kind: ErrSyntax, Detail: "not a JSON object"}
	}
	return m, nil
}

func (s *scanner) setVisitor(opts Options) {
	if opts.Visitor == nil || opts.VisitDepth <= 0 {
		return
	}
	s.visitor, s.visitDepth = opts.Visitor, opts.VisitDepth
	s.objVisitor, _ = opts.Visitor.(ObjectVisitor)
}

// top decodes exactly one value surrounded by optional whitespace.
func (s *scanner) top() (any, error) {
	s.skipWS()
	v, err := s.value(0)
	if err != nil {
		return nil, err
	}
	return v, s.finish()
}

// finish checks that only whitespace follows the value.
func (s *scanner) finish() error {
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
	objVisitor ObjectVisitor // visitor, when it also wants object starts
	visitDepth int

	// Decode mode: build values; text is string(data), so that strings
	// without escapes and numbers are substrings of one copy.
	build bool
	text  string
	vals  []any    // stack of the array elements and member values being built
	keys  []string // stack of the member keys being built
}

func (s *scanner) errf(kind error, detail string) error {
	return &Error{Offset: s.pos, Kind: kind, Detail: detail}
}

func (s *scanner) skipWS() {
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

// skipValue validates one value at s.pos without building it; depth is the
// nesting depth of its container (0 at the top level).
func (s *scanner) skipValue(depth int) error {
	if s.pos >= len(s.data) {
		return s.errf(ErrSyntax, "unexpected end of input")
	}
	switch s.data[s.pos] { // a jump table: strings and numbers first
	case '"':
		// skipStr's fast path, inlined: a plain string (no escape,
		// control or non-ASCII byte) ends at the first flagged byte;
		// anything else is scanned again by skipStr.
		data, i := s.data, s.pos+1
		for i+8 <= len(data) {
			if m := special8(binary.LittleEndian.Uint64(data[i:])); m != 0 {
				if i += bits.TrailingZeros64(m) >> 3; data[i] == '"' {
					s.pos = i + 1
					return nil
				}
				break
			}
			i += 8
		}
		_, err := s.skipStr()
		return err
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return s.number()
	case '{':
		if depth >= s.maxDepth {
			return s.errf(ErrTooDeep, "")
		}
		return s.skipObject(depth + 1)
	case '[':
		if depth >= s.maxDepth {
			return s.errf(ErrTooDeep, "")
		}
		return s.skipArray(depth + 1)
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		return s.errf(ErrSyntax, "invalid character")
	}
}

// value decodes one value (decode mode); depth is as for skipValue.
func (s *scanner) value(depth int) (any, error) {
	if s.pos >= len(s.data) {
		return nil, s.errf(ErrSyntax, "unexpected end of input")
	}
	switch s.data[s.pos] {
	case '"':
		return s.stringValue()
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		start := s.pos
		if err := s.number(); err != nil {
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
func (s *scanner) stringValue() (any, error) {
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

// arrayState is the cursor state of one open array.
type arrayState struct {
	started bool // an element was read: the next byte is ',' or ']'
}

// nextElement moves to the next element of the array opened at a (s.pos
// just after '[' and its whitespace, or just after the previous element),
// reporting false once ']' is consumed.
func (s *scanner) nextElement(a *arrayState) (bool, error) {
	if !a.started {
		a.started = true
		if s.pos < len(s.data) && s.data[s.pos] == ']' {
			s.pos++
			return false, nil
		}
	} else {
		s.skipWS()
		if s.pos >= len(s.data) {
			return false, s.errf(ErrSyntax, "unterminated array")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return false, nil
		default:
			return false, s.errf(ErrSyntax, "expected ',' or ']'")
		}
	}
	s.skipWS()
	return true, nil
}

// openArray consumes '[' and the whitespace after it.
func (s *scanner) openArray() {
	s.pos++
	s.skipWS()
}

func (s *scanner) skipArray(depth int) error {
	s.openArray()
	var a arrayState
	for {
		more, err := s.nextElement(&a)
		if !more || err != nil {
			return err
		}
		if err := s.skipValue(depth); err != nil {
			return err
		}
	}
}

func (s *scanner) array(depth int) (any, error) {
	s.openArray()
	base := len(s.vals)
	var a arrayState
	for {
		more, err := s.nextElement(&a)
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		v, err := s.value(depth)
		if err != nil {
			return nil, err
		}
		s.vals = append(s.vals, v)
	}
	arr := make([]any, len(s.vals)-base)
	copy(arr, s.vals[base:])
	clear(s.vals[base:])
	s.vals = s.vals[:base]
	return arr, nil
}

// smallObject is the number of keys compared pairwise before switching to a
// map of folded keys.
const smallObject = 16

// keySpan locates one object key: in the input when it has no escapes, else
// in the scanner's unescape buffer. Offsets are int32 to keep an object's
// key table small (it is zeroed for every object); inputs of 2 GiB and more
// use the map of folded keys from the first key.
type keySpan struct {
	start, end int32
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
		return keySpan{start: int32(start + 1), end: int32(s.pos - 1), ascii: !s.nonASCII}, nil
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
	return keySpan{start: int32(base), end: int32(len(b)), unescaped: true, ascii: isASCII(b[base:])}, nil
}

// objectState is the cursor state of one open object: where its escaped
// keys start in s.buf and the keys seen so far, for the duplicate and
// case-variant checks.
type objectState struct {
	started  bool // a member was read: the next byte is ',' or '}'
	nonASCII bool // a key of small is not pure ASCII
	n        int
	bufBase  int
	// seen has bit asciiFoldBit(k) set for every key k of small: an ASCII
	// key whose bit is clear is neither equal to nor a case variant of
	// any earlier key when they are all ASCII.
	seen   uint64
	last   keySpan // the key nextMember returned last
	small  [smallObject]keySpan
	folded map[string]string
}

// asciiFoldBit maps an ASCII key to one of 64 bits so that keys equal
// under ASCII case folding (equal length, same letters up to case) share
// it: a multiplicative hash of the length and the first, second and last
// bytes with bit 5 (the ASCII case bit) set, which merges a few non-letters
// too; a shared bit only sends a key to the full comparison.
func asciiFoldBit(k []byte) uint64 {
	x := uint64(len(k))
	if len(k) > 1 {
		x |= uint64(k[0]|0x20)<<8 | uint64(k[1]|0x20)<<16 | uint64(k[len(k)-1]|0x20)<<24
	} else if len(k) == 1 {
		x |= uint64(k[0]|0x20) << 8
	}
	return 1 << (x * 0x9E3779B97F4A7C15 >> 58)
}

// openObject consumes '{' and the whitespace after it.
func (s *scanner) openObject(o *objectState) {
	o.bufBase = len(s.buf)
	s.pos++
	s.skipWS()
}

// nextMember moves to the next member of the object opened at o, checks
// its key against the previous ones and consumes the ':' and whitespace
// after it, so that s.pos is at the member's value. It returns the
// unescaped key (valid until the object ends; o.last locates it), or false
// once '}' is consumed.
//
// The common member is read here: a plain ASCII key (see skipValue) in an
// object whose keys so far are all ASCII and none shares its fold bit (see
// objectState.seen), so that it conflicts with none of them, with no
// whitespace before the ',' or '}'. Anything else is read by nextMemberSlow
// from the same state: the fast path changes nothing until it has read the
// whole member.
func (s *scanner) nextMember(o *objectState) (key []byte, ok bool, err error) {
	data, i := s.data, s.pos
	if i >= len(data) || o.nonASCII || o.folded != nil || o.n >= smallObject || len(data) > maxInt32 {
		return s.nextMemberSlow(o)
	}
	switch data[i] {
	case ',':
		if !o.started {
			return s.nextMemberSlow(o)
		}
		if i++; i < len(data) && data[i] <= ' ' {
			i = SkipWS(data, i)
		}
	case '}':
		if o.started {
			s.buf = s.buf[:o.bufBase]
		}
		o.started = true
		s.pos = i + 1
		return nil, false, nil
	case '"':
		if o.started {
			return s.nextMemberSlow(o)
		}
	default:
		return s.nextMemberSlow(o)
	}
	if i >= len(data) || data[i] != '"' {
		return s.nextMemberSlow(o)
	}
	start := i + 1
	for j := start; j+8 <= len(data); j += 8 {
		m := special8(binary.LittleEndian.Uint64(data[j:]))
		if m == 0 {
			continue
		}
		j += bits.TrailingZeros64(m) >> 3
		if data[j] != '"' {
			break
		}
		k := j + 1
		if k < len(data) && data[k] <= ' ' {
			k = SkipWS(data, k)
		}
		if k >= len(data) || data[k] != ':' {
			break
		}
		if k++; k < len(data) && data[k] <= ' ' {
			k = SkipWS(data, k)
		}
		key := data[start:j]
		bit := asciiFoldBit(key)
		if o.seen&bit != 0 {
			break
		}
		o.started = true
		o.seen |= bit
		ks := keySpan{start: int32(start), end: int32(j), ascii: true}
		o.small[o.n] = ks
		o.n++
		o.last = ks
		s.pos = k
		return key, true, nil
	}
	return s.nextMemberSlow(o)
}

// nextMemberSlow is nextMember for any member.
func (s *scanner) nextMemberSlow(o *objectState) (key []byte, ok bool, err error) {
	if !o.started {
		o.started = true
		if s.pos < len(s.data) && s.data[s.pos] == '}' {
			s.pos++
			return nil, false, nil
		}
	} else if s.pos < len(s.data) && s.data[s.pos] == ',' {
		s.pos++ // compact text: the separator right after the value
	} else {
		s.skipWS()
		if s.pos >= len(s.data) {
			return nil, false, s.errf(ErrSyntax, "unterminated object")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			s.buf = s.buf[:o.bufBase]
			return nil, false, nil
		default:
			return nil, false, s.errf(ErrSyntax, "expected ',' or '}'")
		}
	}
	s.skipWS()
	if s.pos >= len(s.data) || s.data[s.pos] != '"' {
		return nil, false, s.errf(ErrSyntax, "expected object key")
	}
	keyStart := s.pos
	ks, err := s.key()
	if err != nil {
		return nil, false, err
	}
	if err := s.addKey(o, ks, keyStart); err != nil {
		return nil, false, err
	}
	if s.pos+1 < len(s.data) && s.data[s.pos] == ':' && s.data[s.pos+1] > ' ' {
		s.pos++ // compact text: the value right after the colon
	} else {
		s.skipWS()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return nil, false, s.errf(ErrSyntax, "expected ':'")
		}
		s.pos++
		s.skipWS()
	}
	o.last = ks
	return s.keyBytes(ks), true, nil
}

// addKey refuses a key equal to, or a case variant of, a previous key of
// the object, and records it.
func (s *scanner) addKey(o *objectState, ks keySpan, keyStart int) error {
	kb := s.keyBytes(ks)
	if o.folded == nil && o.n < smallObject && len(s.data) <= maxInt32 {
		if ks.ascii && !o.nonASCII {
			// Between ASCII keys, a conflict means the same bit.
			bit := asciiFoldBit(kb)
			if o.seen&bit == 0 {
				o.seen |= bit
				o.small[o.n] = ks
				o.n++
				return nil
			}
			o.seen |= bit
		}
		if !ks.ascii {
			o.nonASCII = true
		}
		for i := 0; i < o.n; i++ {
			sameLen := o.small[i].end-o.small[i].start == int32(len(kb))
			if o.small[i].ascii && ks.ascii {
				// ASCII keys conflict only at equal lengths.
				if !sameLen {
					continue
				}
				prev := s.keyBytes(o.small[i])
				if string(prev) == string(kb) {
					return &Error{Offset: keyStart, Kind: ErrDuplicateKey, Detail: strconv.Quote(string(kb))}
				}
				if equalFoldASCII(prev, kb) {
					return &Error{Offset: keyStart, Kind: ErrCaseVariant, Detail: strconv.Quote(string(kb))}
				}
				continue
			}
			prev := s.keyBytes(o.small[i])
			if sameLen && string(prev) == string(kb) {
				return &Error{Offset: keyStart, Kind: ErrDuplicateKey, Detail: strconv.Quote(string(kb))}
			}
			if equalFold(prev, kb) {
				return &Error{Offset: keyStart, Kind: ErrCaseVariant, Detail: strconv.Quote(string(kb))}
			}
		}
		o.small[o.n] = ks
		o.n++
		return nil
	}
	if o.folded == nil {
		o.folded = make(map[string]string, 2*smallObject)
		for i := 0; i < o.n; i++ {
			k := string(s.keyBytes(o.small[i]))
			o.folded[foldKey(k)] = k
		}
	}
	k := string(kb)
	fk := foldKey(k)
	if prev, ok := o.folded[fk]; ok {
		kind := ErrCaseVariant
		if prev == k {
			kind = ErrDuplicateKey
		}
		return &Error{Offset: keyStart, Kind: kind, Detail: strconv.Quote(k)}
	}
	o.folded[fk] = k
	return nil
}

const maxInt32 = 1<<31 - 1

func (s *scanner) skipObject(depth int) error {
	if s.objVisitor != nil && depth <= s.visitDepth {
		s.objVisitor.VisitObject(depth, s.pos)
	}
	var o objectState
	s.openObject(&o)
	for {
		key, more, err := s.nextMember(&o)
		if !more || err != nil {
			return err
		}
		if s.visitor != nil && depth <= s.visitDepth {
			s.visitor.VisitMember(depth, key, s.pos)
			if depth == s.visitDepth && s.pos < len(s.data) && (s.data[s.pos] == '[' || s.data[s.pos] == '{') {
				// Nothing in this value is visited: the fast skipper
				// first, as Scanner.Value does. skipValue's objects
				// are deeper than visitDepth, so a value it reads
				// again is tried fast only once.
				if end := skipFast(s.data, s.pos, depth, s.maxDepth); end >= 0 {
					s.pos = end
					continue
				}
			}
		}
		if err := s.skipValue(depth); err != nil {
			return err
		}
	}
}

func (s *scanner) object(depth int) (any, error) {
	if s.objVisitor != nil && depth <= s.visitDepth {
		s.objVisitor.VisitObject(depth, s.pos)
	}
	var o objectState
	s.openObject(&o)
	base, keyBase := len(s.vals), len(s.keys)
	for {
		key, more, err := s.nextMember(&o)
		if err != nil {
			return nil, err
		}
		if !more {
			return s.buildObject(base, keyBase), nil
		}
		if s.visitor != nil && depth <= s.visitDepth {
			s.visitor.VisitMember(depth, key, s.pos)
		}
		if o.last.unescaped {
			s.keys = append(s.keys, string(key))
		} else {
			s.keys = append(s.keys, s.text[o.last.start:o.last.end])
		}
		v, err := s.value(depth)
		if err != nil {
			return nil, err
		}
		s.vals = append(s.vals, v)
	}
}

// buildObject pops the members collected since base into an exactly sized
// map (decode mode).
func (s *scanner) buildObject(base, keyBase int) map[string]any {
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
