package casbinauthz

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/casbin/casbin/v2/util"
)

// idxRule is one p rule of an indexable family.
type idxRule struct {
	obj    string // glob or literal object
	prefix string // literal prefix of obj (globs only)
	act    string
	kind   string // "" when the family has no kind column
	dom    string // "" when the family has no dom column
	deny   bool
}

type subjectRules struct {
	exact map[string][]int32 // literal object -> rule positions, ascending
	globs []int32            // glob rule positions, ascending
}

// index answers rbac-like families without calling Casbin. For a request it
// finds, over the caller's subjects, the first matching deny rule and the
// first matching allow rule in policy order, exactly as Casbin's
// deny-override effect does.
type index struct {
	fam   family
	rules []idxRule
	texts []string // "p, ..." per rule position
	bySub map[string]*subjectRules
}

// compileIndex builds the index from the policy in Casbin's order.
func compileIndex(f family, policy [][]string) (*index, error) {
	if len(policy) > math.MaxInt32 {
		return nil, fmt.Errorf("%w: too many rules", ErrPolicy)
	}
	x := &index{fam: f, rules: make([]idxRule, len(policy)), texts: make([]string, len(policy)), bySub: map[string]*subjectRules{}}
	for i, r := range policy {
		x.texts[i] = "p, " + strings.Join(r, ", ")
		eft := r[f.eftCol]
		if eft != "allow" && eft != "deny" {
			continue // Casbin treats other effects as indeterminate: never decisive
		}
		ir := idxRule{obj: r[f.objCol], act: r[f.actCol], deny: eft == "deny"}
		if f.kindCol >= 0 {
			ir.kind = r[f.kindCol]
		}
		if f.domCol >= 0 {
			ir.dom = r[f.domCol]
		}
		x.rules[i] = ir
		sr := x.bySub[r[f.subCol]]
		if sr == nil {
			sr = &subjectRules{exact: map[string][]int32{}}
			x.bySub[r[f.subCol]] = sr
		}
		if hasGlobMeta(ir.obj) {
			x.rules[i].prefix = literalPrefix(ir.obj)
			sr.globs = append(sr.globs, int32(i))
		} else {
			sr.exact[ir.obj] = append(sr.exact[ir.obj], int32(i))
		}
	}
	return x, nil
}

// decide returns the effect and the deciding rule text ("" when no rule
// matched). An error comes only from glob evaluation.
func (x *index) decide(q *request) (bool, string, error) {
	bestAllow, bestDeny := int32(math.MaxInt32), int32(math.MaxInt32)
	consider := func(pos int32) {
		r := &x.rules[pos]
		if r.deny {
			if pos < bestDeny {
				bestDeny = pos
			}
		} else if pos < bestAllow {
			bestAllow = pos
		}
	}
	for _, s := range q.subs {
		sr := x.bySub[s]
		if sr == nil {
			continue
		}
		for _, pos := range sr.exact[q.obj] {
			if x.attrsMatch(&x.rules[pos], q) {
				consider(pos)
			}
		}
		for _, pos := range sr.globs {
			r := &x.rules[pos]
			if !x.attrsMatch(r, q) || !strings.HasPrefix(q.obj, r.prefix) {
				continue
			}
			if r.deny && pos > bestDeny || !r.deny && (pos > bestAllow || bestDeny != math.MaxInt32) {
				continue // cannot change the outcome or the reported rule
			}
			ok, err := util.GlobMatch(q.obj, r.obj)
			if err != nil {
				return false, "", err
			}
			if ok {
				consider(pos)
			}
		}
	}
	switch {
	case bestDeny != math.MaxInt32:
		return false, x.texts[bestDeny], nil
	case bestAllow != math.MaxInt32:
		return true, x.texts[bestAllow], nil
	}
	return false, "", nil
}

func (x *index) attrsMatch(r *idxRule, q *request) bool {
	if r.act != q.act && r.act != "*" {
		return false
	}
	if x.fam.kindCol >= 0 && r.kind != q.kind && r.kind != "*" {
		return false
	}
	if x.fam.domCol >= 0 && r.dom != q.dom && r.dom != "*" {
		return false
	}
	return true
}

// scopeRule is one p2 line: scope is required for (obj, act).
type scopeRule struct {
	scope, obj, prefix, act string
}

// scopeIndex answers "which scopes does (obj, act) require".
type scopeIndex struct {
	exact map[string][]scopeRule
	globs []scopeRule
}

func compileScopes(policy [][]string) *scopeIndex {
	si := &scopeIndex{exact: map[string][]scopeRule{}}
	for _, r := range policy {
		sr := scopeRule{scope: r[0], obj: r[1], act: r[2]}
		if hasGlobMeta(sr.obj) {
			sr.prefix = literalPrefix(sr.obj)
			si.globs = append(si.globs, sr)
		} else {
			si.exact[sr.obj] = append(si.exact[sr.obj], sr)
		}
	}
	return si
}

// required returns the sorted, de-duplicated scopes (obj, act) requires.
func (si *scopeIndex) required(obj, act string) ([]string, error) {
	if si == nil {
		return nil, nil
	}
	var out []string
	for _, r := range si.exact[obj] {
		if r.act == act || r.act == "*" {
			out = append(out, r.scope)
		}
	}
	for _, r := range si.globs {
		if r.act != act && r.act != "*" || !strings.HasPrefix(obj, r.prefix) {
			continue
		}
		ok, err := util.GlobMatch(obj, r.obj)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, r.scope)
		}
	}
	if len(out) > 1 {
		slices.Sort(out)
		out = slices.Compact(out)
	}
	return out, nil
}
