package casbinauthz

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"

	"github.com/mcpauthz/mcpauthz/core"
)

// builtinAttrs are the attributes every request carries whatever the
// schema: they come from the principal and the permission.
var builtinAttrs = []string{"iss", "tenant", "client_id", "sub", "kind", "method", "request"}

// defaultAttrs are declared unless the schema redeclares them, so that the
// shipped abac model and its sample policy work without configuration.
var defaultAttrs = []core.AttributeSpec{
	{Name: "department", Type: core.AttrString, Default: ""},
	{Name: "acr", Type: core.AttrString, Default: ""},
	{Name: "amr", Type: core.AttrStrings, Default: []any{}},
}

// ErrAttribute marks a principal attribute whose value does not have the
// declared type. The decision is a deny (never a 503, never an allow).
var ErrAttribute = errors.New("casbinauthz: attribute has the wrong type")

// schema is the set of declared ABAC attributes.
type schema struct {
	specs map[string]core.AttributeSpec
	names []string // sorted
}

// newSchema validates the declared attributes; defaultAttrs are added
// unless redeclared.
func newSchema(decl []core.AttributeSpec) (*schema, error) {
	sc := &schema{specs: make(map[string]core.AttributeSpec, len(decl)+len(defaultAttrs))}
	for _, d := range decl {
		n, err := d.Normalize()
		if err != nil {
			return nil, fmt.Errorf("%w: Config.Attributes: %w", ErrModel, err)
		}
		if slices.Contains(builtinAttrs, n.Name) {
			return nil, fmt.Errorf("%w: Config.Attributes: %q is a built-in attribute", ErrModel, n.Name)
		}
		if prev, dup := sc.specs[n.Name]; dup && (prev.Type != n.Type || fmt.Sprint(prev.Default) != fmt.Sprint(n.Default)) {
			return nil, fmt.Errorf("%w: Config.Attributes: %q is declared twice with different types or defaults", ErrModel, n.Name)
		}
		sc.specs[n.Name] = n
	}
	for _, d := range defaultAttrs {
		if _, ok := sc.specs[d.Name]; !ok {
			sc.specs[d.Name] = d
		}
	}
	for n := range sc.specs {
		sc.names = append(sc.names, n)
	}
	sort.Strings(sc.names)
	return sc, nil
}

// declared reports whether a policy may reference r.attrs.<name>.
func (sc *schema) declared(name string) bool {
	_, ok := sc.specs[name]
	return ok || slices.Contains(builtinAttrs, name)
}

// build is the "attrs" request token: every declared attribute (the
// principal's value coerced to the declared type, or the default when the
// token does not carry it), undeclared principal attributes as they are,
// and the built-ins. A declared attribute of the wrong type is an error
// wrapping ErrAttribute.
func (sc *schema) build(p *core.Principal, perm core.Permission) (map[string]any, error) {
	m := make(map[string]any, len(p.Attributes)+len(sc.specs)+len(builtinAttrs))
	for k, v := range p.Attributes {
		if spec, ok := sc.specs[k]; ok {
			c, ok := spec.Coerce(v)
			if !ok {
				return nil, fmt.Errorf("%w: %q is declared %s", ErrAttribute, k, spec.Type)
			}
			m[k] = c
			continue
		}
		m[k] = normalizeAttr(v)
	}
	for _, n := range sc.names {
		if _, ok := m[n]; !ok {
			m[n] = sc.specs[n].Default
		}
	}
	addBuiltinAttrs(m, p, perm)
	return m, nil
}

// addBuiltinAttrs sets the builtinAttrs of m from the principal and the
// permission.
func addBuiltinAttrs(m map[string]any, p *core.Principal, perm core.Permission) {
	m["iss"] = p.Issuer
	m["tenant"] = p.Tenant
	m["client_id"] = p.ClientID
	m["sub"] = p.Subject
	m["kind"] = string(p.Kind)
	m["method"] = perm.Method
	req := make(map[string]any, len(perm.Attrs))
	for k, v := range perm.Attrs {
		req[k] = normalizeAttr(v)
	}
	m["request"] = req
}

// attrRef finds r.attrs.<name> references in matchers and conditions.
var attrRef = regexp.MustCompile(`\br[0-9]*(?:_|\.)attrs\.([A-Za-z_][A-Za-z0-9_]*)`)

// undeclaredAttrs returns the attribute names text references that the
// schema does not declare, in order of appearance, without duplicates.
func (sc *schema) undeclaredAttrs(text string) []string {
	var out []string
	for _, m := range attrRef.FindAllStringSubmatch(text, -1) {
		if !sc.declared(m[1]) && !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}
