package casbinauthz

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/util"
	"github.com/mcpauthz/mcpauthz/core/inspect"
)

// Checks of argument declarations against a policy (issue 15), run by
// [LintWith] and therefore by every load:
//
//   - errors: r.args.X when the model has no args token or X is not
//     declared; a comparison of r.args.X with a literal of another type
//     (r.args.replicas == 'three' for a number), a bool compared with <,
//     a list compared with a scalar literal, 'x' in r.args.X when X is
//     not a list, and globMatch/keyMatch/regexMatch on a non-string. Such
//     a condition is never true (or fails at evaluation), so a deny rule
//     would silently never fire;
//   - warnings (lint only, no effect on a load): declarations for tools no
//     rule's object mentions, and declared arguments no rule reads.

const argLit = `(?:'[^']*'|"[^"]*"|-?[0-9][0-9.eE+-]*|true|false)`

var (
	// r.args.X <op> literal, and literal <op> r.args.X.
	argCmpLeft  = regexp.MustCompile(`\br[._]args\.([A-Za-z0-9_]+)\s*(==|!=|<=|>=|<|>|=~|!~)\s*(` + argLit + `)`)
	argCmpRight = regexp.MustCompile(`(` + argLit + `)\s*(==|!=|<=|>=|<|>)\s*r[._]args\.([A-Za-z0-9_]+)\b`)
	// literal in r.args.X
	argIn = regexp.MustCompile(`\bin\s+r[._]args\.([A-Za-z0-9_]+)\b`)
	// fn(r.args.X, ...) for the string helpers.
	argStrFn = regexp.MustCompile(`\b(globMatch|keyMatch[0-9]?|regexMatch)\s*\(\s*r[._]args\.([A-Za-z0-9_]+)\b`)
)

// literalType is the declared type a literal fits.
func literalType(lit string) inspect.ArgType {
	switch {
	case lit == "true" || lit == "false":
		return inspect.ArgBool
	case lit[0] == '\'' || lit[0] == '"':
		return inspect.ArgString
	}
	return inspect.ArgNumber
}

// argTypeProblems describes the type mismatches of argument references in
// one expression.
func argTypeProblems(text string, decls *inspect.ArgDecls) []string {
	var out []string
	cmp := func(name, op, lit string) {
		t := decls.Type(name)
		if t == 0 {
			return // reported as undeclared
		}
		lt := literalType(lit)
		switch {
		case t == inspect.ArgStringList:
			out = append(out, fmt.Sprintf("r.args.%s is a string list compared with %s (%s): never true; test membership with 'x' in r.args.%s", name, lit, op, name))
		case t != lt:
			out = append(out, fmt.Sprintf("r.args.%s is a %v compared with the %v %s: never true", name, t, lt, lit))
		case t == inspect.ArgBool && op != "==" && op != "!=":
			out = append(out, fmt.Sprintf("r.args.%s is a bool compared with %s", name, op))
		}
	}
	for _, m := range argCmpLeft.FindAllStringSubmatch(text, -1) {
		if m[2] == "=~" || m[2] == "!~" {
			if t := decls.Type(m[1]); t != 0 && t != inspect.ArgString {
				out = append(out, fmt.Sprintf("r.args.%s is a %v matched with %s", m[1], t, m[2]))
			}
			continue
		}
		cmp(m[1], m[2], m[3])
	}
	for _, m := range argCmpRight.FindAllStringSubmatch(text, -1) {
		cmp(m[3], m[2], m[1])
	}
	for _, m := range argIn.FindAllStringSubmatch(text, -1) {
		if t := decls.Type(m[1]); t != 0 && t != inspect.ArgStringList {
			out = append(out, fmt.Sprintf("membership test (in) on r.args.%s, a %v: it needs a string list", m[1], t))
		}
	}
	for _, m := range argStrFn.FindAllStringSubmatch(text, -1) {
		if t := decls.Type(m[2]); t != 0 && t != inspect.ArgString {
			out = append(out, fmt.Sprintf("%s on r.args.%s, a %v: it takes a string", m[1], m[2], t))
		}
	}
	return out
}

// argFindings checks the matchers and policy lines against the argument
// declarations. Warnings are computed only when warn is set.
func argFindings(m model.Model, lines []Line, hasTok bool, decls *inspect.ArgDecls, warn bool) []Finding {
	var out []Finding
	read := map[string]bool{}
	check := func(n int, where, text string) {
		for _, sub := range argRef.FindAllStringSubmatch(text, -1) {
			read[sub[1]] = true
			switch {
			case !hasTok:
				out = append(out, Finding{n, SeverityError, fmt.Sprintf("%sr.args.%s but the model has no args request token", where, sub[1])})
			case decls.Type(sub[1]) == 0:
				out = append(out, Finding{n, SeverityError, fmt.Sprintf("%sr.args.%s is not a declared argument (declare it, or fix the name): refused so that a typo never turns a rule into a no-op", where, sub[1])})
			}
		}
		if hasTok {
			for _, p := range argTypeProblems(text, decls) {
				out = append(out, Finding{n, SeverityError, where + p})
			}
		}
	}
	for key, ast := range m["m"] {
		check(0, "matcher "+key+": ", ast.Value)
	}
	for _, l := range lines {
		for _, f := range l.Fields {
			check(l.Num, "", f)
		}
	}
	if !warn || !hasTok || decls == nil {
		return out
	}
	for _, t := range decls.Tools() {
		if !toolMentioned(m, lines, t.Tool) {
			out = append(out, Finding{0, SeverityWarning, fmt.Sprintf("arguments are declared for tool %q but no rule's object mentions it", t.Tool)})
		}
	}
	for _, n := range decls.Names() {
		if !read[n] {
			out = append(out, Finding{0, SeverityWarning, fmt.Sprintf("declared argument %q is never read by the policy (r.args.%s)", n, n)})
		}
	}
	return out
}

// toolMentioned reports whether a rule that may apply to a tools/call (its
// action, if it has one, is call or *) has an object column that could
// name a tool matched by the declaration glob (either glob matching the
// other).
func toolMentioned(m model.Model, lines []Line, glob string) bool {
	for _, l := range lines {
		ast := m["p"][l.PType]
		if ast == nil {
			continue
		}
		if a := slices.Index(ast.Tokens, l.PType+"_act"); a >= 0 && a < len(l.Fields) && l.Fields[a] != "call" && l.Fields[a] != "*" {
			continue
		}
		for i, tok := range ast.Tokens {
			if !strings.HasSuffix(tok, "_obj") || i >= len(l.Fields) {
				continue
			}
			obj := l.Fields[i]
			if ok, _ := util.GlobMatch("tool:"+glob, obj); ok {
				return true
			}
			if name, isTool := strings.CutPrefix(obj, "tool:"); isTool {
				if ok, _ := path.Match(glob, name); ok {
					return true
				}
			}
		}
	}
	return false
}
