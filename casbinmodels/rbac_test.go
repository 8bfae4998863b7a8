package casbinmodels_test

import (
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
)

func TestRBAC(t *testing.T) {
	t.Parallel()
	eng := user("alice", "engineering")
	run(t, "rbac", true, []tc{
		{name: "echo everyone", p: user("bob"), perm: tool("echo"), allow: true},
		{name: "echo client", p: client("bot"), perm: tool("echo"), allow: true},
		{name: "glob read_x", p: eng, perm: tool("read_x"), allow: true},
		{name: "glob read_ itself", p: eng, perm: tool("read_"), allow: true},
		{name: "glob not read", p: eng, perm: tool("read"), allow: false},
		{name: "literal a", p: eng, perm: tool("a"), allow: true},
		{name: "literal a not ab", p: eng, perm: tool("ab"), allow: false},
		{name: "literal a not A", p: eng, perm: tool("A"), allow: false},
		{name: "other group", p: user("bob", "marketing"), perm: tool("read_x"), allow: false},
		{name: "user subject is not a group", p: user("engineering"), perm: tool("read_x"), allow: false},
		{name: "deny overrides allow", p: user("c", "engineering", "contractors"), perm: tool("deploy"), allow: false},
		{name: "deny overrides role allow", p: with(user("d", "contractors"), func(p *core.Principal) { p.Roles = []string{"sre"} }), perm: tool("deploy"), allow: false},
		{name: "role sre any tool", p: with(user("d"), func(p *core.Principal) { p.Roles = []string{"sre"} }), perm: tool("restart"), allow: true},
		{name: "role is not a group", p: user("d", "sre"), perm: tool("restart"), allow: false},
		{name: "admins all actions", p: user("e", "admins"), perm: core.Permission{Kind: core.ObjectTool, Name: "x", Action: core.ActionComplete}, allow: true},
		{name: "intern denied delete", p: with(user("f", "admins"), func(p *core.Principal) { p.Roles = []string{"intern"} }), perm: tool("delete_repo"), allow: false},
		{name: "resource one segment", p: eng, perm: res("docs://eng/design"), allow: true},
		{name: "resource star stops at slash", p: eng, perm: res("docs://eng/a/b"), allow: false},
		{name: "resource double star", p: eng, perm: res("file:///repo/a/b/c.go"), allow: true},
		{name: "resource wrong action", p: eng, perm: core.Permission{Kind: core.ObjectResource, Name: "docs://eng/design", Action: core.ActionSubscribe}, allow: false},
		{name: "prompt", p: eng, perm: prompt("incident_review"), allow: true},
		{name: "prompt other group", p: user("bob", "marketing"), perm: prompt("incident_review"), allow: false},
		{name: "server connect", p: user("x"), perm: core.Permission{Kind: core.ObjectServer, Action: core.ActionConnect}, allow: true},
		{name: "server list", p: user("x"), perm: core.Permission{Kind: core.ObjectServer, Action: core.ActionList}, allow: true},
		{name: "tool with kind prefix confusion", p: eng, perm: prompt("read_x"), allow: false},
		{name: "P01 empty role", p: with(user("g"), func(p *core.Principal) { p.Roles = []string{""} }), perm: tool("restart"), allow: false},
		{name: "P01 no claims", p: &core.Principal{Kind: core.PrincipalUser}, perm: tool("read_x"), allow: false},
		{name: "P01 unknown action", p: eng, perm: core.Permission{Kind: core.ObjectTool, Name: "read_x", Action: "execute"}, allow: false},
		{name: "P01 unknown kind", p: user("e", "admins"), perm: core.Permission{Kind: "widget", Name: "x", Action: core.ActionCall}, allow: false},
		{name: "P01 unknown principal kind", p: &core.Principal{Kind: "robot", Subject: "alice", Groups: []string{"admins"}}, perm: tool("echo"), allow: false},
		{name: "P04 injection in group", p: user("h", "x, tool:*, call, allow", "engineering\np, *, tool:*, *, allow", `"admins"`), perm: tool("deploy"), allow: false},
		{name: "P04 injection in sub", p: user(`alice", "group:admins`), perm: tool("deploy"), allow: false},
	})
}

func TestMachine(t *testing.T) {
	t.Parallel()
	run(t, "machine", true, []tc{
		{name: "client echo", p: client("any"), perm: tool("echo"), allow: true},
		{name: "user echo", p: user("u"), perm: tool("echo"), allow: true},
		{name: "ci-bot deploy", p: client("ci-bot"), perm: tool("deploy"), allow: true},
		{name: "user named ci-bot cannot deploy", p: user("ci-bot"), perm: tool("deploy"), allow: false},
		{name: "user with client_id ci-bot cannot deploy", p: with(user("u"), func(p *core.Principal) { p.ClientID = "ci-bot" }), perm: tool("deploy"), allow: false},
		{name: "client in engineering group cannot deploy", p: with(client("other"), func(p *core.Principal) { p.Groups = []string{"engineering"} }), perm: tool("deploy"), allow: false},
		{name: "user engineering deploy", p: user("u", "engineering"), perm: tool("deploy"), allow: true},
		{name: "client scope metrics", p: client("m", "metrics:read"), perm: tool("metrics_cpu"), allow: true},
		{name: "client without scope", p: client("m"), perm: tool("metrics_cpu"), allow: false},
		{name: "admin user delete", p: with(user("u"), func(p *core.Principal) { p.Roles = []string{"admin"} }), perm: tool("delete_x"), allow: true},
		{name: "admin client delete denied", p: with(client("c"), func(p *core.Principal) { p.Roles = []string{"admin"} }), perm: tool("delete_x"), allow: false},
		{name: "empty client id", p: client(""), perm: tool("deploy"), allow: false},
	})
}
