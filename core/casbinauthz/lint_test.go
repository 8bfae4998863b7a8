package casbinauthz

import (
	"strings"
	"testing"
)

func TestLint(t *testing.T) {
	t.Parallel()
	rbac := mustModel(t, "rbac")
	cases := []struct {
		name, model, policy string
		want                []string // "line N: severity: substring"
	}{
		{"clean", rbac, "p, *, tool:echo, call, allow\np, group:g, resource:docs://**, read, allow\n", nil},
		{"duplicate", rbac, "p, *, tool:a, call, allow\np, *, tool:a, call, allow\n", []string{"line 2: warning: duplicate of line 1"}},
		{"shadowed by glob", rbac, "p, group:g, tool:*, call, allow\np, group:g, tool:deploy, call, allow\n", []string{"line 2: warning: allow rule is shadowed by line 1"}},
		{"shadowed by any subject", rbac, "p, group:g, tool:x, *, deny\np, *, tool:x, *, deny\n", []string{"line 1: warning: deny rule is shadowed by line 2"}},
		{"not shadowed: literal a vs ab", rbac, "p, group:g, tool:a, call, allow\np, group:g, tool:ab, call, allow\n", nil},
		{"not shadowed: narrower action", rbac, "p, group:g, tool:a, call, allow\np, group:g, tool:a, *, allow\n", []string{"line 1: warning: allow rule is shadowed by line 2"}},
		{"overridden by deny", rbac, "p, *, tool:rm_*, call, deny\np, group:admins, tool:rm_x, call, allow\n", []string{"line 2: warning: allow rule never takes effect: the deny rule at line 1"}},
		{"deny for other subject does not override", rbac, "p, group:x, tool:rm_*, call, deny\np, group:admins, tool:rm_x, call, allow\n", nil},
		{"unknown subject prefix", rbac, "p, admins, tool:a, call, allow\np, group:, tool:b, call, allow\n", []string{"line 1: warning: subject \"admins\"", "line 2: warning: subject \"group:\""}},
		{"unknown object kind", rbac, "p, *, widget:a, call, allow\n", []string{"line 1: error: object \"widget:a\""}},
		{"incompatible action", rbac, "p, *, tool:a, read, deny\np, *, server, call, allow\n", []string{"line 1: error: deny rule can never match", "line 2: warning: rule can never match"}},
		// A deny rule that matches nothing fails open: refused.
		{"deny with misspelt action", rbac, "p, *, tool:a, cal, deny\n", []string{"line 1: error: action \"cal\" is not an MCP action"}},
		{"deny with misspelt subject prefix", rbac, "p, usr:mallory, tool:a, call, deny\n", []string{"line 1: error: subject \"usr:mallory\""}},
		{"deny with misspelt object kind", rbac, "p, *, tools:rm, call, deny\n", []string{"line 1: error: object \"tools:rm\""}},
		{"misspelt deny effect", rbac, "p, *, tool:rm, call, dney\n", []string{"line 1: error: effect \"dney\""}},
		{"deny with prompt action on a tool", rbac, "p, *, tool:rm, get, deny\n", []string{"line 1: error: deny rule can never match: tool objects never receive action \"get\""}},
		{"upper-case Entra GUID subject", rbac, "p, user:690222BE-FF1A-4D56-ABD1-7E4F7D38E474, tool:rm, call, deny\np, group:aaaaaaaa-0000-0000-0000-000000000001, tool:a, call, allow\n",
			[]string{"line 1: warning: subject \"user:690222BE-FF1A-4D56-ABD1-7E4F7D38E474\" holds the GUID"}},
		{"machine deny with misspelt kind", mustModel(t, "machine"), "p, clients, *, tool:a, call, deny\n", []string{"line 1: error: kind \"clients\""}},
		{"unknown action", rbac, "p, *, tool:a, execute, allow\n", []string{"line 1: warning: action \"execute\""}},
		{"bad effect", rbac, "p, *, tool:a, call, Allow\n", []string{"line 1: error: effect \"Allow\""}},
		{"bad glob", rbac, "p, *, tool:{a, call, allow\n", []string{"line 1: error: invalid glob"}},
		{"field count and type", rbac, "p, *, tool:a, call\nx, y\np2, s, tool:a, call\n", []string{"line 1: error: p has 3 fields", "line 2: error: unknown policy type", "line 3: error: policy type \"p2\""}},
		{"syntax", rbac, "p, \"*, tool:a, call, allow\n", []string{"line 1: error: parse error"}},
		{"spaces", rbac, "p, *, tool:a , call, allow\n", []string{"line 1: warning: value \"tool:a \" has surrounding spaces"}},
		{"empty", rbac, "# only a comment\n", []string{"line 0: error: the policy has no rules"}},
		{"bad model", "[request_definition]\n", "p, a\n", []string{"line 0: error: casbinauthz: invalid model"}},
		{"p2 with scope prefix", mustModel(t, "scopes"), "p, *, tool:a, call, allow\np2, scope:x, tool:a, call\n", []string{"line 2: warning: scope \"scope:x\""}},
		{"abac conditions differ: no override", mustModel(t, "abac"), "p, *, tool:a, call, r.attrs.acr == 'x', deny\np, *, tool:a, call, true, allow\n", nil},
		{"abac bad condition", mustModel(t, "abac"), "p, *, tool:a, call, r.attrs.acr ==, allow\n", []string{"line 0: error: line 1: condition"}},
		{"machine kind", mustModel(t, "machine"), "p, robot, *, tool:a, call, allow\n", []string{"line 1: warning: kind \"robot\""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := Lint(c.model, []byte(c.policy))
			if len(got) != len(c.want) {
				t.Fatalf("got %d findings %v, want %v", len(got), got, c.want)
			}
			for i, w := range c.want {
				if !strings.Contains(got[i].String(), w) {
					t.Errorf("finding %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}
