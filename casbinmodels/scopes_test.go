package casbinmodels_test

import (
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
)

func withScopes(p *core.Principal, s ...string) *core.Principal { p.Scopes = s; return p }

func TestScopes(t *testing.T) {
	t.Parallel()
	run(t, "scopes", true, []tc{
		{name: "echo no scope needed", p: user("bob"), perm: tool("echo"), allow: false, scopes: []string{"mcp:tools"}},
		{name: "echo with scope", p: withScopes(user("bob"), "mcp:tools"), perm: tool("echo"), allow: true},
		{name: "deploy step-up complete set", p: withScopes(user("a", "engineering"), "mcp:tools"), perm: tool("deploy"), allow: false, scopes: []string{"mcp:deploy", "mcp:tools"}},
		{name: "deploy with all", p: withScopes(user("a", "engineering"), "mcp:tools", "mcp:deploy"), perm: tool("deploy"), allow: true},
		{name: "deploy no scopes", p: user("a", "engineering"), perm: tool("deploy"), allow: false, scopes: []string{"mcp:deploy", "mcp:tools"}},
		{name: "write_ glob", p: withScopes(user("a", "engineering"), "mcp:tools"), perm: tool("write_x"), allow: false, scopes: []string{"mcp:tools", "mcp:write"}},
		{name: "policy deny leaks no scopes", p: user("bob", "marketing"), perm: tool("deploy"), allow: false},
		{name: "policy deny even with scopes", p: withScopes(user("bob", "marketing"), "mcp:tools", "mcp:deploy"), perm: tool("deploy"), allow: false},
		{name: "scope is not a role grant", p: withScopes(user("bob"), "mcp:deploy", "mcp:tools"), perm: tool("deploy"), allow: false},
		{name: "docs deep", p: withScopes(user("a", "engineering"), "mcp:docs"), perm: res("docs://a/b"), allow: true},
		{name: "docs missing scope", p: user("a", "engineering"), perm: res("docs://a/b"), allow: false, scopes: []string{"mcp:docs"}},
		{name: "connect needs nothing", p: user("x"), perm: core.Permission{Kind: core.ObjectServer, Action: core.ActionConnect}, allow: true},
	})
}

func TestQuickstart(t *testing.T) {
	t.Parallel()
	alice, bob, carol := user("alice", "engineering"), user("bob", "marketing"), user("carol", "hr", "admins")
	aliceDeploy := withScopes(user("alice", "engineering"), "mcp:deploy")
	run(t, "quickstart", true, []tc{
		{name: "alice echo", p: alice, perm: tool("echo"), allow: true},
		{name: "bob echo", p: bob, perm: tool("echo"), allow: true},
		{name: "alice tickets", p: alice, perm: tool("list_tickets"), allow: true},
		{name: "bob tickets", p: bob, perm: tool("list_tickets"), allow: true},
		{name: "carol tickets", p: carol, perm: tool("list_tickets"), allow: false},
		{name: "alice deploy step-up", p: alice, perm: tool("deploy"), allow: false, scopes: []string{"mcp:deploy"}},
		{name: "alice deploy with scope", p: aliceDeploy, perm: tool("deploy"), allow: true},
		{name: "bob deploy pure deny", p: bob, perm: tool("deploy"), allow: false},
		{name: "carol delete_repo", p: carol, perm: tool("delete_repo"), allow: true},
		{name: "alice delete_repo", p: alice, perm: tool("delete_repo"), allow: false},
		{name: "handbook", p: bob, perm: res("docs://handbook"), allow: true},
		{name: "payroll carol", p: carol, perm: res("docs://payroll"), allow: true},
		{name: "payroll alice", p: alice, perm: res("docs://payroll"), allow: false},
		{name: "summarize", p: bob, perm: prompt("summarize"), allow: true},
		{name: "incident_review alice", p: alice, perm: prompt("incident_review"), allow: true},
		{name: "incident_review bob", p: bob, perm: prompt("incident_review"), allow: false},
		{name: "ci-bot echo", p: client("ci-bot"), perm: tool("echo"), allow: true},
		{name: "ci-bot deploy step-up", p: client("ci-bot"), perm: tool("deploy"), allow: false, scopes: []string{"mcp:deploy"}},
		{name: "ci-bot deploy", p: client("ci-bot", "mcp:deploy"), perm: tool("deploy"), allow: true},
		{name: "ci-bot tickets", p: client("ci-bot"), perm: tool("list_tickets"), allow: false},
		{name: "user ci-bot deploy", p: withScopes(user("ci-bot"), "mcp:deploy"), perm: tool("deploy"), allow: false},
		{name: "list tools", p: bob, perm: core.Permission{Kind: core.ObjectServer, Action: core.ActionList}, allow: true},
	})
}
