package casbinauthz

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/util"
	"github.com/casbin/govaluate"
	"github.com/mcpauthz/mcpauthz/core/inspect"
)

// Declared tool arguments in the policy (issue 15).
//
// A model whose request has an "args" token (casbinmodels "abac_args")
// receives the declared arguments of a tools/call as r.args, a map from
// declared name to string, float64, bool or list of strings. Only names
// declared in Config.Args may be referenced (in the matcher or in any
// policy field): anything else is refused at load, so that a typo cannot
// turn a deny rule into a no-op.
//
// An optional p3 section ("p3 = scope, obj, act, cond") names scopes that
// a call needs only for some argument values:
//
//	p3, mcp:deploy:prod, tool:deploy, call, r.args.environment == 'production'
//
// A call the p rules allow but whose token lacks such a scope is denied
// with insufficient_scope naming the scope (step-up).

// argRef matches an argument reference, before or after Casbin escaping.
var argRef = regexp.MustCompile(`\br[._]args\.([A-Za-z0-9_]+)`)

// tokenRef matches a request or policy token in an escaped expression.
var tokenRef = regexp.MustCompile(`\b[rp][0-9]*_[A-Za-z0-9]+`)

// maxArgKeyBytes bounds the argument part of a decision-cache key;
// decisions over larger argument values are not cached.
const maxArgKeyBytes = 1 << 10

// casbinArgs converts declared argument values for Casbin: lists become
// []any so that 'x' in r.args.tags works.
func casbinArgs(args map[string]any) map[string]any {
	out := make(map[string]any, len(args))
	for k, v := range args {
		if l, ok := v.([]string); ok {
			a := make([]any, len(l))
			for i, s := range l {
				a[i] = s
			}
			v = a
		}
		out[k] = v
	}
	return out
}

// probeArgs is a value of the right type for every declared argument.
func probeArgs(decls *inspect.ArgDecls) map[string]any {
	out := map[string]any{}
	for _, n := range decls.Names() {
		switch decls.Type(n) {
		case inspect.ArgString:
			out[n] = ""
		case inspect.ArgNumber:
			out[n] = 0.0
		case inspect.ArgBool:
			out[n] = false
		case inspect.ArgStringList:
			out[n] = []any{}
		}
	}
	return out
}

// appendArgs appends the declared argument values to a cache key, sorted
// by name. ok is false when they exceed maxArgKeyBytes.
func appendArgs(b []byte, args map[string]any) ([]byte, bool) {
	names := make([]string, 0, len(args))
	for k := range args {
		names = append(names, k)
	}
	slices.Sort(names)
	start := len(b)
	b = append(b, 'A')
	for _, k := range names {
		b = appendField(b, k)
		switch v := args[k].(type) {
		case string:
			b = appendField(append(b, 's'), v)
		case float64:
			b = appendField(append(b, 'n'), fmt.Sprint(v))
		case bool:
			if v {
				b = append(b, 't')
			} else {
				b = append(b, 'f')
			}
		case []string:
			b = appendList(append(b, 'l'), v)
		default:
			return b, false
		}
		if len(b)-start > maxArgKeyBytes {
			return b, false
		}
	}
	return b, true
}

// argScope is one p3 rule.
type argScope struct {
	scope, obj, act string
	cond            *govaluate.EvaluableExpression
}

type argScopes []argScope

const argScopeP = "p3_scope,p3_obj,p3_act,p3_cond"

// compileArgScopes compiles the p3 rules; nil when the model has none.
func compileArgScopes(m model.Model, lines []Line) (argScopes, error) {
	ast, ok := m["p"]["p3"]
	if !ok {
		return nil, nil
	}
	if strings.Join(ast.Tokens, ",") != argScopeP {
		return nil, fmt.Errorf("%w: a p3 section must be \"p3 = scope, obj, act, cond\"", ErrModel)
	}
	if _, ok := m["p"]["p2"]; !ok {
		return nil, fmt.Errorf("%w: a p3 section needs the p2 scope section (Casbin reads p3 only after p2)", ErrModel)
	}
	fm := model.LoadFunctionMap()
	funcs := fm.GetFunctions()
	var out argScopes
	for _, l := range lines {
		if l.PType != "p3" {
			continue
		}
		if err := checkGlob(l.Fields[1]); err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrPolicy, l.Num, err)
		}
		text := util.EscapeAssertion(l.Fields[3])
		for _, v := range tokenRef.FindAllString(text, -1) {
			if v != "r_args" {
				return nil, fmt.Errorf("%w: line %d: a p3 condition may only read r.args (found %s)", ErrPolicy, l.Num, v)
			}
		}
		e, err := govaluate.NewEvaluableExpressionWithFunctions(text, funcs)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: condition %q: %v", ErrPolicy, l.Num, l.Fields[3], err)
		}
		out = append(out, argScope{scope: l.Fields[0], obj: l.Fields[1], act: l.Fields[2], cond: e})
	}
	return out, nil
}

// required returns the p3 scopes whose object, action and condition match
// q. An evaluation error (or a non-boolean result) is returned: the caller
// denies.
func (as argScopes) required(q *request) ([]string, error) {
	var out []string
	params := govaluate.MapParameters{"r_args": q.args}
	for _, r := range as {
		if r.act != q.act && r.act != "*" {
			continue
		}
		if ok, err := util.GlobMatch(q.obj, r.obj); err != nil || !ok {
			if err != nil {
				return nil, err
			}
			continue
		}
		v, err := r.cond.Eval(params)
		if err != nil {
			return nil, fmt.Errorf("p3 condition: %w", err)
		}
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("p3 condition is not boolean: %T", v)
		}
		if b && !slices.Contains(out, r.scope) {
			out = append(out, r.scope)
		}
	}
	return out, nil
}
