package casbinauthz

import (
	"context"
	"errors"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/inspect"
)

// A tool whose allow rule reads r.args is listed to the callers the rule
// names; the listing answer never grants a call, deny rules without an
// argument condition still hide, and tools without declarations keep the
// strict (hidden on error) answer.
func TestListingArgumentConditionedTools(t *testing.T) {
	decls, err := inspect.NewArgDecls([]inspect.ToolArgs{
		{Tool: "deploy", Args: []inspect.ArgSpec{{Name: "environment", Type: inspect.ArgString}}},
		{Tool: "git_*", Args: []inspect.ArgSpec{{Name: "repo", Type: inspect.ArgString}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	policy := `p, group:eng, tool:deploy, call, r.args.environment == 'staging', allow
p, group:eng, tool:deploy, call, r.args.environment == 'production', deny
p, group:ops, tool:deploy, call, true, allow
p, user:mallory, tool:deploy, call, true, deny
p, group:eng, tool:git_push, call, "keyMatch(r.args.repo, 'acme/*')", allow
p, group:eng, tool:undeclared, call, r.args.environment == 'staging', allow
p2, mcp:deploy, tool:deploy, call
`
	a, err := New(Config{Model: mustModel(t, "abac_args"), Args: decls, Source: StringSource(policy)})
	if err != nil {
		t.Fatal(err)
	}
	user := func(sub string, groups []string, scopes ...string) *core.Principal {
		return &core.Principal{Kind: core.PrincipalUser, Issuer: "https://issuer.example.com", Subject: sub, Groups: groups, Scopes: scopes}
	}
	eng := user("alice", []string{"eng"}, "mcp:deploy")
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		p       *core.Principal
		tool    string
		visible bool
		errs    bool
	}{
		{"conditional allow lists", eng, "deploy", true, false},
		{"conditional allow without the p2 scope: visible for step-up", user("alice", []string{"eng"}), "deploy", true, false},
		{"unconditional allow", user("olga", []string{"ops"}), "deploy", true, false},
		{"no rule names the caller", user("bob", []string{"marketing"}), "deploy", false, false},
		{"unconditional deny hides", user("mallory", []string{"eng"}), "deploy", false, false},
		{"glob tool declaration", eng, "git_push", true, false},
		{"tool without declarations: strict, hidden on error", eng, "undeclared", false, true},
	} {
		perm := tool(c.tool)
		perm.Listing = true
		d, err := a.Authorize(ctx, c.p, perm)
		if c.errs {
			if err == nil || !errors.Is(err, core.ErrUnavailable) || d.Allow {
				t.Errorf("%s: %+v %v, want an evaluation error", c.name, d, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := d.Allow || len(d.RequiredScopes) > 0; got != c.visible {
			t.Errorf("%s: visible %v, want %v (%+v)", c.name, got, c.visible, d)
		}
		// Twice: the second answer comes from the cache.
		if d2, err := a.Authorize(ctx, c.p, perm); err != nil || d2.Allow != d.Allow {
			t.Errorf("%s: cached %+v %v", c.name, d2, err)
		}
	}

	// Listing is not granting: the same question without Listing, and a
	// call with the denied argument, are decided by the real policy, also
	// after the listing answer was cached.
	perm := tool("deploy")
	if d, err := a.Authorize(ctx, eng, perm); err == nil || d.Allow {
		t.Errorf("deploy without arguments and without Listing: %+v %v, want an evaluation error", d, err)
	}
	perm.Args = map[string]any{"environment": "production"}
	if d, err := a.Authorize(ctx, eng, perm); err != nil || d.Allow {
		t.Errorf("deploy production: %+v %v, want deny", d, err)
	}
	perm.Args = map[string]any{}
	perm.Listing = false
	if d, err := a.Authorize(ctx, eng, perm); err == nil || d.Allow {
		t.Errorf("deploy with an empty argument map: %+v %v, want an evaluation error", d, err)
	}
	perm.Args = map[string]any{"environment": "staging"}
	if d, err := a.Authorize(ctx, eng, perm); err != nil || !d.Allow {
		t.Errorf("deploy staging: %+v %v, want allow", d, err)
	}
}

// A model whose matcher reads r.args itself is not relaxed: the listing
// answer stays the strict one.
func TestListingNotRelaxedWhenMatcherReadsArgs(t *testing.T) {
	decls, err := inspect.NewArgDecls([]inspect.ToolArgs{{Tool: "deploy", Args: []inspect.ArgSpec{{Name: "environment", Type: inspect.ArgString}}}})
	if err != nil {
		t.Fatal(err)
	}
	model := `[request_definition]
r = sub, obj, act, args
[policy_definition]
p = sub, obj, act, env, eft
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = p.sub in r.sub && globMatch(r.obj, p.obj) && p.act == r.act && r.args.environment == p.env
`
	a, err := New(Config{Model: model, Args: decls, Source: StringSource("p, group:eng, tool:deploy, call, staging, allow\n")})
	if err != nil {
		t.Fatal(err)
	}
	if a.cur.Load().listing != nil {
		t.Fatal("a matcher reading r.args was relaxed")
	}
	perm := tool("deploy")
	perm.Listing = true
	p := &core.Principal{Kind: core.PrincipalUser, Issuer: "https://issuer.example.com", Subject: "alice", Groups: []string{"eng"}}
	if d, err := a.Authorize(context.Background(), p, perm); err == nil && d.Allow {
		t.Errorf("listing under a matcher reading r.args: %+v, want hidden", d)
	}
}
