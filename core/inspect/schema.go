package inspect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
)

// Declarations from a tool's own input schema (issue 15: "from config
// and/or the tool's own inputSchema").
//
// SchemaArgs reads the top-level properties of a tool's JSON Schema input
// schema (the inputSchema a go-sdk server lists, or the one an operator
// passes to mcp.AddTool) and declares those the operator opts in:
//
//	JSON Schema                         declaration
//	"type": "string"                    ArgString, MaxBytes 4 × maxLength (UTF-8), capped
//	"type": "number" or "integer"       ArgNumber
//	"type": "boolean"                   ArgBool
//	"type": "array", items string       ArgStringList, MaxItems from maxItems, element bound from items.maxLength
//	"default"                           Default (the go-sdk applies schema defaults before a typed handler runs)
//
// A nullable type (["null", T], what the go-sdk infers for slices and
// pointers, or "nullable": true) is declared as T with Nullable: an
// explicit null counts as absent (the default, or denied as missing);
// null for any other property is refused (400). Any other property (objects, unions, arrays of other
// items, names that are not letters, digits and '_') is not declared: an
// error when named in SchemaOptions.Properties, skipped otherwise, so a
// policy that reads it is refused at load. A property without a default
// is required by the Guard (a call without it is denied), whether or not
// the schema requires it: give a default in the configuration to relax it.
// MergeToolArgs combines derived declarations with configured ones; the
// configuration wins.

// DefaultSchemaMaxBytes caps the string bound derived from maxLength.
const DefaultSchemaMaxBytes = 4 << 10

// SchemaOptions selects and bounds the declarations SchemaArgs derives.
type SchemaOptions struct {
	// Properties are the top-level properties to declare (the operator's
	// opt-in per argument). OPTIONAL; nil declares every supported one.
	Properties []string
	// MaxBytes caps a string (or list element) bound: 4 × maxLength when
	// the schema has one (at most this cap), this cap when it has none.
	// OPTIONAL; default DefaultArgMaxBytes without maxLength and
	// DefaultSchemaMaxBytes as the cap with it.
	MaxBytes int
	// MaxItems bounds a list without maxItems (and caps maxItems).
	// OPTIONAL; default DefaultArgMaxItems.
	MaxItems int
}

type schemaNode struct {
	Type       json.RawMessage        `json:"type"`
	Properties map[string]*schemaNode `json:"properties"`
	Items      *schemaNode            `json:"items"`
	MaxLength  *int                   `json:"maxLength"`
	MaxItems   *int                   `json:"maxItems"`
	Default    json.RawMessage        `json:"default"`
	Nullable   bool                   `json:"nullable"` // OpenAPI 3.0 style
}

// nullable reports whether the node allows null: "null" among its types,
// or "nullable": true.
func (n *schemaNode) nullable() bool {
	var l []string
	return n.Nullable || json.Unmarshal(n.Type, &l) == nil && slices.Contains(l, "null")
}

// typ is the node's single type; a nullable type (["null", T], which the
// go-sdk infers for Go slices and pointers) counts as T (see nullable).
func (n *schemaNode) typ() string {
	var s string
	if json.Unmarshal(n.Type, &s) == nil {
		return s
	}
	var l []string
	if json.Unmarshal(n.Type, &l) == nil && len(l) == 2 {
		switch {
		case l[0] == "null" && l[1] != "null":
			return l[1]
		case l[1] == "null" && l[0] != "null":
			return l[0]
		}
	}
	return "" // absent, a union, or anything else
}

// SchemaArgs derives the declarations of tool from its input schema: a
// JSON Schema value (map, json.RawMessage, []byte, or a schema struct that
// marshals to JSON). Errors wrap ErrArgDecl.
func SchemaArgs(tool string, inputSchema any, opts SchemaOptions) (ToolArgs, error) {
	var raw []byte
	switch s := inputSchema.(type) {
	case json.RawMessage:
		raw = s
	case []byte:
		raw = s
	default:
		var err error
		if raw, err = json.Marshal(inputSchema); err != nil {
			return ToolArgs{}, fmt.Errorf("%w: tool %q: input schema: %v", ErrArgDecl, tool, err)
		}
	}
	var root schemaNode
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&root); err != nil {
		return ToolArgs{}, fmt.Errorf("%w: tool %q: input schema: %v", ErrArgDecl, tool, err)
	}
	if root.typ() != "object" {
		return ToolArgs{}, fmt.Errorf("%w: tool %q: input schema is not of type object", ErrArgDecl, tool)
	}
	names := opts.Properties
	explicit := names != nil
	if !explicit {
		for n := range root.Properties {
			names = append(names, n)
		}
		sort.Strings(names)
	}
	out := ToolArgs{Tool: tool}
	for _, name := range names {
		p, ok := root.Properties[name]
		if !ok || p == nil {
			return ToolArgs{}, fmt.Errorf("%w: tool %q: the input schema has no property %q", ErrArgDecl, tool, name)
		}
		spec, why := schemaSpec(name, p, opts)
		if why != "" {
			if explicit {
				return ToolArgs{}, fmt.Errorf("%w: tool %q: property %q: %s", ErrArgDecl, tool, name, why)
			}
			continue
		}
		out.Args = append(out.Args, spec)
	}
	if len(out.Args) == 0 {
		return ToolArgs{}, fmt.Errorf("%w: tool %q: no property of the input schema can be declared", ErrArgDecl, tool)
	}
	return out, nil
}

// schemaSpec maps one property; why says why it cannot be declared.
func schemaSpec(name string, p *schemaNode, opts SchemaOptions) (ArgSpec, string) {
	if !validArgName(name) {
		return ArgSpec{}, "the name is not letters, digits and '_'"
	}
	capBytes, maxItems := opts.MaxBytes, opts.MaxItems
	if maxItems <= 0 {
		maxItems = DefaultArgMaxItems
	}
	strBound := func(n *schemaNode) int {
		limit := capBytes
		if limit <= 0 {
			limit = DefaultSchemaMaxBytes
		}
		if n.MaxLength == nil {
			if capBytes > 0 {
				return capBytes
			}
			return DefaultArgMaxBytes
		}
		if *n.MaxLength > limit/4 {
			return limit
		}
		return max(4**n.MaxLength, 1)
	}
	a := ArgSpec{Name: name, Nullable: p.nullable()}
	switch p.typ() {
	case "string":
		a.Type, a.MaxBytes = ArgString, strBound(p)
	case "number", "integer":
		a.Type = ArgNumber
	case "boolean":
		a.Type = ArgBool
	case "array":
		if p.Items == nil || p.Items.typ() != "string" {
			return ArgSpec{}, "only arrays of strings are supported"
		}
		a.Type, a.MaxBytes, a.MaxItems = ArgStringList, strBound(p.Items), maxItems
		if p.MaxItems != nil {
			a.MaxItems = min(max(*p.MaxItems, 1), maxItems)
		}
	default:
		return ArgSpec{}, "type " + string(p.Type) + " is not string, number, integer, boolean or array of strings"
	}
	if len(p.Default) > 0 && string(p.Default) != "null" {
		var v any
		if err := json.Unmarshal(p.Default, &v); err != nil {
			return ArgSpec{}, "unreadable default"
		}
		if l, ok := v.([]any); ok {
			s := make([]string, 0, len(l))
			for _, e := range l {
				str, ok := e.(string)
				if !ok {
					return ArgSpec{}, "default list has a non-string element"
				}
				s = append(s, str)
			}
			v = s
		}
		a.Default = v
		if _, err := normalizeDefault(withBounds(a)); err != nil {
			return ArgSpec{}, "default: " + err.Error()
		}
	}
	return a, ""
}

func withBounds(a ArgSpec) ArgSpec {
	if a.MaxBytes <= 0 {
		a.MaxBytes = DefaultArgMaxBytes
	}
	if a.MaxItems <= 0 {
		a.MaxItems = DefaultArgMaxItems
	}
	return a
}

// MergeToolArgs combines configured declarations with derived ones
// (SchemaArgs); the configuration wins: an entry whose Tool equals a
// configured entry's Tool adds only the arguments the configuration does
// not declare, and configured entries come first, so a configured glob
// that matches a derived tool's name replaces its derived declarations.
//
// One thing is not the configuration's to choose: whether null is
// accepted. A configured argument whose path is a top-level property that
// the derived declarations of the same tool also declare takes that
// property's Nullable, so that the Guard accepts null (as absent) exactly
// when the tool's input schema, which the go-sdk server validates, does.
// Derive with SchemaOptions.Properties naming the configured arguments too
// (or nil): the configured declaration still wins in everything else.
func MergeToolArgs(configured, derived []ToolArgs) []ToolArgs {
	out := make([]ToolArgs, 0, len(configured)+len(derived))
	for _, c := range configured {
		out = append(out, ToolArgs{Tool: c.Tool, Args: slices.Clone(c.Args)})
	}
	for _, d := range derived {
		i := slices.IndexFunc(out[:len(configured)], func(c ToolArgs) bool { return c.Tool == d.Tool })
		if i < 0 {
			out = append(out, ToolArgs{Tool: d.Tool, Args: slices.Clone(d.Args)})
			continue
		}
		for _, a := range d.Args {
			for j := range out[i].Args {
				if c := &out[i].Args[j]; len(c.Path) == 0 && c.Name == a.Name || len(c.Path) == 1 && c.Path[0] == a.Name {
					c.Nullable = a.Nullable
				}
			}
			if !slices.ContainsFunc(out[i].Args, func(c ArgSpec) bool { return c.Name == a.Name }) {
				out[i].Args = append(out[i].Args, a)
			}
		}
	}
	return out
}
