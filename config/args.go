package config

import (
	"fmt"

	"github.com/mcpauthz/mcpauthz/core/inspect"
)

// FileToolArgs declares the tool arguments (inspect.ToolArgs) or the
// resource URI-template variables (inspect.ResourceArgs) the policy may
// read as r.args: the same declarations reach the Guard's inspection
// (core.Config.Inspect.Args) and the authorizer (casbinauthz.Config.Args).
type FileToolArgs struct {
	// Tool is a tool name or a path.Match glob ("deploy", "git_*"); the
	// first entry whose glob matches a tool applies. REQUIRED unless
	// Resource is set; not both.
	Tool string `yaml:"tool"`
	// Resource is a resource URI template, RFC 6570 level 1 with whole
	// path-segment variables ("docs://payroll/{year}"); its variables are
	// strings unless Args types them. REQUIRED unless Tool is set.
	Resource string `yaml:"resource"`
	// Args are the declared arguments (for Resource: optional types and
	// bounds of variables, without path or default). REQUIRED (non-empty)
	// for Tool.
	Args []FileArg `yaml:"args"`
}

// FileArg is one declared argument (inspect.ArgSpec).
type FileArg struct {
	// Name is the attribute name (r.args.<name>). REQUIRED.
	Name string `yaml:"name"`
	// Type is string, number, bool or strings (a list of strings).
	// REQUIRED.
	Type string `yaml:"type"`
	// Path is the member path inside params.arguments. Default [name].
	Path []string `yaml:"path"`
	// MaxBytes bounds a string (or each list element). Default 256.
	MaxBytes int `yaml:"max_bytes"`
	// MaxItems bounds a list. Default 16.
	MaxItems int `yaml:"max_items"`
	// Default is used when the argument is absent; absent means the
	// argument is required and a call without it is denied.
	Default any `yaml:"default"`
	// Nullable accepts an explicit null, which then counts as absent
	// (inspect.ArgSpec.Nullable). Default false: null is refused (400).
	Nullable bool `yaml:"nullable"`
}

// argTypeNames maps the type names of FileArg.Type to inspect types.
var argTypeNames = map[string]inspect.ArgType{
	"string": inspect.ArgString, "number": inspect.ArgNumber, "bool": inspect.ArgBool, "strings": inspect.ArgStringList,
}

// ArgDecls validates argument declarations in the file format and returns
// them ready for core.Config.Inspect.Args and casbinauthz.Config.Args; nil
// (and no error) when tools is empty. Errors wrap inspect.ErrArgDecl.
func ArgDecls(tools []FileToolArgs) (*inspect.ArgDecls, error) {
	if len(tools) == 0 {
		return nil, nil
	}
	out := make([]inspect.ToolArgs, 0, len(tools))
	var res []inspect.ResourceArgs
	for i, t := range tools {
		if (t.Tool == "") == (t.Resource == "") {
			return nil, fmt.Errorf("%w: arguments[%d]: set exactly one of tool and resource", inspect.ErrArgDecl, i)
		}
		ta := inspect.ToolArgs{Tool: t.Tool}
		for j, a := range t.Args {
			typ, ok := argTypeNames[a.Type]
			if !ok {
				return nil, fmt.Errorf("%w: arguments[%d].args[%d].type %q: want string, number, bool or strings", inspect.ErrArgDecl, i, j, a.Type)
			}
			def, err := argDefault(typ, a.Default)
			if err != nil {
				return nil, fmt.Errorf("%w: arguments[%d].args[%d].default: %v", inspect.ErrArgDecl, i, j, err)
			}
			ta.Args = append(ta.Args, inspect.ArgSpec{Name: a.Name, Path: a.Path, Type: typ, MaxBytes: a.MaxBytes, MaxItems: a.MaxItems, Default: def, Nullable: a.Nullable})
		}
		if t.Resource != "" {
			res = append(res, inspect.ResourceArgs{Template: t.Resource, Args: ta.Args})
			continue
		}
		out = append(out, ta)
	}
	return inspect.NewArgDecls(out, res...)
}

// argDefault converts a decoded YAML (or flag) default to the Go type
// inspect expects for typ; nil stays nil (required argument).
func argDefault(typ inspect.ArgType, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case inspect.ArgNumber:
		switch n := v.(type) {
		case int:
			return float64(n), nil
		case int64:
			return float64(n), nil
		case uint64:
			return float64(n), nil
		case float64:
			return n, nil
		}
	case inspect.ArgStringList:
		switch l := v.(type) {
		case []string:
			return l, nil
		case []any:
			out := make([]string, 0, len(l))
			for _, e := range l {
				s, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("list element %v is not a string", e)
				}
				out = append(out, s)
			}
			return out, nil
		}
	case inspect.ArgString, inspect.ArgBool:
		return v, nil // NewArgDecls checks the type
	}
	return nil, fmt.Errorf("%v (%T) is not a %v", v, v, typ)
}
