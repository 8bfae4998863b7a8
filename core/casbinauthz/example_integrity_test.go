package casbinauthz_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
)

// A sealed policy is loaded only when it is exactly what was sealed.
func ExampleSealTrailer() {
	dir, _ := os.MkdirTemp("", "policy")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "policy.csv")
	sealed := casbinauthz.SealTrailer([]byte("p, *, tool:echo, call, allow\np, *, tool:rm, call, deny\n"))
	_ = os.WriteFile(path, sealed, 0o600)

	model, _ := casbinmodels.Model("rbac")
	src := casbinauthz.FileSource{Paths: []string{path}, RequireSeal: true}
	_, err := casbinauthz.New(casbinauthz.Config{Model: model, Source: src})
	fmt.Println("sealed:", err)

	_ = os.WriteFile(path, sealed[:40], 0o600) // half-written
	_, err = casbinauthz.New(casbinauthz.Config{Model: model, Source: src})
	fmt.Println("half-written refused:", errors.Is(err, casbinauthz.ErrSeal))
	// Output:
	// sealed: <nil>
	// half-written refused: true
}

// With several issuers, subjects and domains carry the issuer's alias, and
// a tenant claim counts only from an issuer that asserts tenants.
func ExampleConfig_issuers() {
	model, _ := casbinmodels.Model("tenant_rbac")
	policy := `p, corp/group:eng, corp, tool:deploy, call, allow
p, partner/acme/group:eng, partner/acme, tool:deploy, call, allow
`
	a, err := casbinauthz.New(casbinauthz.Config{
		Model: model, Source: casbinauthz.StringSource(policy),
		Issuers: []casbinauthz.Issuer{
			{Issuer: "https://corp.example.com", Alias: "corp"},
			{Issuer: "https://partner.example.com", Alias: "partner", AssertsTenant: true},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	deploy := core.Permission{Kind: core.ObjectTool, Name: "deploy", Action: core.ActionCall, Method: "tools/call"}
	for _, p := range []*core.Principal{
		{Kind: core.PrincipalUser, Issuer: "https://corp.example.com", Subject: "a", Groups: []string{"eng"}},
		{Kind: core.PrincipalUser, Issuer: "https://partner.example.com", Subject: "b", Tenant: "acme", Groups: []string{"eng"}},
		{Kind: core.PrincipalUser, Issuer: "https://partner.example.com", Subject: "c", Tenant: "corp", Groups: []string{"eng"}},
		{Kind: core.PrincipalUser, Issuer: "https://corp.example.com", Subject: "d", Tenant: "acme", Groups: []string{"eng"}},
	} {
		d, _ := a.Authorize(context.Background(), p, deploy)
		fmt.Printf("%s tenant=%q: %t\n", p.Issuer, p.Tenant, d.Allow)
	}
	// Output:
	// https://corp.example.com tenant="": true
	// https://partner.example.com tenant="acme": true
	// https://partner.example.com tenant="corp": false
	// https://corp.example.com tenant="acme": true
}
