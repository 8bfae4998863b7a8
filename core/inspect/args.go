package inspect

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"path"
	"strconv"
	"strings"

	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

// ArgType is the type of a declared tool argument.
type ArgType uint8

// Argument types. The Go type of the value the policy sees is given in
// brackets; it is the type encoding/json gives the same JSON value when a
// tool handler decodes its arguments into map[string]any (a list as
// []string).
const (
	ArgString     ArgType = iota + 1 // JSON string [string]
	ArgNumber                        // JSON number [float64]
	ArgBool                          // true or false [bool]
	ArgStringList                    // JSON array of strings [[]string]
)

func (t ArgType) String() string {
	switch t {
	case ArgString:
		return "string"
	case ArgNumber:
		return "number"
	case ArgBool:
		return "bool"
	case ArgStringList:
		return "string list"
	}
	return "invalid"
}

// Defaults of ArgSpec bounds.
const (
	// DefaultArgMaxBytes bounds a string argument, or each element of a
	// string list, in bytes after unescaping.
	DefaultArgMaxBytes = 256
	// DefaultArgMaxItems bounds the elements of a string list.
	DefaultArgMaxItems = 16
)

// ArgSpec declares one argument the policy may see.
type ArgSpec struct {
	// Name is the attribute name the policy reads (r.args.<Name>): ASCII
	// letters, digits and '_', not starting with a digit. REQUIRED.
	Name string
	// Path is the member path inside params.arguments, e.g.
	// ["target", "environment"] for {"target":{"environment":"prod"}}.
	// OPTIONAL; default [Name].
	Path []string
	// Type of the value. REQUIRED.
	Type ArgType
	// MaxBytes bounds a string (or each list element) after unescaping.
	// OPTIONAL; default DefaultArgMaxBytes.
	MaxBytes int
	// MaxItems bounds a string list. OPTIONAL; default DefaultArgMaxItems.
	MaxItems int
	// Default is used when the argument is absent: string, float64 (or an
	// int), bool or []string, matching Type. OPTIONAL; nil means the
	// argument is required, and a call without it is denied.
	Default any
	// Nullable accepts an explicit JSON null, which then counts as absent
	// (Default, or denied as missing), as the tool's input schema allows
	// with "type": [T, "null"] or "nullable": true. Default false: null is
	// refused (400, -32602). The go-sdk passes the null on (a nil pointer
	// or slice; it applies schema defaults to absent members only), so a
	// handler must read nil as the default the policy saw.
	Nullable bool
}

// ToolArgs declares the arguments of the tools whose name matches Tool.
type ToolArgs struct {
	// Tool is a tool name or a path.Match glob ("deploy", "deploy_*").
	// The first entry whose glob matches a tool name applies. REQUIRED.
	Tool string
	// Args are the declared arguments. REQUIRED (non-empty).
	Args []ArgSpec
}

// ErrArgDecl is wrapped by NewArgDecls errors.
var ErrArgDecl = errors.New("inspect: invalid argument declaration")

// ArgDecls is a validated, immutable set of argument declarations, built
// by NewArgDecls and set in Options.Args.
type ArgDecls struct {
	tools     []ToolArgs
	resources []*uriTemplate
	names     []string // every declared name, once, in declaration order
}

// NewArgDecls validates decls (tool arguments) and resources (resource URI
// templates, see ResourceArgs) and returns them ready for Options.Args. A
// name declared more than once (for several tools or templates) must have
// the same type everywhere.
func NewArgDecls(decls []ToolArgs, resources ...ResourceArgs) (*ArgDecls, error) {
	d := &ArgDecls{}
	seen := map[string]ArgType{}
	for i, t := range decls {
		if _, err := path.Match(t.Tool, ""); err != nil || t.Tool == "" {
			return nil, fmt.Errorf("%w: tool %d: bad tool glob %q", ErrArgDecl, i, t.Tool)
		}
		if len(t.Args) == 0 {
			return nil, fmt.Errorf("%w: tool %q declares no argument", ErrArgDecl, t.Tool)
		}
		tc := ToolArgs{Tool: t.Tool, Args: make([]ArgSpec, len(t.Args))}
		local := map[string]bool{}
		for j, a := range t.Args {
			if !validArgName(a.Name) {
				return nil, fmt.Errorf("%w: tool %q: bad argument name %q", ErrArgDecl, t.Tool, a.Name)
			}
			if local[a.Name] {
				return nil, fmt.Errorf("%w: tool %q: argument %q declared twice", ErrArgDecl, t.Tool, a.Name)
			}
			local[a.Name] = true
			if a.Type < ArgString || a.Type > ArgStringList {
				return nil, fmt.Errorf("%w: argument %q: invalid type", ErrArgDecl, a.Name)
			}
			if prev, ok := seen[a.Name]; ok && prev != a.Type {
				return nil, fmt.Errorf("%w: argument %q declared as %v and %v", ErrArgDecl, a.Name, prev, a.Type)
			} else if !ok {
				seen[a.Name] = a.Type
				d.names = append(d.names, a.Name)
			}
			if len(a.Path) == 0 {
				a.Path = []string{a.Name}
			}
			for _, k := range a.Path {
				if !printableASCII(k) {
					return nil, fmt.Errorf("%w: argument %q: path members must be non-empty printable ASCII", ErrArgDecl, a.Name)
				}
			}
			a.Path = append([]string(nil), a.Path...)
			if a.MaxBytes <= 0 {
				a.MaxBytes = DefaultArgMaxBytes
			}
			if a.MaxItems <= 0 {
				a.MaxItems = DefaultArgMaxItems
			}
			if a.Default != nil {
				v, err := normalizeDefault(a)
				if err != nil {
					return nil, fmt.Errorf("%w: argument %q: %v", ErrArgDecl, a.Name, err)
				}
				a.Default = v
			}
			tc.Args[j] = a
		}
		d.tools = append(d.tools, tc)
	}
	for _, r := range resources {
		t, err := parseURITemplate(r)
		if err != nil {
			return nil, fmt.Errorf("%w: resource template %q: %v", ErrArgDecl, r.Template, err)
		}
		for _, a := range t.specs {
			if prev, ok := seen[a.Name]; ok && prev != a.Type {
				return nil, fmt.Errorf("%w: argument %q declared as %v and %v", ErrArgDecl, a.Name, prev, a.Type)
			} else if !ok {
				seen[a.Name] = a.Type
				d.names = append(d.names, a.Name)
			}
		}
		d.resources = append(d.resources, t)
	}
	return d, nil
}

// Names returns every declared argument name, once each.
func (d *ArgDecls) Names() []string {
	if d == nil {
		return nil
	}
	return append([]string(nil), d.names...)
}

// Tools returns a copy of the declarations, in order.
func (d *ArgDecls) Tools() []ToolArgs {
	if d == nil {
		return nil
	}
	out := make([]ToolArgs, len(d.tools))
	for i, t := range d.tools {
		out[i] = ToolArgs{Tool: t.Tool, Args: make([]ArgSpec, len(t.Args))}
		for j, a := range t.Args {
			a.Path = append([]string(nil), a.Path...)
			if l, ok := a.Default.([]string); ok {
				a.Default = append([]string{}, l...)
			}
			out[i].Args[j] = a
		}
	}
	return out
}

// Type returns the declared type of name (0 when undeclared).
func (d *ArgDecls) Type(name string) ArgType {
	if d == nil {
		return 0
	}
	for _, t := range d.tools {
		for _, a := range t.Args {
			if a.Name == name {
				return a.Type
			}
		}
	}
	for _, t := range d.resources {
		for _, a := range t.specs {
			if a.Name == name {
				return a.Type
			}
		}
	}
	return 0
}

// For returns the declarations of tool, or nil.
func (d *ArgDecls) For(tool string) []ArgSpec {
	if d == nil {
		return nil
	}
	for _, t := range d.tools {
		if ok, _ := path.Match(t.Tool, tool); ok {
			return t.Args
		}
	}
	return nil
}

func validArgName(s string) bool {
	if s == "" || len(s) > 64 || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func printableASCII(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func normalizeDefault(a ArgSpec) (any, error) {
	switch a.Type {
	case ArgString:
		if s, ok := a.Default.(string); ok && len(s) <= a.MaxBytes {
			return s, nil
		}
	case ArgNumber:
		switch n := a.Default.(type) {
		case float64:
			return n, nil
		case int:
			return float64(n), nil
		}
	case ArgBool:
		if b, ok := a.Default.(bool); ok {
			return b, nil
		}
	case ArgStringList:
		if l, ok := a.Default.([]string); ok && len(l) <= a.MaxItems {
			for _, s := range l {
				if len(s) > a.MaxBytes {
					return nil, errors.New("default element too long")
				}
			}
			return append([]string{}, l...), nil
		}
	}
	return nil, fmt.Errorf("default %T does not fit type %v and bounds", a.Default, a.Type)
}

// extractArgs reads the declared arguments of tool from params.arguments
// at offset at (-1 when absent) of a body that passed jsonscan.Validate
// (so duplicate and case-variant keys were already refused at every
// depth). Values are decoded from the validated text once, unescaped.
func (d *decoder) extractArgs(m *Message, specs []ArgSpec, at int) error {
	b := d.body
	if at >= 0 && b[at] == 'n' { // "arguments": null decodes as no arguments
		at = -1
	}
	if at >= 0 && b[at] != '{' {
		return d.invalidParams(m, "params.arguments must be an object")
	}
	m.Args = make(map[string]any, len(specs))
	for i := range specs {
		a := &specs[i]
		v := -1
		if at >= 0 {
			var err error
			if v, err = d.lookup(at, a.Path); err != nil {
				return d.invalidParams(m, "argument "+a.Name+": "+err.Error())
			}
		}
		if v >= 0 && a.Nullable && b[v] == 'n' { // null, where the schema allows it
			v = -1
		}
		if v < 0 {
			if a.Default == nil {
				m.MissingArgs = append(m.MissingArgs, a.Name)
				continue
			}
			if l, ok := a.Default.([]string); ok {
				m.Args[a.Name] = append([]string{}, l...)
			} else {
				m.Args[a.Name] = a.Default
			}
			continue
		}
		val, err := d.argValue(a, v)
		if err != nil {
			return d.invalidParams(m, "argument "+a.Name+": "+err.Error())
		}
		m.Args[a.Name] = val
	}
	return nil
}

// lookup follows p from the object at obj; -1 when a member is absent.
func (d *decoder) lookup(obj int, p []string) (int, error) {
	var kb [64]byte
	for n, k := range p {
		if d.body[obj] != '{' {
			return -1, errors.New("parent of " + strings.Join(p[:n+1], ".") + " is not an object")
		}
		found := -1
		for it := jsonscan.Members(d.body, obj); it.Next(); it.Skip() {
			key := it.Key(kb[:0])
			if string(key) == k {
				found = it.Value()
				break
			}
			if foldsTo(key, k) {
				// A case-insensitive decoder (encoding/json into a
				// struct) would bind this key to k.
				return -1, errors.New("member name ambiguous with " + strings.Join(p[:n+1], "."))
			}
		}
		if found < 0 {
			return -1, nil
		}
		obj = found
	}
	return obj, nil
}

// argValue decodes the value at v as a's type, bounding it before it is
// decoded.
func (d *decoder) argValue(a *ArgSpec, v int) (any, error) {
	b := d.body
	switch a.Type {
	case ArgString:
		if b[v] != '"' {
			return nil, errors.New("must be a string")
		}
		return d.boundedString(a, v)
	case ArgNumber:
		if c := b[v]; c != '-' && (c < '0' || c > '9') {
			return nil, errors.New("must be a number")
		}
		end := jsonscan.ValueEnd(b, v)
		if end-v > 64 {
			return nil, errors.New("number too long")
		}
		return exactNumber(string(b[v:end]))
	case ArgBool:
		switch b[v] {
		case 't':
			return true, nil
		case 'f':
			return false, nil
		}
		return nil, errors.New("must be a boolean")
	case ArgStringList:
		if b[v] != '[' {
			return nil, errors.New("must be an array of strings")
		}
		out := []string{}
		i := jsonscan.SkipWS(b, v+1)
		for b[i] != ']' {
			if len(out) >= a.MaxItems {
				return nil, errors.New("more than " + strconv.Itoa(a.MaxItems) + " elements")
			}
			if b[i] != '"' {
				return nil, errors.New("must be an array of strings")
			}
			s, err := d.boundedString(a, i)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
			i = jsonscan.SkipWS(b, jsonscan.ValueEnd(b, i))
			if b[i] == ',' {
				i = jsonscan.SkipWS(b, i+1)
			}
		}
		return out, nil
	}
	return nil, errors.New("invalid type")
}

// maxEscapedByte is the most JSON text one decoded byte can take (\u0001).
const maxEscapedByte = 6

func (d *decoder) boundedString(a *ArgSpec, v int) (string, error) {
	end, _ := jsonscan.StringEnd(d.body, v)
	if end-v-2 > maxEscapedByte*a.MaxBytes {
		return "", errors.New("exceeds " + strconv.Itoa(a.MaxBytes) + " bytes")
	}
	s, _ := jsonscan.String(d.body, v)
	if len(s) > a.MaxBytes {
		return "", errors.New("exceeds " + strconv.Itoa(a.MaxBytes) + " bytes")
	}
	return s, nil
}

// twoTo53 is 2^53: every integer of smaller magnitude is a float64.
const twoTo53 = 1 << 53

// exactNumber parses the text of a number argument (JSON, or a URI
// template's decimal) into the float64 the policy sees, refusing the values
// a handler could read as another number than the policy decided on: out of
// the float64 range ("1e400"), a non-zero value that rounds to zero
// ("1e-400"), and an integer that float64 rounds ("9007199254740993",
// "9007199254740993.0", "9007199254740993e0", "1e23"), which an
// integer-typed or arbitrary-precision handler executes unrounded.
func exactNumber(text string) (float64, error) {
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return 0, errors.New("number out of range")
	}
	if f == 0 {
		mant, _, _ := strings.Cut(strings.ToLower(text), "e")
		if strings.ContainsAny(mant, "123456789") {
			return 0, errors.New("number underflows to zero")
		}
		return f, nil
	}
	if math.Abs(f) < twoTo53 {
		return f, nil
	}
	// f is an integer here, and the exponent is bounded by the float64
	// range, so the exact value is small to compute.
	r, ok := new(big.Rat).SetString(strings.TrimPrefix(text, "+"))
	if !ok {
		return 0, errors.New("must be a number")
	}
	if r.IsInt() && new(big.Rat).SetFloat64(f).Cmp(r) != 0 {
		return 0, errors.New("integer not exactly representable")
	}
	return f, nil
}
