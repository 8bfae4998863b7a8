package casbinauthz

import (
	"context"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/inspect"
)

// The decision-cache key holds only declared argument values, and argument
// values over maxArgKeyBytes are not cached at all.
func TestArgsCacheKey(t *testing.T) {
	decls, err := inspect.NewArgDecls([]inspect.ToolArgs{{Tool: "deploy", Args: []inspect.ArgSpec{
		{Name: "environment", Type: inspect.ArgString, MaxBytes: 4096}}}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(Config{Model: mustModel(t, "abac_args"), Args: decls,
		Source: StringSource("p, *, tool:deploy, call, r.args.environment != 'production', allow\n")})
	if err != nil {
		t.Fatal(err)
	}
	p := &core.Principal{Kind: core.PrincipalUser, Issuer: "https://issuer.example.com", Subject: "alice"}
	perm := tool("deploy")
	ctx := context.Background()
	for _, env := range []string{"staging", "production", "staging"} {
		perm.Args = map[string]any{"environment": env}
		if d, err := a.Authorize(ctx, p, perm); err != nil || d.Allow != (env == "staging") {
			t.Fatalf("%s: %+v %v", env, d, err)
		}
	}
	if n := a.cur.Load().cache.len(); n != 2 {
		t.Fatalf("cache holds %d decisions, want 2 (one per argument value)", n)
	}
	perm.Args = map[string]any{"environment": strings.Repeat("s", 2000)}
	for range 2 {
		if d, err := a.Authorize(ctx, p, perm); err != nil || !d.Allow {
			t.Fatalf("%+v %v", d, err)
		}
	}
	if n := a.cur.Load().cache.len(); n != 2 {
		t.Fatalf("oversized argument values were cached (%d entries)", n)
	}
}
