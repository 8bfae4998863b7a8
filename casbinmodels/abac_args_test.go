package casbinmodels_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
	"github.com/mcpauthz/mcpauthz/core/inspect"
)

// sampleArgDecls are the declarations the abac_args sample policy expects.
func sampleArgDecls(t testing.TB) *inspect.ArgDecls {
	t.Helper()
	d, err := inspect.NewArgDecls([]inspect.ToolArgs{
		{Tool: "deploy", Args: []inspect.ArgSpec{
			{Name: "environment", Type: inspect.ArgString, MaxBytes: 32},
			{Name: "service", Type: inspect.ArgString, Default: ""},
		}},
		{Tool: "git_*", Args: []inspect.ArgSpec{{Name: "repo", Type: inspect.ArgString}}},
		{Tool: "tickets_*", Args: []inspect.ArgSpec{
			{Name: "queue", Type: inspect.ArgString},
			{Name: "labels", Type: inspect.ArgStringList, Default: []string{}},
		}},
	}, inspect.ResourceArgs{Template: "docs://payroll/{year}", Args: []inspect.ArgSpec{{Name: "year", Type: inspect.ArgNumber}}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func argsAuthorizer(t testing.TB, cacheSize int) *casbinauthz.Authorizer {
	t.Helper()
	m, _ := casbinmodels.Model("abac_args")
	p, _ := casbinmodels.SamplePolicy("abac_args")
	a, err := casbinauthz.New(casbinauthz.Config{Model: m, Source: casbinauthz.StringSource(p), Args: sampleArgDecls(t), CacheSize: cacheSize})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func call(name string, kv ...any) core.Permission {
	perm := tool(name)
	perm.Args = map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		perm.Args[kv[i].(string)] = kv[i+1]
	}
	return perm
}

func TestABACArgs(t *testing.T) {
	t.Parallel()
	alice := user("alice", "engineering")
	carol := user("carol", "admins")
	carolProd := with(user("carol", "admins"), func(p *core.Principal) { p.Scopes = []string{"mcp:deploy:prod"} })
	ci := client("ci-bot")
	bot := client("support-bot")
	cases := []tc{
		{"alice staging", alice, call("deploy", "environment", "staging", "service", "api"), true, nil},
		{"alice production", alice, call("deploy", "environment", "production", "service", "api"), false, nil},
		{"alice case games", alice, call("deploy", "environment", "Staging", "service", "api"), false, nil},
		{"carol production without scope", carol, call("deploy", "environment", "production", "service", "api"), false, []string{"mcp:deploy:prod"}},
		{"carol production with scope", carolProd, call("deploy", "environment", "production", "service", "api"), true, nil},
		{"carol staging", carol, call("deploy", "environment", "staging", "service", "api"), true, nil},
		{"ci web", ci, call("deploy", "environment", "staging", "service", "web-frontend"), true, nil},
		{"ci api", ci, call("deploy", "environment", "staging", "service", "api"), false, nil},
		{"ci web prod needs scope", ci, call("deploy", "environment", "production", "service", "web-x"), false, []string{"mcp:deploy:prod"}},
		{"git acme", alice, call("git_clone", "repo", "acme/web"), true, nil},
		{"git other org", alice, call("git_clone", "repo", "evil/web"), false, nil},
		{"git regex anchors", alice, call("git_clone", "repo", "acme/web\nx"), false, nil},
		{"git push infra denied", alice, call("git_push", "repo", "acme/infra-core"), false, nil},
		{"git push web needs scope", alice, call("git_push", "repo", "acme/web"), false, []string{"mcp:git:write"}},
		{"git push web", with(user("alice", "engineering"), func(p *core.Principal) { p.Scopes = []string{"mcp:git:write"} }), call("git_push", "repo", "acme/web"), true, nil},
		{"bot own queue", bot, call("tickets_read", "queue", "support", "labels", []string{"billing"}), true, nil},
		{"bot other queue", bot, call("tickets_read", "queue", "finance", "labels", []string{}), false, nil},
		{"bot security label", bot, call("tickets_read", "queue", "support", "labels", []string{"x", "security"}), false, nil},
	}
	for _, cacheSize := range []int{-1, 100} {
		a := argsAuthorizer(t, cacheSize)
		for round := 0; round < 2; round++ { // the second round is served by the cache
			for _, c := range cases {
				d, err := a.Authorize(context.Background(), c.p, c.perm)
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				if d.Allow != c.allow || !slices.Equal(d.RequiredScopes, c.scopes) {
					t.Errorf("cache %d %s: allow=%v scopes=%v (%s), want %v %v", cacheSize, c.name, d.Allow, d.RequiredScopes, d.Reason, c.allow, c.scopes)
				}
			}
		}
	}
}

// A deny rule reading an argument the request lacks never allows by
// omission: evaluation fails and the Authorizer denies with an error.
func TestABACArgsMissingInDenyRule(t *testing.T) {
	t.Parallel()
	a := argsAuthorizer(t, 100)
	d, err := a.Authorize(context.Background(), user("alice", "engineering"), call("git_push"))
	if err == nil || d.Allow || !errors.Is(err, core.ErrUnavailable) {
		t.Fatalf("decision %+v err %v, want an error and no allow", d, err)
	}
}

func TestABACArgsUndeclaredRefused(t *testing.T) {
	t.Parallel()
	m, _ := casbinmodels.Model("abac_args")
	for name, pol := range map[string]string{
		"undeclared in p": "p, *, tool:deploy, call, r.args.enviroment == 'staging', allow\n",
		"undeclared in p3": "p, *, tool:deploy, call, true, allow\n" +
			"p3, s, tool:deploy, call, r.args.region == 'eu'\n",
		"p3 reads attrs": "p, *, tool:deploy, call, true, allow\n" +
			"p3, s, tool:deploy, call, r.attrs.department == 'x'\n",
	} {
		_, err := casbinauthz.New(casbinauthz.Config{Model: m, Source: casbinauthz.StringSource(pol), Args: sampleArgDecls(t)})
		if !errors.Is(err, casbinauthz.ErrPolicy) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	abac, _ := casbinmodels.Model("abac")
	_, err := casbinauthz.New(casbinauthz.Config{Model: abac, Source: casbinauthz.StringSource("p, *, tool:deploy, call, r.args.environment == 'x', allow\n"), Args: sampleArgDecls(t)})
	if !errors.Is(err, casbinauthz.ErrPolicy) {
		t.Errorf("model without args token: err = %v", err)
	}
}
