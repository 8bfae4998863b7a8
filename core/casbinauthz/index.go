package casbinauthz

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/casbin/casbin/v2/util"
)

// idxRule is one p rule of an indexable family.
type idxRule struct {
	act  string
	kind string // "" when the family has no kind column
	dom  string // "" when the family has no dom column
	sub  int32  // subject id (index.subIDs)
	deny bool
}

// index answers rbac-like families without calling Casbin. For a request it
// finds, over the caller's subjects, the first matching deny rule and the
// first matching allow rule in policy order, exactly as Casbin's
// deny-override effect does. Literal objects are looked up per subject;
// glob objects go through one [globIndex] over all subjects, whose
// per-object match sets are cached for this policy version.
type index struct {
	fam    family
	rules  []idxRule
	texts  []string                      // "p, ..." per rule position
	subIDs map[string]int32              // subject -> id, for subjects with glob rules
	exact  map[string]map[string][]int32 // subject -> literal object -> positions, ascending
	globs  globIndex
	cache  *matchCache // nil: match sets are not cached
	roles  *roleGraph  // role families: subjects expand through g/g2 links
}

// compileIndex builds the index from the policy in Casbin's order.
// cacheBytes bounds the per-object match-set cache (<= 0 disables it).
func compileIndex(f family, policy [][]string, cacheBytes int) (*index, error) {
	if len(policy) > math.MaxInt32 {
		return nil, fmt.Errorf("%w: too many rules", ErrPolicy)
	}
	x := &index{
		fam: f, rules: make([]idxRule, len(policy)), texts: make([]string, len(policy)),
		subIDs: map[string]int32{}, exact: map[string]map[string][]int32{},
	}
	for i, r := range policy {
		x.texts[i] = "p, " + strings.Join(r, ", ")
		eft := r[f.eftCol]
		if eft != "allow" && eft != "deny" {
			continue // Casbin treats other effects as indeterminate: never decisive
		}
		ir := idxRule{act: r[f.actCol], deny: eft == "deny"}
		if f.kindCol >= 0 {
			ir.kind = r[f.kindCol]
		}
		if f.domCol >= 0 {
			ir.dom = r[f.domCol]
		}
		sub, obj := r[f.subCol], r[f.objCol]
		if hasGlobMeta(obj) {
			id, ok := x.subIDs[sub]
			if !ok {
				id = int32(len(x.subIDs))
				x.subIDs[sub] = id
			}
			ir.sub = id
			x.globs.add(obj, int32(i))
		} else {
			m := x.exact[sub]
			if m == nil {
				m = map[string][]int32{}
				x.exact[sub] = m
			}
			m[obj] = append(m[obj], int32(i))
		}
		x.rules[i] = ir
	}
	if x.globs.n > 0 {
		x.cache = newMatchCache(cacheBytes)
	}
	return x, nil
}

// decide returns the effect and the deciding rule text ("" when no rule
// matched). An error comes only from glob evaluation.
func (x *index) decide(q *request) (bool, string, error) {
	if x.roles != nil {
		eq := *q
		eq.subs = x.roles.expand(q.subs, q.dom, x.fam.domRoles)
		q = &eq
	}
	bestAllow, bestDeny := int32(math.MaxInt32), int32(math.MaxInt32)
	for _, s := range q.subs {
		for _, pos := range x.exact[s][q.obj] {
			r := &x.rules[pos]
			if !x.attrsMatch(r, q) {
				continue
			}
			if r.deny {
				bestDeny = min(bestDeny, pos)
			} else {
				bestAllow = min(bestAllow, pos)
			}
		}
	}
	if x.globs.n > 0 {
		var idBuf [16]int32
		ids := idBuf[:0]
		for _, s := range q.subs {
			if id, ok := x.subIDs[s]; ok {
				ids = append(ids, id)
			}
		}
		if len(ids) > 0 {
			var setBuf [32]int32
			set, err := x.globMatches(setBuf[:0], q.obj, ids)
			if err != nil {
				return false, "", err
			}
			for _, pos := range set { // ascending
				if pos > bestDeny {
					break // a deny already decided and is the first one
				}
				r := &x.rules[pos]
				if !r.deny && pos > bestAllow || !slices.Contains(ids, r.sub) || !x.attrsMatch(r, q) {
					continue
				}
				if r.deny {
					bestDeny = pos
					break
				}
				bestAllow = pos
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

// globMatches returns the positions of the glob rules whose pattern matches
// obj, ascending. With the cache, the set covers every subject and is
// cached; without it, only rules of the subjects ids are tested.
func (x *index) globMatches(dst []int32, obj string, ids []int32) ([]int32, error) {
	if x.cache == nil {
		return x.globs.matches(dst, obj, func(pos int32) bool { return slices.Contains(ids, x.rules[pos].sub) })
	}
	if set, ok := x.cache.get(obj); ok {
		return set, nil
	}
	set, err := x.globs.matches(dst, obj, nil)
	if err != nil {
		return nil, err
	}
	x.cache.put(obj, slices.Clip(slices.Clone(set)))
	return set, nil
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
	scope, obj, act string
}

// scopeIndex answers "which scopes does (obj, act) require".
type scopeIndex struct {
	rules []scopeRule
	exact map[string][]int32
	globs globIndex
	cache *matchCache
}

func compileScopes(policy [][]string, cacheBytes int) *scopeIndex {
	si := &scopeIndex{rules: make([]scopeRule, len(policy)), exact: map[string][]int32{}}
	for i, r := range policy {
		si.rules[i] = scopeRule{scope: r[0], obj: r[1], act: r[2]}
		if obj := r[1]; hasGlobMeta(obj) {
			si.globs.add(obj, int32(i))
		} else {
			si.exact[obj] = append(si.exact[obj], int32(i))
		}
	}
	if si.globs.n > 0 {
		si.cache = newMatchCache(cacheBytes)
	}
	return si
}

// required returns the sorted, de-duplicated scopes (obj, act) requires.
func (si *scopeIndex) required(obj, act string) ([]string, error) {
	if si == nil {
		return nil, nil
	}
	var out []string
	add := func(pos int32) {
		if r := si.rules[pos]; r.act == act || r.act == "*" {
			out = append(out, r.scope)
		}
	}
	if !utf8.ValidString(obj) {
		// Casbin compares runes (an invalid byte equals U+FFFD): test
		// every rule with globMatch.
		for i, r := range si.rules {
			if ok, err := util.GlobMatch(obj, r.obj); err != nil {
				return nil, err
			} else if ok {
				add(int32(i))
			}
		}
	} else {
		for _, pos := range si.exact[obj] {
			add(pos)
		}
	}
	if si.globs.n > 0 && utf8.ValidString(obj) {
		set, ok := si.cache.get(obj)
		if !ok {
			var err error
			if set, err = si.globs.matches(nil, obj, nil); err != nil {
				return nil, err
			}
			si.cache.put(obj, slices.Clip(set))
		}
		for _, pos := range set {
			add(pos)
		}
	}
	if len(out) > 1 {
		slices.Sort(out)
		out = slices.Compact(out)
	}
	return out, nil
}
