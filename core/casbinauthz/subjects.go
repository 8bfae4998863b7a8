package casbinauthz

import (
	"encoding/json"

	"github.com/mcpauthz/mcpauthz/core"
)

// AnySubject is the subject every authenticated principal carries, for rules
// that apply to everyone ("p, *, tool:echo, call, allow").
const AnySubject = "*"

// DefaultSubjects expands a principal into typed subjects, in this order:
// "*", then "user:<sub>" for a user or "client:<client_id>" for a client
// (omitted when empty), "group:<g>" per group, "role:<r>" per role and
// "scope:<s>" per granted scope. Empty values are skipped and duplicates
// removed. A user's token never yields a client:<id> subject, so users do
// not inherit the permissions of the app they signed in with.
func DefaultSubjects(p *core.Principal) []string {
	out := make([]string, 0, 2+len(p.Groups)+len(p.Roles)+len(p.Scopes))
	out = append(out, AnySubject)
	switch p.Kind {
	case core.PrincipalClient:
		if p.ClientID != "" {
			out = append(out, "client:"+p.ClientID)
		}
	case core.PrincipalUser:
		if p.Subject != "" {
			out = append(out, "user:"+p.Subject)
		}
	}
	out = appendTyped(out, "group:", p.Groups)
	out = appendTyped(out, "role:", p.Roles)
	out = appendTyped(out, "scope:", p.Scopes)
	return out
}

func appendTyped(out []string, prefix string, vals []string) []string {
next:
	for _, v := range vals {
		if v == "" {
			continue
		}
		s := prefix + v
		for _, have := range out {
			if have == s {
				continue next
			}
		}
		out = append(out, s)
	}
	return out
}

// Domain is the tenant used for the "dom" request token: Principal.Tenant,
// or the issuer when the principal has no tenant.
func Domain(p *core.Principal) string {
	if p.Tenant != "" {
		return p.Tenant
	}
	return p.Issuer
}

// Attributes builds the "attrs" request token for ABAC models: every entry
// of Principal.Attributes (lists of strings become []any so that Casbin's
// "in" works), the defaults department="", acr="", amr=[] when absent, and
// iss, tenant, client_id, sub, kind, method, plus "request" holding
// Permission.Attrs (an empty map when nil).
func Attributes(p *core.Principal, perm core.Permission) map[string]any {
	m := make(map[string]any, len(p.Attributes)+10)
	for k, v := range p.Attributes {
		m[k] = normalizeAttr(v)
	}
	for _, d := range defaultAttrs {
		if _, ok := m[d.Name]; !ok {
			m[d.Name] = d.Default
		}
	}
	addBuiltinAttrs(m, p, perm)
	return m
}

func normalizeAttr(v any) any {
	switch t := v.(type) {
	case []string:
		out := make([]any, len(t))
		for i, s := range t {
			out[i] = s
		}
		return out
	case json.Number:
		if f, err := t.Float64(); err == nil {
			return f
		}
		return t.String()
	}
	return v
}

// request is one expanded authorization question.
type request struct {
	subs  []string
	obj   string
	act   string
	kind  string
	dom   string
	attrs map[string]any // only when the model has an attrs token
	args  map[string]any // only when the model has an args token (see args.go)
}

// rvals lays the request out in the order of the model's request tokens.
func (q *request) rvals(toks []tokenKind) []any {
	out := make([]any, len(toks))
	for i, t := range toks {
		switch t {
		case tokSub:
			s := make([]any, len(q.subs))
			for j, v := range q.subs {
				s[j] = v
			}
			out[i] = s
		case tokObj:
			out[i] = q.obj
		case tokAct:
			out[i] = q.act
		case tokKind:
			out[i] = q.kind
		case tokDom:
			out[i] = q.dom
		case tokAttrs:
			out[i] = q.attrs
		case tokArgs:
			out[i] = q.args
		}
	}
	return out
}
