// Package claims is the project's one claims checker: RFC 7519 NumericDate
// parsing, the exp/nbf/iat checks with leeway, "aud" and scope parsing. The
// JWT verifier (core/verifier), token introspection (core/introspect) and
// the authorization server (authserver) all use it, so that a fix lands in
// one place.
//
// Claims are read through a Getter: core.RawClaims, or a Map decoded by
// internal/jsonscan (numbers are json.Number). Errors are *Error values whose Kind is one of the core
// token sentinels (core.ErrInvalidClaims, core.ErrExpired, ...), so that
// the resource-server side needs no mapping; the authorization server maps
// them onto its own error.
package claims

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
)

// Error kinds, matched with errors.Is.
var (
	// ErrInvalid: a claim has the wrong JSON type or is out of range.
	ErrInvalid = core.ErrInvalidClaims
	// ErrExpired: now >= exp + leeway.
	ErrExpired = core.ErrExpired
	// ErrNotYetValid: nbf > now + leeway.
	ErrNotYetValid = core.ErrNotYetValid
	// ErrIssuedInFuture: iat > now + leeway.
	ErrIssuedInFuture = core.ErrIssuedInFuture
	// ErrAudience: "aud" is empty ("", [] or a list with "").
	ErrAudience = core.ErrAudience
)

// Error is a claim check failure.
type Error struct {
	Kind   error  // one of the kinds above
	Detail string // client-safe detail naming the claim
}

func (e *Error) Error() string { return e.Kind.Error() + ": " + e.Detail }

// Unwrap returns Kind.
func (e *Error) Unwrap() error { return e.Kind }

func fail(kind error, detail string) error { return &Error{Kind: kind, Detail: detail} }

// MaxNumericDate is 9999-12-31T23:59:59Z; later dates are refused rather
// than risking overflow.
const MaxNumericDate = 253402300799

// NumericDate parses an RFC 7519 §2 NumericDate: a JSON number of seconds
// (a json.Number), possibly fractional, between 0 and MaxNumericDate.
func NumericDate(name string, v any) (time.Time, error) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, fail(ErrInvalid, name+" is not a number")
	}
	if i, ok := digits(n); ok {
		if i > MaxNumericDate {
			return time.Time{}, fail(ErrInvalid, name+" out of range")
		}
		return time.Unix(i, 0), nil
	}
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		if i < 0 || i > MaxNumericDate {
			return time.Time{}, fail(ErrInvalid, name+" out of range")
		}
		return time.Unix(i, 0), nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > MaxNumericDate {
		return time.Time{}, fail(ErrInvalid, name+" out of range")
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}

// digits reads n when it is 1 to 12 decimal digits (every NumericDate
// until MaxNumericDate, and more), the usual form, faster than ParseInt;
// anything else is left to ParseInt and ParseFloat.
func digits(n json.Number) (int64, bool) {
	if len(n) == 0 || len(n) > 12 {
		return 0, false
	}
	var i int64
	for j := 0; j < len(n); j++ {
		c := n[j]
		if c < '0' || c > '9' {
			return 0, false
		}
		i = i*10 + int64(c-'0')
	}
	return i, true
}

// Getter reads one top-level claim: core.RawClaims (which decodes it from
// the validated token text on demand) or a decoded Map.
type Getter interface {
	Get(name string) (any, bool)
}

// typedGetter is implemented by core.RawClaims: string and number claims
// read without boxing them into an interface (a heap allocation each).
type typedGetter interface {
	GetString(name string) (string, bool)
	GetNumber(name string) (json.Number, bool)
}

// Map is a decoded claims set as a Getter.
type Map map[string]any

// Get returns m[name].
func (m Map) Get(name string) (any, bool) {
	v, ok := m[name]
	return v, ok
}

// Date reads the NumericDate claim name from m; present is false (and t
// zero) when it is absent.
func Date(m map[string]any, name string) (t time.Time, present bool, err error) {
	return date(Map(m), name)
}

func date(g Getter, name string) (t time.Time, present bool, err error) {
	if tg, ok := g.(typedGetter); ok {
		if n, ok := tg.GetNumber(name); ok {
			t, err = NumericDate(name, n)
			return t, true, err
		}
	}
	v, ok := g.Get(name)
	if !ok {
		return time.Time{}, false, nil
	}
	t, err = NumericDate(name, v)
	return t, true, err
}

// Times are a token's exp, nbf and iat; a zero field is absent.
type Times struct {
	Expiry, NotBefore, IssuedAt time.Time
}

// ReadTimes reads exp, nbf and iat from g.
func ReadTimes(g Getter) (Times, error) {
	var t Times
	var err error
	if t.Expiry, _, err = date(g, "exp"); err != nil {
		return Times{}, err
	}
	if t.NotBefore, _, err = date(g, "nbf"); err != nil {
		return Times{}, err
	}
	if t.IssuedAt, _, err = date(g, "iat"); err != nil {
		return Times{}, err
	}
	return t, nil
}

// Check applies one leeway to the present times: now >= exp+leeway is
// ErrExpired, nbf > now+leeway is ErrNotYetValid, iat > now+leeway is
// ErrIssuedInFuture. Whether exp is required is the caller's rule.
func (t Times) Check(now time.Time, leeway time.Duration) error {
	if !t.Expiry.IsZero() && !now.Before(t.Expiry.Add(leeway)) {
		return fail(ErrExpired, "exp "+t.Expiry.UTC().Format(time.RFC3339))
	}
	late := now.Add(leeway)
	if !t.NotBefore.IsZero() && t.NotBefore.After(late) {
		return fail(ErrNotYetValid, "nbf "+t.NotBefore.UTC().Format(time.RFC3339))
	}
	if !t.IssuedAt.IsZero() && t.IssuedAt.After(late) {
		return fail(ErrIssuedInFuture, "iat "+t.IssuedAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// StringList reads a claim that must be a non-empty string or a non-empty
// array of non-empty strings ("aud", "resource"). null, numbers, objects
// and arrays with a non-string are ErrInvalid; "", [] and [""] are
// ErrAudience.
func StringList(name string, v any) ([]string, error) {
	switch t := v.(type) {
	case nil:
		return nil, fail(ErrInvalid, name+" is null")
	case string:
		if t == "" {
			return nil, fail(ErrAudience, "empty "+name)
		}
		return []string{t}, nil
	case []any:
		if len(t) == 0 {
			return nil, fail(ErrAudience, "empty "+name+" array")
		}
		list := make([]string, 0, len(t))
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, fail(ErrInvalid, name+" array has a non-string")
			}
			if s == "" {
				return nil, fail(ErrAudience, "empty string in "+name)
			}
			list = append(list, s)
		}
		return list, nil
	}
	return nil, fail(ErrInvalid, name+" is neither a string nor an array")
}

// Scopes parses a scope claim: a space-delimited string (RFC 6749 §3.3,
// RFC 9068 "scope") or an array of such strings ("scp" as some IdPs send
// it).
func Scopes(name string, v any) ([]string, error) {
	switch t := v.(type) {
	case string:
		return fields(t), nil
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, fail(ErrInvalid, name+" has a non-string element")
			}
			out = append(out, fields(s)...)
		}
		return out, nil
	}
	return nil, fail(ErrInvalid, name+" is neither a string nor an array")
}

// TokenScopes reads "scope" or, when it is absent, "scp"; nil when both
// are absent.
func TokenScopes(g Getter) ([]string, error) {
	if tg, ok := g.(typedGetter); ok {
		if s, ok := tg.GetString("scope"); ok {
			return fields(s), nil
		}
	}
	if v, ok := g.Get("scope"); ok {
		return Scopes("scope", v)
	}
	if v, ok := g.Get("scp"); ok {
		return Scopes("scp", v)
	}
	return nil, nil
}

// fields is strings.Fields (the same fields for every input), faster on the
// usual scope text: printable ASCII tokens separated by spaces are cut at
// the spaces strings.Count and strings.IndexByte find, after a check eight
// bytes at a time that no byte is a control or non-ASCII (the other
// whitespace strings.Fields splits at); any other text goes to
// strings.Fields.
func fields(s string) []string {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		// A byte below 0x20 sets its lane's high bit in w-0x20...
		// (possibly higher lanes too, through the borrow), one at or
		// above 0x80 in w: either way the text is not plain.
		b := s[i : i+8] // one 8-byte load below
		w := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		if (w-0x2020202020202020|w)&0x8080808080808080 != 0 {
			return strings.Fields(s)
		}
	}
	for ; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x80 {
			return strings.Fields(s)
		}
	}
	// Only ' ' separates fields now; runs of spaces give no field.
	out := make([]string, 0, strings.Count(s, " ")+1)
	for len(s) > 0 {
		j := strings.IndexByte(s, ' ')
		if j < 0 {
			return append(out, s)
		}
		if j > 0 {
			out = append(out, s[:j])
		}
		s = s[j+1:]
	}
	return out
}
