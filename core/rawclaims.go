package core

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"unsafe"

	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

// RawClaims is every claim of a token (or of an introspection response) as
// the JSON text it arrived in. [ParseRawClaims] checks that text once,
// strictly (internal/jsonscan: no duplicate or case-variant member names at
// any depth, valid UTF-8, one JSON object and nothing after it), and in the
// same pass notes where each top-level member's value starts. A value is
// decoded only when it is asked for ([RawClaims.Get], [RawClaims.Lookup]),
// with numbers as json.Number, and nothing decoded is kept: a RawClaims is
// immutable, holds exactly its JSON text plus 16 bytes per top-level
// member and a fixed index of the registered claims (iss, sub, aud, exp,
// ..., found without a scan), and never grows, so one value is safely
// shared by every request that carries the same token.
//
// The zero value holds no claims.
type RawClaims struct {
	s *rawSet
}

// rawSet is the validated text of a JSON object and where each top-level
// member's name and value are.
type rawSet struct {
	text    string
	members []member
	escaped []string // names of members whose key has escapes
	small   [12]member
	// known[k] is 1 + the index in members of the registered claim
	// knownNames[k], 0 when the token lacks it, farIndex when the index is
	// too large for a byte (then it is found by a scan): the verifier asks
	// for each of them (present or not) on every new token.
	known [len(knownNames)]uint8
	src   []byte // the input, only while ParseRawClaims indexes it
}

// farIndex in rawSet.known: the member is there, at index 254 or later.
const farIndex = 255

// knownNames are the claims looked up by index instead of a scan.
var knownNames = [...]string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "scope", "scp",
	"client_id", "azp", "nonce", "at_hash", "cnf", "tid", "typ"}

// knownIndex returns name's index in knownNames, or -1.
func knownIndex(name string) int {
	switch name {
	case "iss":
		return 0
	case "sub":
		return 1
	case "aud":
		return 2
	case "exp":
		return 3
	case "nbf":
		return 4
	case "iat":
		return 5
	case "jti":
		return 6
	case "scope":
		return 7
	case "scp":
		return 8
	case "client_id":
		return 9
	case "azp":
		return 10
	case "nonce":
		return 11
	case "at_hash":
		return 12
	case "cnf":
		return 13
	case "tid":
		return 14
	case "typ":
		return 15
	}
	return -1
}

// member locates one top-level member: its name is text[k0:k1] when the
// key has no escapes, else escaped[-k0-1]; its value is text[val:end].
type member struct {
	k0, k1, val, end int32
}

// maxRawClaims caps the text ParseRawClaims accepts so that offsets fit in
// an int32; tokens and introspection responses are far smaller.
const maxRawClaims = math.MaxInt32

// ErrNotObject is returned by ParseRawClaims for valid JSON that is not an
// object.
var ErrNotObject = errors.New("core: claims are not a JSON object")

// ParseRawClaims validates data strictly (see [RawClaims]) and returns the
// claims it holds. data is copied. An error is ErrNotObject or the strict
// scanner's, whose message names the rule, the offset and at most a member
// name (never a value).
func ParseRawClaims(data []byte) (RawClaims, error) {
	s, err := parseRawSet(data)
	if err != nil {
		return RawClaims{}, err
	}
	s.text = string(data)
	return RawClaims{s: s}, nil
}

// ParseRawClaimsText is ParseRawClaims for claims text held in a string:
// the claims keep text itself (a string is immutable), nothing is copied.
// The JWT verifier hands it the token's freshly decoded payload.
func ParseRawClaimsText(text string) (RawClaims, error) {
	// A read-only view: jsonscan.Validate never writes its input, and the
	// rawSet keeps only offsets into it.
	s, err := parseRawSet(unsafe.Slice(unsafe.StringData(text), len(text)))
	if err != nil {
		return RawClaims{}, err
	}
	s.text = text
	return RawClaims{s: s}, nil
}

// parseRawSet validates data and indexes its top-level members; the caller
// sets text to data's contents.
func parseRawSet(data []byte) (*rawSet, error) {
	if len(data) > maxRawClaims {
		return nil, fmt.Errorf("core: claims: %d bytes, too large", len(data))
	}
	s := &rawSet{src: data}
	s.members = s.small[:0]
	if err := jsonscan.Validate(data, jsonscan.Options{Visitor: s, VisitDepth: 1}); err != nil {
		return nil, err
	}
	if i := jsonscan.SkipWS(data, 0); data[i] != '{' {
		return nil, ErrNotObject
	}
	s.valueEnds()
	s.src = nil
	return s, nil
}

// valueEnds sets each member's end. A value ends at the last non-space
// before the comma that precedes the next key (whose offset is known when it
// has no escapes) or before the closing brace: the work is per member, not
// per byte. Values followed by an escaped key are measured with ValueEnd.
func (s *rawSet) valueEnds() {
	d := s.src
	back := func(j int) int { // index of the last non-space at or before j
		for j >= 0 && (d[j] == ' ' || d[j] == '\t' || d[j] == '\n' || d[j] == '\r') {
			j--
		}
		return j
	}
	for i := range s.members {
		m := &s.members[i]
		switch {
		case i+1 == len(s.members):
			m.end = int32(back(back(len(d)-1)-1) + 1) // before '}'
		case s.members[i+1].k0 > 0:
			m.end = int32(back(back(int(s.members[i+1].k0)-2)-1) + 1) // before ','
		default:
			m.end = int32(jsonscan.ValueEnd(d, int(m.val)))
		}
	}
}

// RawClaimsFromMap encodes m with encoding/json and parses the result with
// ParseRawClaims, for verifiers and tests that hold claims as Go values.
// A nil or empty m gives claims with no members.
func RawClaimsFromMap(m map[string]any) (RawClaims, error) {
	if m == nil {
		m = map[string]any{}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return RawClaims{}, fmt.Errorf("core: claims: %w", err)
	}
	return ParseRawClaims(b)
}

// VisitMember records a top-level member (jsonscan.Visitor). key aliases
// the input when the key has no escapes: its offset is then recovered from
// the slice's capacity, checked by comparing element addresses; any other
// key is copied.
func (s *rawSet) VisitMember(_ int, key []byte, value int) {
	m := member{val: int32(value)}
	d := s.src
	if off := cap(d) - cap(key); len(key) > 0 && off >= 0 && off+len(key) <= len(d) && &d[off] == &key[0] {
		m.k0, m.k1 = int32(off), int32(off+len(key))
	} else {
		s.escaped = append(s.escaped, string(key))
		m.k0 = -int32(len(s.escaped))
	}
	if k := knownIndex(string(key)); k >= 0 { // at most once: Validate refuses duplicates
		s.known[k] = uint8(min(len(s.members)+1, farIndex))
	}
	s.members = append(s.members, m)
}

// find returns the top-level member name.
func (s *rawSet) find(name string) (member, bool) {
	if s == nil {
		return member{}, false
	}
	if k := knownIndex(name); k >= 0 {
		switch i := s.known[k]; i {
		case 0:
			return member{}, false
		case farIndex:
		default:
			return s.members[i-1], true
		}
	}
	for _, m := range s.members {
		if m.k0 >= 0 {
			if int(m.k1-m.k0) == len(name) && s.text[m.k0:m.k1] == name {
				return m, true
			}
		} else if s.escaped[-m.k0-1] == name {
			return m, true
		}
	}
	return member{}, false
}

// Len returns the number of top-level claims.
func (r RawClaims) Len() int {
	if r.s == nil {
		return 0
	}
	return len(r.s.members)
}

// Names returns the top-level claim names in document order.
func (r RawClaims) Names() []string {
	if r.s == nil {
		return nil
	}
	out := make([]string, len(r.s.members))
	for i, m := range r.s.members {
		out[i] = r.s.name(m)
	}
	return out
}

func (s *rawSet) name(m member) string {
	if m.k0 >= 0 {
		return s.text[m.k0:m.k1]
	}
	return s.escaped[-m.k0-1]
}

// Has reports whether the top-level claim name is present (with any value,
// null included), without decoding it.
func (r RawClaims) Has(name string) bool {
	_, ok := r.s.find(name)
	return ok
}

// Get decodes the top-level claim name: a string, json.Number, bool, nil
// (JSON null), []any or map[string]any. Each call decodes anew; the result
// is the caller's.
func (r RawClaims) Get(name string) (any, bool) {
	m, ok := r.s.find(name)
	if !ok {
		return nil, false
	}
	return r.s.decode(m), true
}

// GetString returns the top-level claim name if it is a JSON string, and
// whether it is one. Unlike Get it does not box the value: the verifiers
// read the registered claims with it.
func (r RawClaims) GetString(name string) (string, bool) {
	m, ok := r.s.find(name)
	if !ok || r.s.text[m.val] != '"' {
		return "", false
	}
	v := r.s.text[m.val:m.end]
	if strings.IndexByte(v, '\\') < 0 {
		return v[1 : len(v)-1], true
	}
	s, _ := jsonscan.String([]byte(v), 0)
	return s, true
}

// GetNumber returns the top-level claim name if it is a JSON number, and
// whether it is one.
func (r RawClaims) GetNumber(name string) (json.Number, bool) {
	m, ok := r.s.find(name)
	if !ok {
		return "", false
	}
	switch c := r.s.text[m.val]; {
	case c == '-' || c >= '0' && c <= '9':
		return json.Number(r.s.text[m.val:m.end]), true
	}
	return "", false
}

// decode decodes the value of member m. Strings without escapes and
// numbers are substrings of the text; anything else is decoded from a copy
// of the value's text.
func (s *rawSet) decode(m member) any {
	v := s.text[m.val:m.end]
	switch v[0] {
	case '"':
		if strings.IndexByte(v, '\\') < 0 {
			return v[1 : len(v)-1]
		}
	case 't':
		return true
	case 'f':
		return false
	case 'n':
		return nil
	case '{', '[':
	default:
		return json.Number(v)
	}
	return decodeValue([]byte(v), 0)
}

// decodeValue decodes the validated value at d[i].
func decodeValue(d []byte, i int) any {
	switch d[i] {
	case '"':
		v, _ := jsonscan.String(d, i)
		return v
	case 't':
		return true
	case 'f':
		return false
	case 'n':
		return nil
	}
	end := jsonscan.ValueEnd(d, i)
	if d[i] != '{' && d[i] != '[' {
		return json.Number(d[i:end])
	}
	v, err := jsonscan.Decode(d[i:end], jsonscan.Options{})
	if err != nil {
		return nil // not reached: the text passed Validate
	}
	return v
}

// Lookup returns the claim at path (see [Claims.Lookup] for the path
// syntax), decoding only the value found. Nested objects are walked in the
// validated text without decoding their other members.
func (r RawClaims) Lookup(path string) (any, bool) {
	l, ok := r.locate(path)
	if !ok {
		return nil, false
	}
	if l.nested == nil {
		return r.s.decode(l.m), true
	}
	return decodeValue(l.nested, l.i), true
}

// located is a claim found by locate: the top-level member m, or, when
// nested is set, the value at nested[i] (a copy of a top-level value).
type located struct {
	m      member
	nested []byte
	i      int
}

// locate finds the value at path.
func (r RawClaims) locate(path string) (located, bool) {
	if r.s == nil || path == "" {
		return located{}, false
	}
	if m, ok := r.s.find(path); ok {
		return located{m: m}, true
	}
	if strings.IndexByte(path, '.') < 0 && strings.IndexByte(path, '"') < 0 {
		return located{}, false // a plain name was looked up above
	}
	seg, rest, more, ok := nextSegment(path)
	if !ok {
		return located{}, false
	}
	m, ok := r.s.find(seg)
	if !ok {
		return located{}, false
	}
	if !more {
		return located{m: m}, true
	}
	if r.s.text[m.val] != '{' {
		return located{}, false
	}
	d := []byte(r.s.text[m.val:m.end])
	i := 0
	for more {
		if seg, rest, more, ok = nextSegment(rest); !ok || d[i] != '{' {
			return located{}, false
		}
		found := false
		for it := jsonscan.Members(d, i); it.Next(); it.Skip() {
			if string(it.Key(nil)) == seg { // allocates only for an escaped key
				i, found = it.Value(), true
				break
			}
		}
		if !found {
			return located{}, false
		}
	}
	return located{nested: d, i: i}, true
}

// Map decodes every claim (the full strict decode), into a new map; nil for
// the zero RawClaims.
func (r RawClaims) Map() map[string]any {
	if r.s == nil {
		return nil
	}
	m, err := jsonscan.DecodeObject([]byte(r.s.text), jsonscan.Options{})
	if err != nil {
		return map[string]any{} // not reached: the text passed Validate
	}
	return m
}

// JSON returns a copy of the validated JSON text; nil for the zero
// RawClaims.
func (r RawClaims) JSON() []byte {
	if r.s == nil {
		return nil
	}
	return []byte(r.s.text)
}

// Size returns the bytes the claims hold: their JSON text plus the member
// index (for cache accounting). It never changes: nothing decoded is kept.
func (r RawClaims) Size() int {
	if r.s == nil {
		return 0
	}
	n := len(r.s.text) + rawSetBytes + 16*cap(r.s.escaped)
	if cap(r.s.members) > len(r.s.small) {
		n += memberBytes * cap(r.s.members)
	}
	for _, e := range r.s.escaped {
		n += len(e)
	}
	return n
}

// memberBytes is the size of a member; rawSetBytes that of a rawSet (a
// string, three slice headers, the inline members and the known index).
const (
	memberBytes = 16
	rawSetBytes = 16 + 3*24 + 12*memberBytes + len(knownNames)
)

// string returns the claim at path if it is a JSON string.
func (r RawClaims) string(path string) (string, bool) {
	v, ok := r.Lookup(path)
	s, isStr := v.(string)
	return s, ok && isStr
}

// strings implements Claims.Strings on the text: the string elements of a
// top-level array are substrings of the text unless they have escapes.
func (r RawClaims) strings(path string, splitSpaces bool) []string {
	l, ok := r.locate(path)
	if !ok {
		return nil
	}
	d, i, text := l.nested, l.i, ""
	if d == nil {
		text = r.s.text[l.m.val:l.m.end]
		switch text[0] {
		case '"', '[':
		default:
			return nil
		}
		d, i = []byte(text), 0
	}
	switch d[i] {
	case '"':
		s, _ := jsonscan.String(d, i)
		if splitSpaces {
			return strings.Fields(s)
		}
		if s == "" {
			return nil
		}
		return []string{s}
	case '[':
		end := jsonscan.ValueEnd(d, i)
		if text == "" {
			text = string(d[i:end])
		}
		out := []string{}
		for j := jsonscan.SkipWS(d, i+1); j < end && d[j] != ']'; {
			e := jsonscan.ValueEnd(d, j)
			if d[j] == '"' {
				if _, esc := jsonscan.StringEnd(d, j); esc {
					v, _ := jsonscan.String(d, j)
					out = append(out, v)
				} else {
					out = append(out, text[j+1-i:e-1-i])
				}
			}
			if j = jsonscan.SkipWS(d, e); j < end && d[j] == ',' {
				j = jsonscan.SkipWS(d, j+1)
			}
		}
		return out
	}
	return nil
}
