package casbinauthz

import (
	"fmt"
	"maps"
	"regexp"
	"strings"

	"github.com/casbin/casbin/v2/model"
)

// tokenKind says how one request token is filled.
type tokenKind int

const (
	tokSub tokenKind = iota
	tokObj
	tokAct
	tokKind
	tokDom
	tokAttrs
	tokArgs
)

var tokenNames = map[string]tokenKind{
	"sub": tokSub, "obj": tokObj, "act": tokAct, "kind": tokKind, "dom": tokDom, "attrs": tokAttrs,
	"args": tokArgs,
}

// requestTokens maps request token names ("r_sub" or "sub") to kinds.
func requestTokens(names []string, prefix string) ([]tokenKind, error) {
	out := make([]tokenKind, 0, len(names))
	for _, n := range names {
		k, ok := tokenNames[strings.TrimPrefix(n, prefix)]
		if !ok {
			return nil, fmt.Errorf("%w: unsupported request token %q (use sub, obj, act, kind, dom, attrs, args)", ErrModel, n)
		}
		out = append(out, k)
	}
	return out, nil
}

// family is an indexable model: the p columns of each field (-1 if absent).
type family struct {
	name                                            string
	subCol, objCol, actCol, eftCol, kindCol, domCol int
	// roles: the matcher is g(r.sub, p.sub), so subjects expand through the
	// g role links; domRoles: also g2(r.sub, p.sub, r.dom), links in the
	// caller's domain (see roles.go).
	roles, domRoles bool
}

const denyOverride = `some(where(p_eft==allow))&&!some(where(p_eft==deny))`

// knownFamilies lists the matchers the index reproduces exactly, in
// Casbin's escaped form with all whitespace removed.
var knownFamilies = []struct {
	r, p, m string
	g       map[string]string // role definitions, squashed ("g" -> "_,_")
	f       family
}{
	{
		r: "r_sub,r_obj,r_act", p: "p_sub,p_obj,p_act,p_eft",
		m: `p_subinr_sub&&globMatch(r_obj,p_obj)&&(p_act==r_act||p_act=="*")`,
		f: family{name: "rbac", subCol: 0, objCol: 1, actCol: 2, eftCol: 3, kindCol: -1, domCol: -1},
	},
	{
		r: "r_kind,r_sub,r_obj,r_act", p: "p_kind,p_sub,p_obj,p_act,p_eft",
		m: `(p_kind==r_kind||p_kind=="*")&&p_subinr_sub&&globMatch(r_obj,p_obj)&&(p_act==r_act||p_act=="*")`,
		f: family{name: "machine", subCol: 1, objCol: 2, actCol: 3, eftCol: 4, kindCol: 0, domCol: -1},
	},
	{
		r: "r_sub,r_dom,r_obj,r_act", p: "p_sub,p_dom,p_obj,p_act,p_eft",
		m: `p_subinr_sub&&(p_dom==r_dom||p_dom=="*")&&globMatch(r_obj,p_obj)&&(p_act==r_act||p_act=="*")`,
		f: family{name: "tenant_rbac", subCol: 0, objCol: 2, actCol: 3, eftCol: 4, kindCol: -1, domCol: 1},
	},
	{
		r: "r_sub,r_obj,r_act", p: "p_sub,p_obj,p_act,p_eft",
		m: `g(r_sub,p_sub)&&globMatch(r_obj,p_obj)&&(p_act==r_act||p_act=="*")`,
		g: map[string]string{"g": "_,_"},
		f: family{name: "rbac_roles", subCol: 0, objCol: 1, actCol: 2, eftCol: 3, kindCol: -1, domCol: -1, roles: true},
	},
	{
		r: "r_sub,r_dom,r_obj,r_act", p: "p_sub,p_dom,p_obj,p_act,p_eft",
		m: `(g(r_sub,p_sub)||g2(r_sub,p_sub,r_dom))&&(p_dom==r_dom||p_dom=="*")&&globMatch(r_obj,p_obj)&&(p_act==r_act||p_act=="*")`,
		g: map[string]string{"g": "_,_", "g2": "_,_,_"},
		f: family{name: "tenant_rbac_roles", subCol: 0, objCol: 2, actCol: 3, eftCol: 4, kindCol: -1, domCol: 1, roles: true, domRoles: true},
	},
}

const (
	scopeR = "r2_obj,r2_act"
	scopeP = "p2_scope,p2_obj,p2_act"
	scopeM = `globMatch(r2_obj,p2_obj)&&(p2_act==r2_act||p2_act=="*")`
	scopeE = `some(where(p_eft==allow))`
)

func squash(s string) string {
	return strings.Join(strings.Fields(s), "")
}

// detectFamily returns the indexable family of m, or nil.
func detectFamily(m model.Model) *family {
	r, p, e, mm := m["r"]["r"], m["p"]["p"], m["e"]["e"], m["m"]["m"]
	if r == nil || p == nil || e == nil || mm == nil || squash(e.Value) != denyOverride {
		return nil
	}
	gdefs := map[string]string{}
	for key, ast := range m["g"] {
		gdefs[key] = squash(ast.Value)
	}
	rt, pt, mv := strings.Join(r.Tokens, ","), strings.Join(p.Tokens, ","), squash(mm.Value)
	for _, k := range knownFamilies {
		if k.r == rt && k.p == pt && k.m == mv && maps.Equal(k.g, gdefs) {
			f := k.f
			return &f
		}
	}
	return nil
}

// checkScopeSection validates the optional p2 scope-requirement section.
// It reports whether the model has one.
func checkScopeSection(m model.Model) (bool, error) {
	p2, ok := m["p"]["p2"]
	if !ok {
		return false, nil
	}
	r2, e2, m2 := m["r"]["r2"], m["e"]["e2"], m["m"]["m2"]
	if r2 == nil || e2 == nil || m2 == nil ||
		strings.Join(r2.Tokens, ",") != scopeR || strings.Join(p2.Tokens, ",") != scopeP ||
		squash(m2.Value) != scopeM || squash(e2.Value) != scopeE {
		return false, fmt.Errorf("%w: a p2 section must be the scope-requirement section of casbinmodels \"scopes\" "+
			"(r2 = obj, act; p2 = scope, obj, act; e2 = some(where (p.eft == allow)); "+
			"m2 = globMatch(r2.obj, p2.obj) && (p2.act == r2.act || p2.act == \"*\"))", ErrModel)
	}
	return true, nil
}

var (
	subUse  = regexp.MustCompile(`(\bin\s*)?\br_sub\b`)
	roleUse = regexp.MustCompile(`\bg[0-9]*\(\s*r_sub\s*,`)
)

// checkSubUse rejects matchers that use r.sub other than as "... in r.sub"
// (r.sub is the caller's list of subjects, and Casbin functions such as
// keyMatch would receive its elements spread as extra arguments), or, in a
// role model (see [perSubjectModel]), other than as the first argument of a
// role function: g(r.sub, p.sub), g2(r.sub, p.sub, r.dom).
func checkSubUse(m model.Model) error {
	perSub := perSubjectModel(m)
	for key, ast := range m["m"] {
		uses := subUse.FindAllStringSubmatch(ast.Value, -1)
		if perSub {
			if n := len(roleUse.FindAllString(ast.Value, -1)); n != len(uses) {
				return fmt.Errorf("%w: matcher %s uses r.sub both in a role function and otherwise; "+
					"in a role model r.sub may only be the first argument of role functions such as g() and g2()", ErrModel, key)
			}
			continue
		}
		for _, mt := range uses {
			if mt[1] == "" {
				return fmt.Errorf("%w: matcher %s uses r.sub other than as \"p.sub in r.sub\"; r.sub is the caller's list of subjects", ErrModel, key)
			}
		}
	}
	if perSub {
		if e := squash(m["e"]["e"].Value); e != denyOverride && e != scopeE {
			return fmt.Errorf("%w: a role model (g(r.sub, ...)) must use the effect allow-override or deny-override", ErrModel)
		}
	}
	return nil
}
