package casbinauthz

import (
	"fmt"
	"slices"
	"strings"

	"github.com/casbin/casbin/v2/model"
	"github.com/mcpauthz/mcpauthz/core"
)

// List visibility of argument-conditioned tools (issue 15).
//
// A tools/list item, or a resources/templates/list item (a declared URI
// template), is decided without arguments (core.Permission.Listing).
// A rule whose condition reads r.args cannot be evaluated then, so by
// default the item would be hidden even from a caller who may call the tool
// with some arguments. For a tool with declared arguments, a listing is
// therefore decided against a relaxed copy of the policy:
//
//   - an allow rule whose condition reads r.args counts as if the condition
//     held (the caller may call the tool with some arguments);
//   - a deny rule whose condition reads r.args is left out (it denies only
//     some arguments);
//   - every other rule, and the subject, object and action columns of the
//     relaxed rules, apply unchanged, so an unconditional deny still hides
//     the item and a caller no rule names never sees it.
//
// Listing is not granting: the relaxed policy answers only list visibility
// (Permission.Listing), never a call, and every call is decided against the
// real policy with its arguments. The relaxation applies only when the model
// reads its argument conditions through eval() of a policy column and its
// matcher does not read r.args itself, and not to role models evaluated per
// subject; otherwise the item is hidden as before (fail closed). A condition
// that mixes r.args with other attributes is relaxed as a whole: the item
// may be listed to a caller whose attributes would make every call fail.

// ReasonListed is the reason of a listing decision taken against the
// relaxed policy.
const ReasonListed = "listed (some arguments may be allowed)"

// listingLines rewrites lines for the relaxed listing policy; ok is false
// when the model does not allow the relaxation or no p rule reads r.args.
func listingLines(m model.Model, lines []Line) (out []Line, ok bool) {
	ast, has := m["p"]["p"]
	if !has {
		return nil, false
	}
	for _, mat := range m["m"] {
		if argRef.MatchString(mat.Value) {
			return nil, false // the matcher itself reads r.args
		}
	}
	matcher := ""
	if mm, has := m["m"]["m"]; has {
		matcher = strings.ReplaceAll(mm.Value, " ", "")
	}
	eft := slices.Index(ast.Tokens, "p_eft")
	relaxed := false
	for _, l := range lines {
		if l.PType != "p" {
			out = append(out, l)
			continue
		}
		refs := -1
		for i, f := range l.Fields {
			if argRef.MatchString(f) {
				if i >= len(ast.Tokens) || !strings.Contains(matcher, "eval("+ast.Tokens[i]+")") {
					return nil, false // read other than through eval(): not relaxable
				}
				refs = i
			}
		}
		if refs < 0 {
			out = append(out, l)
			continue
		}
		relaxed = true
		if eft >= 0 && eft < len(l.Fields) && l.Fields[eft] == "deny" {
			continue
		}
		nl := Line{Num: l.Num, PType: l.PType, Fields: slices.Clone(l.Fields)}
		for i, f := range nl.Fields {
			if argRef.MatchString(f) {
				nl.Fields[i] = "true"
			}
		}
		out = append(out, nl)
	}
	return out, relaxed
}

// compileListing builds the relaxed listing enforcer of a snapshot, or nil.
func (c *compiler) compileListing(lines []Line) (Enforcer, error) {
	if c.perSubject || !slices.Contains(c.toks, tokArgs) {
		return nil, nil
	}
	rl, ok := listingLines(c.model, lines)
	if !ok {
		return nil, nil
	}
	e, _, err := newCasbin(c.modelText, rl)
	if err != nil {
		return nil, fmt.Errorf("listing policy: %w", err)
	}
	return e, nil
}

// listable reports whether perm is a listing question the relaxed policy
// answers.
func (s *snapshot) listable(perm core.Permission) bool {
	if !perm.Listing || s.listing == nil || perm.Args != nil {
		return false
	}
	switch perm.Kind {
	case core.ObjectTool:
		return s.decls.For(perm.Name) != nil
	case core.ObjectResource: // a resources/templates/list item
		return s.decls.IsTemplate(perm.Name)
	}
	return false
}

// decideListing answers a listing question against the relaxed policy:
// visible (Allow, or RequiredScopes for the p2 scopes) or not. The p3
// argument scopes are not evaluated: they never hide an allowed item.
func (s *snapshot) decideListing(q *request, p *core.Principal) (core.Decision, error) {
	rv := q.rvals(s.toks)
	var ok bool
	var rule string
	if ee, isEx := s.listing.(ExplainingEnforcer); isEx {
		var ex []string
		var err error
		if ok, ex, err = ee.EnforceEx(rv...); err != nil {
			return core.Decision{}, err
		}
		if len(ex) > 0 {
			rule = "p, " + strings.Join(ex, ", ")
		}
	} else {
		var err error
		if ok, err = s.listing.Enforce(rv...); err != nil {
			return core.Decision{}, err
		}
	}
	if !ok {
		return core.Decision{Rule: rule, Reason: ReasonDenied}, nil
	}
	req, err := s.scopes.required(q.obj, q.act)
	if err != nil {
		return core.Decision{}, err
	}
	for _, sc := range req {
		if !p.HasScope(sc) {
			return core.Decision{RequiredScopes: req, Rule: rule, Reason: ReasonInsufficientScope}, nil
		}
	}
	return core.Decision{Allow: true, Rule: rule, Reason: ReasonListed}, nil
}
