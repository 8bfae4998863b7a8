package casbinauthz

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/inspect"
)

// benchABACPolicy generates n abac rules like benchPolicy; the rules of
// the target tool tN carry cond (the decision under test).
func benchABACPolicy(n int, target, cond string) string {
	groups := max(n/10, 20)
	var b strings.Builder
	for i := range n {
		g := i % groups
		c := "true"
		if fmt.Sprintf("t%d", i) == target {
			c = cond
		}
		switch {
		case i%50 == 7:
			fmt.Fprintf(&b, "p, group:g%d, tool:t%d, call, %s, deny\n", g, i, c)
		case i%10 == 3:
			fmt.Fprintf(&b, "p, group:g%d, tool:t%d_*, call, %s, allow\n", g, i, c)
		default:
			fmt.Fprintf(&b, "p, group:g%d, tool:t%d, call, %s, allow\n", g, i, c)
		}
	}
	return b.String()
}

// BenchmarkArgsDecision compares, at 5,000 rules in the same run, an
// argument-conditioned decision (abac_args, r.args.environment ==
// 'staging') with the same decision without arguments (abac, condition
// "true"), uncached and cached (issue 15 target: args ≤ 2× no-args).
func BenchmarkArgsDecision(b *testing.B) {
	ctx := context.Background()
	p := benchPrincipal()
	const n = 5000
	groups := max(n/10, 20)
	name := fmt.Sprintf("t%d", 8+groups*((n-1-8)/groups))
	decls, err := inspect.NewArgDecls([]inspect.ToolArgs{{Tool: "*", Args: []inspect.ArgSpec{
		{Name: "environment", Type: inspect.ArgString}, {Name: "service", Type: inspect.ArgString, Default: ""}}}})
	if err != nil {
		b.Fatal(err)
	}
	plain := tool(name)
	withArgs := tool(name)
	withArgs.Args = map[string]any{"environment": "staging", "service": "web-frontend"}
	variants := []struct {
		name, model, cond string
		perm              core.Permission
	}{
		{"no-args", "abac", "true", plain},
		{"args", "abac_args", "r.args.environment == 'staging'", withArgs},
	}
	for _, cached := range []bool{false, true} {
		for _, v := range variants {
			cache := -1
			if cached {
				cache = 0
			}
			a, err := New(Config{Model: mustModel(b, v.model), Source: StringSource(benchABACPolicy(n, name, v.cond)), Args: decls, CacheSize: cache})
			if err != nil {
				b.Fatal(err)
			}
			if d, err := a.Authorize(ctx, p, v.perm); err != nil || !d.Allow {
				b.Fatalf("setup %s: %+v %v", v.name, d, err)
			}
			b.Run(fmt.Sprintf("rules=%d/cached=%v/variant=%s", n, cached, v.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if d, err := a.Authorize(ctx, p, v.perm); err != nil || !d.Allow {
						b.Fatal(d, err)
					}
				}
			})
		}
	}
}

// BenchmarkResourceTemplateDecision compares, at 5,000 resource rules in
// the same run, a decision on a URI-template variable (abac_args,
// r.args.year >= 2020, the variable as the Guard extracts it) with the same
// decision without variables (abac, condition "true"), uncached.
func BenchmarkResourceTemplateDecision(b *testing.B) {
	ctx := context.Background()
	p := benchPrincipal()
	const n = 5000
	groups := max(n/10, 20)
	name := fmt.Sprintf("t%d", 8+groups*((n-1-8)/groups))
	decls, err := inspect.NewArgDecls(nil, inspect.ResourceArgs{Template: "docs://{tool}/{year}", Args: []inspect.ArgSpec{{Name: "year", Type: inspect.ArgNumber}}})
	if err != nil {
		b.Fatal(err)
	}
	uri := "docs://" + name + "/2024"
	vals, ok, err := decls.MatchResource(uri)
	if !ok || err != nil {
		b.Fatal(ok, err)
	}
	plain := core.Permission{Kind: core.ObjectResource, Name: uri, Action: core.ActionRead, Method: "resources/read"}
	withArgs := plain
	withArgs.Args = vals
	policy := func(cond string) string {
		// The tool rules of benchABACPolicy, as resources docs://tN/*.
		text := benchABACPolicy(n, name, cond)
		text = strings.ReplaceAll(text, ", tool:t", ", resource:docs://t")
		return strings.ReplaceAll(text, ", call, ", "/*, read, ")
	}
	for _, v := range []struct {
		name, model, cond string
		perm              core.Permission
	}{
		{"no-vars", "abac", "true", plain},
		{"vars", "abac_args", "r.args.year >= 2020", withArgs},
	} {
		a, err := New(Config{Model: mustModel(b, v.model), Source: StringSource(policy(v.cond)), Args: decls, CacheSize: -1})
		if err != nil {
			b.Fatal(err)
		}
		if d, err := a.Authorize(ctx, p, v.perm); err != nil || !d.Allow {
			b.Fatalf("setup %s: %+v %v", v.name, d, err)
		}
		b.Run(fmt.Sprintf("rules=%d/variant=%s", n, v.name), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if d, err := a.Authorize(ctx, p, v.perm); err != nil || !d.Allow {
					b.Fatal(d, err)
				}
			}
		})
	}
}
