package core

import (
	"errors"
	"strings"
)

// maxParamLen caps a challenge parameter value; longer values are cut.
const maxParamLen = 1024

// quote renders s as an HTTP quoted-string (RFC 9110 §5.6.4) for a
// WWW-Authenticate auth-param. It is the only function that puts values
// into challenges. Double quote and backslash are backslash-escaped; every
// byte outside printable ASCII (0x20-0x7E), including CR, LF and the bytes of
// non-ASCII runes, becomes '?', so a value can never break out of the
// parameter or the header line. Values are cut at maxParamLen bytes.
func quote(s string) string {
	if len(s) > maxParamLen {
		s = s[:maxParamLen]
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

var errBadQuotedString = errors.New("core: malformed quoted-string")

// unquote parses a quoted-string produced by quote (or any RFC 9110
// quoted-string) and returns its value and the rest of the input. It exists
// for tests and for parsing challenges in the test kit.
func unquote(s string) (val, rest string, err error) {
	if len(s) == 0 || s[0] != '"' {
		return "", s, errBadQuotedString
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			return b.String(), s[i+1:], nil
		case '\\':
			if i+1 >= len(s) {
				return "", s, errBadQuotedString
			}
			i++
			b.WriteByte(s[i])
		default:
			b.WriteByte(c)
		}
	}
	return "", s, errBadQuotedString
}

// ParseChallenge parses one Bearer challenge as written by [Guard.Render]
// ("Bearer k1="v1", k2="v2"") into its parameters. It accepts only quoted
// values and the Bearer scheme (case-insensitive); it is meant for tests and
// clients of this library, not as a general RFC 9110 parser.
func ParseChallenge(h string) (map[string]string, error) {
	scheme, rest, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return nil, errors.New("core: not a Bearer challenge")
	}
	params := map[string]string{}
	rest = strings.TrimLeft(rest, " ")
	for rest != "" {
		k, r, ok := strings.Cut(rest, "=")
		if !ok || k == "" || strings.ContainsAny(k, " ,\"") {
			return nil, errBadQuotedString
		}
		v, r, err := unquote(r)
		if err != nil {
			return nil, err
		}
		if _, dup := params[k]; dup {
			return nil, errors.New("core: duplicate challenge parameter")
		}
		params[k] = v
		r = strings.TrimLeft(r, " ")
		if r == "" {
			break
		}
		if r[0] != ',' {
			return nil, errBadQuotedString
		}
		rest = strings.TrimLeft(r[1:], " ")
		if rest == "" {
			return nil, errBadQuotedString
		}
	}
	return params, nil
}

// challenge builds a Bearer challenge from name/value pairs, skipping pairs
// whose value is empty. Names are fixed by this package. A "scope" value is
// cut by cutScopes, not inside a scope-token.
func challenge(pairs ...string) string {
	var b strings.Builder
	b.WriteString("Bearer")
	first := true
	for i := 0; i+1 < len(pairs); i += 2 {
		v := pairs[i+1]
		if pairs[i] == "scope" {
			v = cutScopes(v)
		}
		if v == "" {
			continue
		}
		if first {
			b.WriteByte(' ')
			first = false
		} else {
			b.WriteString(", ")
		}
		b.WriteString(pairs[i])
		b.WriteByte('=')
		b.WriteString(quote(v))
	}
	return b.String()
}

// cutScopes cuts a space-delimited scope list longer than maxParamLen after
// its last whole scope-token (quote would cut inside one, and a client asks
// for every scope it reads); a single longer token leaves nothing.
func cutScopes(s string) string {
	if len(s) <= maxParamLen {
		return s
	}
	if i := strings.LastIndexByte(s[:maxParamLen+1], ' '); i > 0 {
		return strings.TrimRight(s[:i], " ")
	}
	return ""
}
