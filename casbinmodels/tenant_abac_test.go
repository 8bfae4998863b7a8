package casbinmodels_test

import (
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
)

func tenantUser(tenant string, groups ...string) *core.Principal {
	p := user("u", groups...)
	p.Tenant = tenant
	return p
}

func TestTenantRBAC(t *testing.T) {
	t.Parallel()
	issAdmin := with(user("root"), func(p *core.Principal) { p.Roles = []string{"admin"} })
	run(t, "tenant_rbac", true, []tc{
		{name: "tenant-a deploy", p: tenantUser("tenant-a", "engineering"), perm: tool("deploy"), allow: true},
		{name: "tenant-b cannot deploy", p: tenantUser("tenant-b", "engineering"), perm: tool("deploy"), allow: false},
		{name: "tenant-b read", p: tenantUser("tenant-b", "engineering"), perm: tool("read_x"), allow: true},
		{name: "tenant-a cannot read_", p: tenantUser("tenant-a", "engineering"), perm: tool("read_x"), allow: false},
		{name: "no tenant uses issuer", p: issAdmin, perm: tool("anything"), allow: true},
		{name: "admin in tenant-a is not issuer admin", p: with(tenantUser("tenant-a"), func(p *core.Principal) { p.Roles = []string{"admin"} }), perm: tool("anything"), allow: false},
		{name: "contractor denied in tenant-a", p: tenantUser("tenant-a", "engineering", "contractors"), perm: tool("deploy"), allow: false},
		{name: "echo any tenant", p: tenantUser("zzz"), perm: tool("echo"), allow: true},
		{name: "tenant named like issuer", p: tenantUser("https://issuer.example.com", "x"), perm: tool("deploy"), allow: false},
	})
}

func attrs(p *core.Principal, kv ...any) *core.Principal {
	p.Attributes = map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		p.Attributes[kv[i].(string)] = kv[i+1]
	}
	return p
}

func TestABAC(t *testing.T) {
	t.Parallel()
	run(t, "abac", false, []tc{
		{name: "echo", p: user("u"), perm: tool("echo"), allow: true},
		{name: "finance payroll", p: attrs(user("u"), "department", "finance"), perm: tool("payroll_run"), allow: true},
		{name: "hr payroll", p: attrs(user("u"), "department", "hr"), perm: tool("payroll_run"), allow: false},
		{name: "no department", p: user("u"), perm: tool("payroll_run"), allow: false},
		{name: "admin delete with mfa", p: attrs(user("u", "admins"), "amr", []string{"pwd", "mfa"}), perm: tool("delete_repo"), allow: true},
		{name: "admin delete without mfa", p: attrs(user("u", "admins"), "amr", []string{"pwd"}), perm: tool("delete_repo"), allow: false},
		{name: "admin delete no amr", p: user("u", "admins"), perm: tool("delete_repo"), allow: false},
		{name: "mfa but not admin", p: attrs(user("u"), "amr", []any{"mfa"}), perm: tool("delete_repo"), allow: false},
		{name: "deploy high acr", p: attrs(user("u", "engineering"), "acr", "urn:example:acr:high"), perm: tool("deploy"), allow: true},
		{name: "deploy low acr", p: attrs(user("u", "engineering"), "acr", "urn:example:acr:low"), perm: tool("deploy"), allow: false},
		{name: "P04 quote in acr", p: attrs(user("u", "engineering"), "acr", "x' || true || '"), perm: tool("deploy"), allow: false},
		{name: "P04 department injection", p: attrs(user("u"), "department", "hr' || r.attrs.department != 'x"), perm: tool("payroll_run"), allow: false},
	})
}
