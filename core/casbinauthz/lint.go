package casbinauthz

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/casbin/casbin/v2/util"
)

// Severity of a lint finding.
type Severity string

// Severities. Errors make a policy unloadable or a rule meaningless;
// warnings point at rules that are probably not what the author meant.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Finding is one lint result. Line is 1-based; 0 means the model or the
// policy as a whole.
type Finding struct {
	Line     int
	Severity Severity
	Message  string
}

// String formats the finding as "line N: severity: message".
func (f Finding) String() string {
	return fmt.Sprintf("line %d: %s: %s", f.Line, f.Severity, f.Message)
}

// compatible lists, per object kind, the actions requests can carry.
var compatible = map[string][]string{
	"tool:":     {"call"},
	"resource:": {"read", "subscribe", "complete"},
	"prompt:":   {"get", "complete"},
	"server":    {"connect", "list"},
}

// mcpActions are the actions requests carry (validAction), for messages.
var mcpActions = []string{"call", "read", "get", "list", "subscribe", "complete", "connect"}

var subjectPrefixes = []string{"user:", "client:", "group:", "role:", "scope:"}

// lintRule is a p line of a model with the usual columns.
type lintRule struct {
	line                          Line
	sub, obj, act, eft, kind, dom string
	hasKind, hasDom               bool
	extra                         string // values of other columns (e.g. an ABAC condition)
}

// Lint checks a policy against a model without loading it into an
// enforcer, reporting every problem rather than the first: syntax errors,
// lines that do not fit the model (unknown policy type, field count),
// invalid globs, unknown effects and object prefixes (errors); unknown
// subject prefixes, kinds, domains or actions and actions an object kind
// never receives (errors on a deny rule, which would otherwise silently deny
// nothing; warnings on other rules), duplicate rules, rules made redundant
// by an earlier one, and allow rules that a deny rule always overrides
// (warnings). Findings are in line order.
func Lint(modelText string, policy []byte) []Finding {
	return LintWith(modelText, policy, LintOptions{})
}

// LintWith is [Lint] with the options the authorizer is configured with.
// Every error it reports also refuses the load in [New], [Authorizer.Reload]
// and [Authorizer.Watch]: they run the same checks.
func LintWith(modelText string, policy []byte, opts LintOptions) []Finding {
	m, err := parseModel(modelText)
	if err != nil {
		return []Finding{{0, SeverityError, err.Error()}}
	}
	if err := checkSubUse(m); err != nil {
		return []Finding{{0, SeverityError, err.Error()}}
	}
	if _, err := checkScopeSection(m); err != nil {
		return []Finding{{0, SeverityError, err.Error()}}
	}
	v, err := newValidator(m, opts)
	if err != nil {
		return []Finding{{0, SeverityError, err.Error()}}
	}
	return v.lint(policy)
}

// lint checks policy text against the validator's model and options.
func (v *validator) lint(policy []byte) []Finding {
	m := v.model
	if !utf8.Valid(policy) {
		return []Finding{{0, SeverityError, "policy is not valid UTF-8"}}
	}
	var out []Finding
	add := func(n int, s Severity, format string, args ...any) {
		out = append(out, Finding{n, s, fmt.Sprintf(format, args...)})
	}
	seen := map[string]int{}
	var rules []lintRule
	var lines []Line
	nonBlank := 0
	for i, raw := range strings.Split(string(policy), "\n") {
		l, skip, err := parseLine(m, i+1, raw)
		if skip {
			continue
		}
		nonBlank++
		if err != nil {
			msg := strings.TrimPrefix(err.Error(), ErrPolicy.Error()+": ")
			add(i+1, SeverityError, "%s", strings.TrimPrefix(msg, fmt.Sprintf("line %d: ", i+1)))
			continue
		}
		lines = append(lines, l)
		key := l.String()
		if prev, dup := seen[key]; dup {
			add(l.Num, SeverityWarning, "duplicate of line %d (Casbin keeps one)", prev)
			continue
		}
		seen[key] = l.Num
		if r, ok := v.lintLine(l, add); ok {
			rules = append(rules, r)
		}
	}
	if nonBlank == 0 && !v.allowEmpty {
		add(0, SeverityError, "the policy has no rules")
	}
	if err := validateEvalColumns(m, lines); err != nil {
		add(0, SeverityError, "%s", strings.TrimPrefix(err.Error(), ErrPolicy.Error()+": "))
	}
	out = append(out, argFindings(m, lines, v.hasArgs, v.args, true)...)
	lintCoverage(rules, add)
	slices.SortStableFunc(out, func(a, b Finding) int { return a.Line - b.Line })
	return out
}

// lintLine checks one line's values against the column names of its
// policy type.
func (vd *validator) lintLine(l Line, add func(int, Severity, string, ...any)) (lintRule, bool) {
	ast := vd.model[l.PType[:1]][l.PType]
	if l.PType[0] != 'p' {
		return lintRule{}, false
	}
	r := lintRule{line: l}
	// A value that makes the rule match no request is a warning on an
	// allow rule (it fails closed: nothing is allowed) but an error on a
	// deny rule, where it fails open: a misspelt action, kind, subject or
	// domain would silently drop the denial. The effect column may come
	// after the others, so these findings are sorted out at the end.
	var never []string
	for i, tok := range ast.Tokens {
		v := l.Fields[i]
		if v != strings.TrimSpace(v) {
			add(l.Num, SeverityWarning, "value %q has surrounding spaces; they are part of the value", v)
		}
		switch strings.TrimPrefix(tok, l.PType+"_") {
		case "sub":
			r.sub = v
			if msg := vd.subjectProblem(v); msg != "" {
				never = append(never, msg)
			} else if g := upperGUID(v); g != "" {
				add(l.Num, SeverityWarning, "subject %q holds the GUID %s in upper case: the Entra mapper maps object, tenant, application and group ids in lower case, so the rule never matches an Entra caller; write it in lower case", v, g)
			}
		case "scope":
			if strings.HasPrefix(v, "scope:") {
				add(l.Num, SeverityWarning, "scope %q: p2 takes the bare scope name, without \"scope:\"", v)
			}
		case "obj":
			r.obj = v
			if err := checkGlob(v); err != nil {
				add(l.Num, SeverityError, "%v", err)
			} else if !mayBeObject(v) {
				add(l.Num, SeverityError, "object %q is not tool:<name>, resource:<uri>, prompt:<name> or server: unknown object prefix", v)
			}
		case "act":
			r.act = v
			if v != "*" && !validAction(v) {
				never = append(never, fmt.Sprintf("action %q is not an MCP action (%s): the rule never matches", v, strings.Join(mcpActions, ", ")))
			}
		case "eft":
			r.eft = v
			if v != "allow" && v != "deny" {
				add(l.Num, SeverityError, "effect %q is neither allow nor deny: the rule never decides", v)
			}
		case "kind":
			r.kind, r.hasKind = v, true
			if v != "user" && v != "client" && v != "*" {
				never = append(never, fmt.Sprintf("kind %q is not user, client or *: the rule never matches", v))
			}
		case "dom":
			r.dom, r.hasDom = v, true
			if msg := vd.domainProblem(v); msg != "" {
				never = append(never, msg)
			}
		default:
			r.extra += fmt.Sprintf("%d:%s|", len(v), v)
			if vd.attrs != nil {
				for _, name := range vd.attrs.undeclaredAttrs(v) {
					add(l.Num, SeverityError, "attribute %q is not declared (Config.Attributes or the mapper's schema): refused so that a missing attribute never silently changes a decision", name)
				}
			}
		}
	}
	if k := objectKind(r.obj); k != "" && r.act != "" && r.act != "*" && validAction(r.act) && !slices.Contains(compatible[k], r.act) {
		what := "rule"
		if r.eft == "deny" {
			what = "deny rule"
		}
		never = append(never, fmt.Sprintf("%s can never match: %s objects never receive action %q (only %s)",
			what, strings.TrimSuffix(k, ":"), r.act, strings.Join(compatible[k], ", ")))
	}
	sev := SeverityWarning
	if r.eft == "deny" {
		sev = SeverityError
	}
	for _, msg := range never {
		if sev == SeverityError {
			msg += " (refused on a deny rule: it would silently deny nothing)"
		}
		add(l.Num, sev, "%s", msg)
	}
	return r, l.PType == "p" && r.sub != "" && r.obj != "" && (r.eft == "allow" || r.eft == "deny")
}

// upperGUID returns the first 8-4-4-4-12 hex GUID in v that has an
// upper-case letter, or "".
func upperGUID(v string) string {
	for i := 0; i+36 <= len(v); i++ {
		g := v[i : i+36]
		if isHexGUID(g) && strings.ToLower(g) != g {
			return g
		}
	}
	return ""
}

func isHexGUID(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// mayBeObject reports whether the pattern can match some MCP object.
func mayBeObject(pat string) bool {
	pre := pat
	if hasGlobMeta(pat) {
		pre = literalPrefix(pat)
	}
	for k := range compatible {
		if strings.HasPrefix(k, pre) || strings.HasPrefix(pre, k) {
			return true
		}
	}
	return false
}

func hasTypedPrefix(v string) bool {
	for _, p := range subjectPrefixes {
		if strings.HasPrefix(v, p) && len(v) > len(p) {
			return true
		}
	}
	return false
}

// objectKind returns the kind prefix every object matched by the pattern
// has ("tool:", "resource:", "prompt:", "server"), or "".
func objectKind(pat string) string {
	if pat == "server" {
		return "server"
	}
	pre := literalPrefix(pat)
	if !hasGlobMeta(pat) {
		pre = pat
	}
	for k := range compatible {
		if k != "server" && strings.HasPrefix(pre, k) {
			return k
		}
	}
	return ""
}

// covers reports whether every request matched by b is matched by a
// (subject, action, kind, domain and object); objects are compared exactly
// or by a's glob against b's literal object. Other columns (conditions)
// must be identical.
func covers(a, b lintRule) bool {
	if a.extra != b.extra {
		return false
	}
	if a.sub != b.sub && a.sub != AnySubject {
		return false
	}
	if a.act != b.act && a.act != "*" {
		return false
	}
	if a.hasKind && a.kind != b.kind && a.kind != "*" {
		return false
	}
	if a.hasDom && a.dom != b.dom && a.dom != "*" {
		return false
	}
	if a.obj == b.obj {
		return true
	}
	if hasGlobMeta(b.obj) || !hasGlobMeta(a.obj) {
		return false
	}
	ok, err := util.GlobMatch(b.obj, a.obj)
	return err == nil && ok
}

// lintCoverage reports allow rules that a deny rule always overrides and
// rules that an earlier rule with the same effect makes redundant.
func lintCoverage(rules []lintRule, add func(int, Severity, string, ...any)) {
	for i, b := range rules {
		if b.eft == "allow" {
			if j := slices.IndexFunc(rules, func(a lintRule) bool { return a.eft == "deny" && covers(a, b) }); j >= 0 {
				add(b.line.Num, SeverityWarning, "allow rule never takes effect: the deny rule at line %d always overrides it", rules[j].line.Num)
				continue
			}
		}
		for j, a := range rules {
			if i != j && a.eft == b.eft && covers(a, b) && (j < i || !covers(b, a)) {
				add(b.line.Num, SeverityWarning, "%s rule is shadowed by line %d (redundant)", b.eft, a.line.Num)
				break
			}
		}
	}
}
