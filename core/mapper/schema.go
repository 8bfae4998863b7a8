package mapper

import (
	"fmt"
	"sort"

	"github.com/mcpauthz/mcpauthz/core"
)

// wellKnownAttrTypes are the types of AttributeClaims names that Config
// does not type explicitly; any other name is a string.
var wellKnownAttrTypes = map[string]core.AttributeType{
	"amr":            core.AttrStrings,
	"email_verified": core.AttrBool,
}

// schemaOf builds the attribute schema of a Config with defaults applied:
// one spec per AttributeClaims name, from AttributeSpecs when listed there.
func schemaOf(cfg *Config) ([]core.AttributeSpec, error) {
	explicit := make(map[string]core.AttributeSpec, len(cfg.AttributeSpecs))
	for _, s := range cfg.AttributeSpecs {
		if _, ok := cfg.AttributeClaims[s.Name]; !ok {
			return nil, fmt.Errorf("mapper: AttributeSpecs declares %q, which AttributeClaims does not map", s.Name)
		}
		n, err := s.Normalize()
		if err != nil {
			return nil, fmt.Errorf("mapper: AttributeSpecs: %w", err)
		}
		explicit[s.Name] = n
	}
	out := make([]core.AttributeSpec, 0, len(cfg.AttributeClaims))
	for name := range cfg.AttributeClaims {
		s, ok := explicit[name]
		if !ok {
			t := wellKnownAttrTypes[name]
			if t == "" {
				t = core.AttrString
			}
			var err error
			if s, err = (core.AttributeSpec{Name: name, Type: t}).Normalize(); err != nil {
				return nil, fmt.Errorf("mapper: AttributeClaims: %w", err)
			}
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// AttributeSchema declares the attributes this mapper puts into
// Principal.Attributes, with their types and defaults. Pass it to the
// authorizer (casbinauthz.Config.Attributes) so that a policy referencing
// any other attribute is refused at load, and a token without one of these
// attributes is evaluated with its default. The returned slice is a copy.
func (m *Mapper) AttributeSchema() []core.AttributeSpec {
	out := make([]core.AttributeSpec, len(m.schema))
	copy(out, m.schema)
	return out
}
