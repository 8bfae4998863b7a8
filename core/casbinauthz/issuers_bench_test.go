package casbinauthz

import (
	"context"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
)

// BenchmarkIssuerNamespacing measures the cost of Config.Issuers against
// the same policy without namespacing, cached and uncached, in one run.
func BenchmarkIssuerNamespacing(b *testing.B) {
	plainPol := "p, group:eng, tool:deploy, call, allow\np, *, tool:echo, call, allow\n"
	nsPol := "p, x/acme/group:eng, tool:deploy, call, allow\np, *, tool:echo, call, allow\n"
	for _, c := range []struct {
		name    string
		pol     string
		issuers []Issuer
	}{{"plain", plainPol, nil}, {"namespaced", nsPol, isolationIssuers}} {
		for _, cache := range []int{0, -1} {
			name := c.name + "/cached"
			if cache < 0 {
				name = c.name + "/uncached"
			}
			b.Run(name, func(b *testing.B) {
				a, err := New(Config{Model: mustModel(b, "rbac"), Source: StringSource(c.pol), Issuers: c.issuers, CacheSize: cache})
				if err != nil {
					b.Fatal(err)
				}
				p := &core.Principal{Kind: core.PrincipalUser, Issuer: issX, Subject: "u", Tenant: "acme", Groups: []string{"eng"}}
				perm := tool("deploy")
				b.ReportAllocs()
				for b.Loop() {
					d, err := a.Authorize(context.Background(), p, perm)
					if err != nil || !d.Allow {
						b.Fatal(d, err)
					}
				}
			})
		}
	}
}
