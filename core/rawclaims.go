package core

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

// RawClaims is every claim of a token (or of an introspection response) as
// the JSON text it arrived in. [ParseRawClaims] checks that text once,
// strictly (internal/jsonscan: no duplicate or case-variant member names at
// any depth, valid UTF-8, one JSON object and nothing after it), and in the
// same pass notes where each top-level member's value starts. A value is
// decoded only when it is asked for ([RawClaims.Get], [RawClaims.Lookup]),
// with numbers as json.Number, and nothing decoded is kept: a RawClaims is
// immutable, holds exactly its JSON text plus 12 bytes per top-level
// member, and never grows, so one value is safely shared by every request
// that carries the same token.
//
// The zero value holds no claims.
type RawClaims struct {
	s *rawSet
}

// rawSet is the validated text of a JSON object and the position of each
// top-level member.
type rawSet struct {
	data    []byte
	members []member
	escaped []string // names of members whose key has escapes
	small   [12]member
}

// member locates one top-level member: its name is data[k0:k1] when the key
// has no escapes, else escaped[-k0-1]; its value starts at data[val].
type member struct {
	k0, k1, val int32
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
	if len(data) > maxRawClaims {
		return RawClaims{}, fmt.Errorf("core: claims: %d bytes, too large", len(data))
	}
	s := &rawSet{data: bytes.Clone(data)}
	s.members = s.small[:0]
	if err := jsonscan.Validate(s.data, jsonscan.Options{Visitor: s, VisitDepth: 1}); err != nil {
		return RawClaims{}, err
	}
	if i := jsonscan.SkipWS(s.data, 0); s.data[i] != '{' {
		return RawClaims{}, ErrNotObject
	}
	return RawClaims{s: s}, nil
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
// s.data when the key has no escapes: its offset is then recovered from
// the slice's capacity, checked by comparing element addresses; any other
// key is copied.
func (s *rawSet) VisitMember(_ int, key []byte, value int) {
	m := member{val: int32(value)}
	if off := cap(s.data) - cap(key); len(key) > 0 && off >= 0 && off+len(key) <= len(s.data) && &s.data[off] == &key[0] {
		m.k0, m.k1 = int32(off), int32(off+len(key))
	} else {
		s.escaped = append(s.escaped, string(key))
		m.k0 = -int32(len(s.escaped))
	}
	s.members = append(s.members, m)
}

// find returns the value offset of the top-level member name.
func (s *rawSet) find(name string) (int, bool) {
	if s == nil {
		return 0, false
	}
	for _, m := range s.members {
		if m.k0 >= 0 {
			if int(m.k1-m.k0) == len(name) && string(s.data[m.k0:m.k1]) == name {
				return int(m.val), true
			}
		} else if s.escaped[-m.k0-1] == name {
			return int(m.val), true
		}
	}
	return 0, false
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
		if m.k0 >= 0 {
			out[i] = string(r.s.data[m.k0:m.k1])
		} else {
			out[i] = r.s.escaped[-m.k0-1]
		}
	}
	return out
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
	i, ok := r.s.find(name)
	if !ok {
		return nil, false
	}
	return r.s.decodeAt(i)
}

// decodeAt decodes the validated value at data[i].
func (s *rawSet) decodeAt(i int) (any, bool) {
	d := s.data
	switch d[i] {
	case '"':
		v, _ := jsonscan.String(d, i)
		return v, true
	case 't':
		return true, true
	case 'f':
		return false, true
	case 'n':
		return nil, true
	case '{', '[':
		v, err := jsonscan.Decode(d[i:jsonscan.ValueEnd(d, i)], jsonscan.Options{})
		if err != nil {
			return nil, false // not reached: the text passed Validate
		}
		return v, true
	default:
		return json.Number(d[i:jsonscan.ValueEnd(d, i)]), true
	}
}

// Lookup returns the claim at path (see [Claims.Lookup] for the path
// syntax), decoding only the value found. Nested objects are walked in the
// validated text without decoding their other members.
func (r RawClaims) Lookup(path string) (any, bool) {
	i, ok := r.locate(path)
	if !ok {
		return nil, false
	}
	return r.s.decodeAt(i)
}

// locate returns the offset of the value at path.
func (r RawClaims) locate(path string) (int, bool) {
	if r.s == nil || path == "" {
		return 0, false
	}
	if i, ok := r.s.find(path); ok {
		return i, true
	}
	if strings.IndexByte(path, '.') < 0 && strings.IndexByte(path, '"') < 0 {
		return 0, false // a plain name was looked up above
	}
	seg, rest, more, ok := nextSegment(path)
	if !ok {
		return 0, false
	}
	i, ok := r.s.find(seg)
	if !ok {
		return 0, false
	}
	d := r.s.data
	for more {
		if seg, rest, more, ok = nextSegment(rest); !ok || d[i] != '{' {
			return 0, false
		}
		found := false
		for it := jsonscan.Members(d, i); it.Next(); it.Skip() {
			if string(it.Key(nil)) == seg { // allocates only for an escaped key
				i, found = it.Value(), true
				break
			}
		}
		if !found {
			return 0, false
		}
	}
	return i, true
}

// Map decodes every claim (the full strict decode), into a new map; nil for
// the zero RawClaims.
func (r RawClaims) Map() map[string]any {
	if r.s == nil {
		return nil
	}
	m, err := jsonscan.DecodeObject(r.s.data, jsonscan.Options{})
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
	return bytes.Clone(r.s.data)
}

// Size returns the bytes the claims hold: their JSON text plus the member
// index (for cache accounting).
func (r RawClaims) Size() int {
	if r.s == nil {
		return 0
	}
	n := len(r.s.data) + rawSetBytes + 16*cap(r.s.escaped)
	if cap(r.s.members) > len(r.s.small) {
		n += memberBytes * cap(r.s.members)
	}
	for _, e := range r.s.escaped {
		n += len(e)
	}
	return n
}

// memberBytes is the size of a member; rawSetBytes that of a rawSet (three
// slice headers and the inline members).
const (
	memberBytes = 12
	rawSetBytes = 3*24 + 12*memberBytes
)

// string returns the claim at path if it is a JSON string.
func (r RawClaims) string(path string) (string, bool) {
	i, ok := r.locate(path)
	if !ok || r.s.data[i] != '"' {
		return "", false
	}
	v, _ := jsonscan.String(r.s.data, i)
	return v, true
}

// strings implements Claims.Strings on the text: an array's string elements
// are substrings of one copy of the array.
func (r RawClaims) strings(path string, splitSpaces bool) []string {
	i, ok := r.locate(path)
	if !ok {
		return nil
	}
	d := r.s.data
	switch d[i] {
	case '"':
		b, _ := jsonscan.AppendString(nil, d, i)
		if splitSpaces {
			return strings.Fields(string(b))
		}
		if len(b) == 0 {
			return nil
		}
		return []string{string(b)}
	case '[':
		end := jsonscan.ValueEnd(d, i)
		text := string(d[i:end])
		out := []string{}
		for j := jsonscan.SkipWS(d, i+1); j < end && d[j] != ']'; {
			e := jsonscan.ValueEnd(d, j)
			if d[j] == '"' {
				if se, esc := jsonscan.StringEnd(d, j); esc {
					v, _ := jsonscan.String(d, j)
					out = append(out, v)
				} else {
					out = append(out, text[j+1-i:se-1-i])
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
