package casbinauthz

import (
	"errors"
	"strings"

	"github.com/casbin/casbin/v2/model"
)

// Role models. A model whose matcher calls a role function on r.sub
// ("g(r.sub, p.sub)", "g2(r.sub, p.sub, r.dom)") is a classic Casbin RBAC
// model: r.sub is ONE subject there, and the g/g2 policy lines link
// subjects to roles, roles to roles. The authorizer asks for each of the
// caller's typed subjects and combines the answers as Casbin's effect
// would over all of them: with deny-override, any deny wins and the first
// deny in policy order is reported, otherwise the first allow; with
// allow-override, the first allow. The indexed families rbac_roles and
// tenant_rbac_roles expand the caller's subjects through the links instead
// (the same breadth-first walk, same depth limit as Casbin's default role
// manager) and use the subject index.

// maxRoleDepth is the hierarchy depth Casbin's default role manager
// follows (casbin.NewEnforcer builds it with 10 levels).
const maxRoleDepth = 10

// perSubjectModel reports whether the matcher passes r.sub to a role
// function, so that r.sub must be one subject.
func perSubjectModel(m model.Model) bool {
	for _, ast := range m["m"] {
		if roleUse.MatchString(ast.Value) {
			return true
		}
	}
	return false
}

// roleGraph holds the g links (subject -> roles) and the g2 links per
// domain.
type roleGraph struct {
	g  map[string][]string
	g2 map[string]map[string][]string
}

func compileRoles(m model.Model) *roleGraph {
	rg := &roleGraph{g: map[string][]string{}, g2: map[string]map[string][]string{}}
	if ast := m["g"]["g"]; ast != nil {
		for _, r := range ast.Policy {
			if len(r) >= 2 {
				rg.g[r[0]] = append(rg.g[r[0]], r[1])
			}
		}
	}
	if ast := m["g"]["g2"]; ast != nil {
		for _, r := range ast.Policy {
			if len(r) >= 3 {
				d := rg.g2[r[2]]
				if d == nil {
					d = map[string][]string{}
					rg.g2[r[2]] = d
				}
				d[r[0]] = append(d[r[0]], r[1])
			}
		}
	}
	return rg
}

// expand returns subs plus every role reachable from them within
// maxRoleDepth links through g, and (withDom) through the g2 links of
// domain dom. g and g2 paths are not mixed, as in "g(...) || g2(...)".
func (rg *roleGraph) expand(subs []string, dom string, withDom bool) []string {
	seen := make(map[string]struct{}, 2*len(subs))
	out := make([]string, 0, 2*len(subs))
	for _, s := range subs {
		if _, ok := seen[s]; !ok {
			seen[s] = struct{}{}
			out = append(out, s)
		}
	}
	walk := func(links map[string][]string) {
		if len(links) == 0 {
			return
		}
		reached := map[string]struct{}{}
		frontier := subs
		for depth := 0; depth < maxRoleDepth && len(frontier) > 0; depth++ {
			var next []string
			for _, s := range frontier {
				for _, r := range links[s] {
					if _, ok := reached[r]; ok {
						continue
					}
					reached[r] = struct{}{}
					next = append(next, r)
					if _, ok := seen[r]; !ok {
						seen[r] = struct{}{}
						out = append(out, r)
					}
				}
			}
			frontier = next
		}
	}
	walk(rg.g)
	if withDom {
		walk(rg.g2[dom])
	}
	return out
}

// rvalsOne lays the request out with ONE subject for the sub token.
func (q *request) rvalsOne(toks []tokenKind, sub string) []any {
	out := q.rvals(toks)
	for i, t := range toks {
		if t == tokSub {
			out[i] = sub
		}
	}
	return out
}

// decidePerSubject evaluates a role model with Enforce once per subject and
// combines the answers (see the top of this file).
func (s *snapshot) decidePerSubject(q *request) (bool, string, error) {
	var allowRule, denyRule string
	allowPos, denyPos := -1, -1
	ee, ok := s.enf.(ExplainingEnforcer)
	if !ok {
		return false, "", errors.New("casbinauthz: a role model needs an enforcer with EnforceEx")
	}
	for _, sub := range q.subs {
		rv := q.rvalsOne(s.toks, sub)
		allowed, ex, err := ee.EnforceEx(rv...)
		if err != nil {
			return false, "", err
		}
		if len(ex) == 0 {
			continue
		}
		text := "p, " + strings.Join(ex, ", ")
		pos := s.rulePos[text]
		if allowed && (allowPos < 0 || pos < allowPos) {
			allowPos, allowRule = pos, text
		} else if !allowed && (denyPos < 0 || pos < denyPos) {
			denyPos, denyRule = pos, text
		}
	}
	switch {
	case denyPos >= 0:
		return false, denyRule, nil
	case allowPos >= 0:
		return true, allowRule, nil
	}
	return false, "", nil
}

// rulePositions maps each p rule's text to its first position.
func rulePositions(policy [][]string) map[string]int {
	out := make(map[string]int, len(policy))
	for i, r := range policy {
		t := "p, " + strings.Join(r, ", ")
		if _, ok := out[t]; !ok {
			out[t] = i
		}
	}
	return out
}
