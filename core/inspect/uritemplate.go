package inspect

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Resource URI templates (issue 15): variables of a resources/read or
// resources/subscribe URI as policy attributes (r.args.<variable>).
//
// Templates are RFC 6570 level 1 (simple string expansion, "{var}") with one
// more restriction: every variable is a whole path segment, preceded by '/'
// and followed by '/' or the end of the template ("docs://payroll/{year}",
// "repo://{org}/{name}/readme"). Operators (+ # . / ; ? &), value modifiers
// (:n, *) and variable lists ({a,b}) are refused at declaration.
//
// Matching is decided once, here, on the URI exactly as the go-sdk passes
// it to a resource handler (params.uri, JSON-unescaped), without any other
// normalisation:
//
//   - the template's literal text must match byte for byte (no case
//     folding of scheme or host, no dot-segment removal, no decoding of
//     literal text);
//   - a variable spans the bytes up to the next '/' (or the end); the span
//     must be non-empty and consist of RFC 3986 unreserved characters and
//     %XX escapes only (what level 1 expansion produces);
//   - it is percent-decoded exactly once ("%2541" is "%41", never "A");
//   - the decoded value is refused when it contains '/' (an encoded
//     "%2F"), is "." or "..", is not valid UTF-8 or contains a control
//     character (U+0000 to U+001F, U+007F), or exceeds MaxBytes.
//
// A URI whose literal text and segment structure fit a template but whose
// variable is refused (or mistyped) is refused with -32602, like a mistyped
// tool argument. A URI that fits no template carries no variables: a rule
// reading r.args then fails to evaluate and denies.

// ResourceArgs declares a resource URI template whose variables the policy
// may see.
type ResourceArgs struct {
	// Template is an RFC 6570 level 1 template whose variables are whole
	// path segments, e.g. "docs://payroll/{year}". REQUIRED.
	Template string
	// Args optionally types variables: Name is the variable name, Type is
	// ArgString (the default for an unlisted variable), ArgNumber (a
	// decimal number) or ArgBool ("true" or "false"), MaxBytes bounds the
	// decoded value (default DefaultArgMaxBytes). Path, MaxItems and
	// Default must be zero: a variable is never absent. OPTIONAL.
	Args []ArgSpec
}

// uriTemplate is a parsed template: lits[0] var[0] lits[1] ... var[n-1] lits[n].
type uriTemplate struct {
	text  string
	lits  []string
	specs []ArgSpec // one per variable, in order
}

// parseURITemplate parses and validates rs.
func parseURITemplate(rs ResourceArgs) (*uriTemplate, error) {
	t := &uriTemplate{text: rs.Template}
	s := rs.Template
	if s == "" || len(s) > DefaultMaxURIBytes {
		return nil, errors.New("empty or oversized template")
	}
	lit := strings.Builder{}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '}':
			return nil, fmt.Errorf("unbalanced '}' at byte %d", i)
		case c == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, errors.New("unterminated '{'")
			}
			name := s[i+1 : i+end]
			if !validArgName(name) {
				return nil, fmt.Errorf("variable %q: level 1 only (a name of letters, digits and '_'; no operator, modifier or list)", name)
			}
			prev := lit.String()
			if !strings.HasSuffix(prev, "/") {
				return nil, fmt.Errorf("variable %q must start a path segment (follow a '/')", name)
			}
			if next := i + end + 1; next < len(s) && s[next] != '/' {
				return nil, fmt.Errorf("variable %q must end a path segment (be followed by '/' or the end)", name)
			}
			t.lits = append(t.lits, prev)
			lit.Reset()
			t.specs = append(t.specs, ArgSpec{Name: name, Type: ArgString, MaxBytes: DefaultArgMaxBytes})
			i += end
		case c < 0x21 || c > 0x7e:
			return nil, fmt.Errorf("byte %d: literal text must be printable ASCII", i)
		default:
			lit.WriteByte(c)
		}
	}
	t.lits = append(t.lits, lit.String())
	if len(t.specs) == 0 {
		return nil, errors.New("template has no variable")
	}
	for _, a := range rs.Args {
		k := -1
		for j, sp := range t.specs {
			if sp.Name == a.Name {
				if k >= 0 {
					break
				}
				k = j
			}
		}
		if k < 0 {
			return nil, fmt.Errorf("argument %q is not a variable of the template", a.Name)
		}
		if a.Path != nil || a.MaxItems != 0 || a.Default != nil {
			return nil, fmt.Errorf("variable %q: path, max items and default do not apply", a.Name)
		}
		switch a.Type {
		case ArgString, ArgNumber, ArgBool:
		default:
			return nil, fmt.Errorf("variable %q: type must be string, number or bool", a.Name)
		}
		if a.MaxBytes <= 0 {
			a.MaxBytes = DefaultArgMaxBytes
		}
		for j := range t.specs {
			if t.specs[j].Name == a.Name {
				t.specs[j] = ArgSpec{Name: a.Name, Type: a.Type, MaxBytes: a.MaxBytes}
			}
		}
	}
	seen := map[string]bool{}
	for _, sp := range t.specs {
		if seen[sp.Name] {
			return nil, fmt.Errorf("variable %q appears twice", sp.Name)
		}
		seen[sp.Name] = true
	}
	return t, nil
}

// match matches uri against t. ok is false when the URI does not fit the
// template's literal text and segment structure; err is set when it fits
// but a variable value is refused.
func (t *uriTemplate) match(uri string) (vals map[string]any, ok bool, err error) {
	if !strings.HasPrefix(uri, t.lits[0]) {
		return nil, false, nil
	}
	rest := uri[len(t.lits[0]):]
	var buf [4]string
	spans := buf[:0]
	if len(t.specs) > len(buf) {
		spans = make([]string, 0, len(t.specs))
	}
	spans = spans[:len(t.specs)]
	for i := range t.specs {
		end := strings.IndexByte(rest, '/')
		if end < 0 {
			end = len(rest)
		}
		spans[i], rest = rest[:end], rest[end:]
		if !strings.HasPrefix(rest, t.lits[i+1]) {
			return nil, false, nil
		}
		rest = rest[len(t.lits[i+1]):]
	}
	if rest != "" {
		return nil, false, nil
	}
	vals = make(map[string]any, len(spans))
	for i, sp := range t.specs {
		v, err := templateValue(&sp, spans[i])
		if err != nil {
			return nil, true, fmt.Errorf("variable %s: %v", sp.Name, err)
		}
		vals[sp.Name] = v
	}
	return vals, true, nil
}

// templateValue decodes and types one variable span.
func templateValue(a *ArgSpec, span string) (any, error) {
	if span == "" {
		return nil, errors.New("empty")
	}
	if len(span) > 3*a.MaxBytes {
		return nil, errors.New("exceeds " + strconv.Itoa(a.MaxBytes) + " bytes")
	}
	escaped := false
	for i := 0; i < len(span); i++ {
		c := span[i]
		switch {
		case c == '%':
			if i+2 >= len(span) || unhex(span[i+1]) == 0xff || unhex(span[i+2]) == 0xff {
				return nil, errors.New("malformed percent-escape")
			}
			escaped = true
			i += 2
		case !unreserved(c):
			return nil, fmt.Errorf("character %q is not allowed unencoded", c)
		}
	}
	s := span // a substring of the URI: no copy without escapes
	if escaped {
		b := make([]byte, 0, len(span))
		for i := 0; i < len(span); i++ {
			if span[i] == '%' {
				b = append(b, unhex(span[i+1])<<4|unhex(span[i+2]))
				i += 2
			} else {
				b = append(b, span[i])
			}
		}
		s = string(b)
	}
	switch {
	case len(s) > a.MaxBytes:
		return nil, errors.New("exceeds " + strconv.Itoa(a.MaxBytes) + " bytes")
	case strings.IndexByte(s, '/') >= 0:
		return nil, errors.New("encoded '/' refused")
	case s == "." || s == "..":
		return nil, errors.New("dot segment refused")
	case !utf8.ValidString(s):
		return nil, errors.New("not valid UTF-8")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return nil, errors.New("control character refused")
		}
	}
	switch a.Type {
	case ArgNumber:
		if !decimal(s) {
			return nil, errors.New("must be a decimal number")
		}
		return exactNumber(s)
	case ArgBool:
		switch s {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, errors.New("must be true or false")
	}
	return s, nil
}

// decimal reports whether s is -?(0|[1-9][0-9]*)(\.[0-9]+)?.
func decimal(s string) bool {
	s = strings.TrimPrefix(s, "-")
	intPart, frac, hasFrac := strings.Cut(s, ".")
	if intPart == "" || (len(intPart) > 1 && intPart[0] == '0') || (hasFrac && frac == "") {
		return false
	}
	for _, p := range []string{intPart, frac} {
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
		}
	}
	return true
}

func unreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0xff
}

// MatchResource returns the typed variables of the first declared template
// uri fits (see ResourceArgs for the rules). ok is false when it fits none;
// err is set when it fits a template but a variable is refused.
func (d *ArgDecls) MatchResource(uri string) (vals map[string]any, ok bool, err error) {
	if d == nil {
		return nil, false, nil
	}
	for _, t := range d.resources {
		if vals, ok, err = t.match(uri); ok {
			return vals, ok, err
		}
	}
	return nil, false, nil
}

// HasResources reports whether any resource template is declared.
func (d *ArgDecls) HasResources() bool { return d != nil && len(d.resources) > 0 }

// Templates returns the declared resource templates, in order.
func (d *ArgDecls) Templates() []string {
	if d == nil {
		return nil
	}
	out := make([]string, len(d.resources))
	for i, t := range d.resources {
		out[i] = t.text
	}
	return out
}

// IsTemplate reports whether s is the text of a declared resource template
// (a resources/templates/list item).
func (d *ArgDecls) IsTemplate(s string) bool {
	if d == nil {
		return false
	}
	for _, t := range d.resources {
		if t.text == s {
			return true
		}
	}
	return false
}
