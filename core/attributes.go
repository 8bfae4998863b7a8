package core

import (
	"encoding/json"
	"fmt"
	"regexp"
)

// AttributeType is the type of a declared ABAC attribute.
type AttributeType string

// Attribute types. Values are normalized for policy evaluation: strings
// stay strings, string lists become []any of strings (so Casbin's "in"
// works), numbers become float64.
const (
	AttrString  AttributeType = "string"
	AttrStrings AttributeType = "strings"
	AttrBool    AttributeType = "bool"
	AttrNumber  AttributeType = "number"
)

// AttributeSpec declares one ABAC attribute of Principal.Attributes: its
// name, its type and the value a policy sees when a token does not carry
// it. Mappers declare the attributes they produce (mapper.Mapper's
// AttributeSchema) and authorizers refuse policies that reference anything
// else (casbinauthz.Config.Attributes).
type AttributeSpec struct {
	Name    string        // [A-Za-z_][A-Za-z0-9_]*
	Type    AttributeType // REQUIRED
	Default any           // OPTIONAL; nil selects the zero value of Type ("", [], false, 0)
}

var attrName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Normalize checks the spec and returns it with Default normalized (see
// [AttributeSpec.Coerce]); a nil Default becomes the zero value of Type.
func (s AttributeSpec) Normalize() (AttributeSpec, error) {
	if !attrName.MatchString(s.Name) {
		return s, fmt.Errorf("core: attribute name %q is not an identifier", s.Name)
	}
	if s.Default == nil {
		switch s.Type {
		case AttrString:
			s.Default = ""
		case AttrStrings:
			s.Default = []any{}
		case AttrBool:
			s.Default = false
		case AttrNumber:
			s.Default = float64(0)
		default:
			return s, fmt.Errorf("core: attribute %q: unknown type %q", s.Name, s.Type)
		}
		return s, nil
	}
	v, ok := s.Coerce(s.Default)
	if !ok {
		return s, fmt.Errorf("core: attribute %q: default %v is not of type %q", s.Name, s.Default, s.Type)
	}
	s.Default = v
	return s, nil
}

// Coerce returns v in the normalized form of the spec's type, and false
// when v is not of that type.
func (s AttributeSpec) Coerce(v any) (any, bool) {
	switch s.Type {
	case AttrString:
		t, ok := v.(string)
		return t, ok
	case AttrBool:
		t, ok := v.(bool)
		return t, ok
	case AttrNumber:
		switch t := v.(type) {
		case float64:
			return t, true
		case int:
			return float64(t), true
		case int64:
			return float64(t), true
		case json.Number:
			f, err := t.Float64()
			return f, err == nil
		}
	case AttrStrings:
		switch t := v.(type) {
		case []string:
			out := make([]any, len(t))
			for i, e := range t {
				out[i] = e
			}
			return out, true
		case []any:
			for _, e := range t {
				if _, ok := e.(string); !ok {
					return nil, false
				}
			}
			return t, true
		}
	}
	return nil, false
}

// AttributeSchemer is implemented by a ClaimMapper that declares the
// attributes it puts into Principal.Attributes (mapper.Mapper does).
type AttributeSchemer interface {
	AttributeSchema() []AttributeSpec
}

// AttributeConsumer is implemented by an Authorizer whose policy may
// reference declared attributes (casbinauthz with Config.Attributes).
type AttributeConsumer interface {
	// DeclaredAttributes returns the attributes configured for the policy,
	// beyond the authorizer's built-ins.
	DeclaredAttributes() []AttributeSpec
}

// checkAttributes is the New check that every attribute the policy was
// declared with is produced by the mapper, with the same type, when both
// sides describe themselves.
func checkAttributes(m ClaimMapper, a Authorizer) error {
	ms, ok1 := m.(AttributeSchemer)
	ac, ok2 := a.(AttributeConsumer)
	if !ok1 || !ok2 {
		return nil
	}
	have := map[string]AttributeType{}
	for _, s := range ms.AttributeSchema() {
		have[s.Name] = s.Type
	}
	for _, s := range ac.DeclaredAttributes() {
		t, ok := have[s.Name]
		if !ok {
			return fmt.Errorf("core: the policy declares attribute %q, which the mapper does not produce (add it to the mapper's AttributeClaims)", s.Name)
		}
		if t != s.Type {
			return fmt.Errorf("core: attribute %q is %s for the policy but %s for the mapper", s.Name, s.Type, t)
		}
	}
	return nil
}
