package casbinmodels_test

import (
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
)

func TestRBACRoles(t *testing.T) {
	t.Parallel()
	eng := user("dave", "engineering")
	run(t, "rbac_roles", true, []tc{
		{name: "everyone connects", p: user("x"), perm: core.Permission{Kind: core.ObjectServer, Action: core.ActionConnect}, allow: true},
		{name: "no role, no tool", p: user("x"), perm: tool("read_x")},
		{name: "alice is admin via g", p: user("alice"), perm: tool("delete_all"), allow: true},
		{name: "group inherits deployer", p: eng, perm: tool("deploy"), allow: true},
		{name: "deployer inherits reader", p: eng, perm: tool("read_logs"), allow: true},
		{name: "deployer is not admin", p: eng, perm: tool("delete_all")},
		{name: "IdP role used directly", p: with(user("erin"), func(p *core.Principal) { p.Roles = []string{"reader"} }), perm: res("docs://a/b"), allow: true},
		{name: "contractor deny wins over deployer", p: user("vic", "engineering", "vendors"), perm: tool("deploy")},
		{name: "machine client role", p: client("ci-bot"), perm: tool("deploy"), allow: true},
	})
}

func TestTenantRBACRoles(t *testing.T) {
	t.Parallel()
	in := func(p *core.Principal, tenant string) *core.Principal { p.Tenant = tenant; return p }
	run(t, "tenant_rbac_roles", true, []tc{
		{name: "alice admin in a", p: in(user("alice"), "tenant-a"), perm: tool("anything"), allow: true},
		{name: "alice not admin in b", p: in(user("alice"), "tenant-b"), perm: tool("anything")},
		{name: "admin inherits support in a", p: in(user("alice"), "tenant-a"), perm: tool("ticket_close"), allow: true},
		{name: "bob support in b", p: in(user("bob"), "tenant-b"), perm: tool("ticket_read"), allow: true},
		{name: "bob support in b is not support in a", p: in(user("bob"), "tenant-a"), perm: tool("ticket_read")},
		{name: "bob cannot close in b", p: in(user("bob"), "tenant-b"), perm: tool("ticket_close")},
	})
}
