package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/mcpauthz/mcpauthz/config"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/inspect"
	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

// argDeclFlagHelp documents -arg-decl for explain and lint.
const argDeclFlagHelp = "declared tool argument tool:name:type[=default], type string|number|bool|strings, or resource " +
	"URI-template variable 'docs://payroll/{year}:year:number' (repeatable; the Guard's arguments section, see docs/configuration.md; without -config)"

// parseArgDecls parses -arg-decl values "tool:name:type[=default]" into
// declarations, one entry per tool in first-seen order.
func parseArgDecls(vals []string) (*inspect.ArgDecls, error) {
	var tools []config.FileToolArgs
	for _, v := range vals {
		spec, def, hasDef := strings.Cut(v, "=")
		i := strings.LastIndexByte(spec, ':')
		j := -1
		if i > 0 {
			j = strings.LastIndexByte(spec[:i], ':')
		}
		if j <= 0 {
			return nil, fmt.Errorf("-arg-decl %q: want tool:name:type[=default]", v)
		}
		tool, name, typ := spec[:j], spec[j+1:i], spec[i+1:]
		a := config.FileArg{Name: name, Type: typ}
		if hasDef {
			switch typ {
			case "string":
				a.Default = def
			case "number":
				f, err := strconv.ParseFloat(def, 64)
				if err != nil {
					return nil, fmt.Errorf("-arg-decl %q: number default: %v", v, err)
				}
				a.Default = f
			case "bool":
				b, err := strconv.ParseBool(def)
				if err != nil || (def != "true" && def != "false") {
					return nil, fmt.Errorf("-arg-decl %q: bool default must be true or false", v)
				}
				a.Default = b
			case "strings":
				l := []string{}
				if def != "" {
					l = strings.Split(def, ",")
				}
				a.Default = l
			}
		}
		entry := config.FileToolArgs{Tool: tool}
		if strings.Contains(tool, "{") { // a resource URI template
			entry = config.FileToolArgs{Resource: tool}
		}
		k := slices.IndexFunc(tools, func(t config.FileToolArgs) bool { return t.Tool == entry.Tool && t.Resource == entry.Resource })
		if k < 0 {
			tools = append(tools, entry)
			k = len(tools) - 1
		}
		tools[k].Args = append(tools[k].Args, a)
	}
	d, err := config.ArgDecls(tools)
	if err != nil {
		return nil, fmt.Errorf("-arg-decl: %w", err)
	}
	return d, nil
}

// errArgsRefused is an argument refusal the Guard answers before the policy.
type errArgsRefused struct{ msg string }

func (e *errArgsRefused) Error() string { return e.msg }

// explainArgs fills perm.Args as the Guard's inspection would: for a
// tools/call carrying argsJSON as params.arguments (argsSet false: no
// arguments member), and for a resources/read or (un)subscribe from the
// declared URI template its URI fits. It runs the same strict pass, with
// the same defaults and refusals.
func explainArgs(perm *core.Permission, decls *inspect.ArgDecls, argsJSON string, argsSet bool) error {
	if argsSet && perm.Method != "tools/call" {
		return fmt.Errorf("-args applies to tools/call only (got %s; a resource's variables come from its URI)", perm.Method)
	}
	if !argsApply(*perm, decls) {
		return nil
	}
	var params string
	if perm.Method == "tools/call" {
		name, err := json.Marshal(perm.Name)
		if err != nil {
			return err
		}
		params = `{"name":` + string(name)
		if argsSet {
			raw := []byte(strings.TrimSpace(argsJSON))
			if err := jsonscan.Validate(raw, jsonscan.Options{}); err != nil {
				return fmt.Errorf("-args: %v", err)
			}
			params += `,"arguments":` + string(raw)
		}
	} else {
		uri, err := json.Marshal(perm.Name)
		if err != nil {
			return err
		}
		params = `{"uri":` + string(uri)
	}
	method, _ := json.Marshal(perm.Method)
	body := `{"jsonrpc":"2.0","id":1,"method":` + string(method) + `,"params":` + params + `}}`
	h := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json, text/event-stream"}, "Mcp-Protocol-Version": {inspect.Version20250618}}
	req, err := inspect.Inspect(http.MethodPost, h, []byte(body), inspect.Options{Args: decls})
	if err != nil {
		var ie *inspect.Error
		if errors.As(err, &ie) {
			return &errArgsRefused{fmt.Sprintf("%d, JSON-RPC %d: %s", ie.Status, ie.Code, ie.Message)}
		}
		return err
	}
	m := req.Messages[0]
	if len(m.MissingArgs) > 0 {
		return &errArgsRefused{"403: missing required argument " + strings.Join(m.MissingArgs, ", ")}
	}
	perm.Args = m.Args
	return nil
}

// argsApply reports whether declarations apply to perm's operation.
func argsApply(perm core.Permission, decls *inspect.ArgDecls) bool {
	switch perm.Method {
	case "tools/call":
		return decls.For(perm.Name) != nil
	case "resources/read", "resources/subscribe", "resources/unsubscribe":
		return decls.HasResources()
	}
	return false
}

// typedArgs renders declared argument values with their types, sorted by
// declaration order.
func typedArgs(decls *inspect.ArgDecls, args map[string]any) string {
	var b bytes.Buffer
	for _, n := range decls.Names() {
		v, ok := args[n]
		if !ok {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		j, _ := json.Marshal(v)
		fmt.Fprintf(&b, "%s:%s=%s", n, typeName(decls.Type(n)), j)
	}
	return orDefault(b.String(), "(none)")
}

func typeName(t inspect.ArgType) string {
	if t == inspect.ArgStringList {
		return "strings"
	}
	return t.String()
}
