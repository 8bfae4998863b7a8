package mapper

import (
	"context"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
)

// BenchmarkMapClaims compares the presets with core.DefaultMapper (the
// baseline) on the same realistic user token.
func BenchmarkMapClaims(b *testing.B) {
	const tid = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	c := mustClaims(b, `{"iss":"https://login.microsoftonline.com/`+tid+`/v2.0","aud":"api://mcp","azp":"6e74172b",
		"oid":"690222be-ff1a-4d56-abd1-7e4f7d38e474","sub":"HKZpfaHyWadeOouYlitjrI","tid":"`+tid+`",
		"scp":"mcp.tools mcp.read","roles":["Reader","Writer"],"groups":["a1","b2","c3","d4"],"preferred_username":"abe@x.com",
		"client_id":"6e74172b","exp":1767229200}`)
	c.Scopes = []string{"mcp.tools", "mcp.read"}
	std, _ := Standard(Config{})
	entra, _ := Entra(EntraConfig{AllowedTenants: []string{tid}})
	for _, bc := range []struct {
		name string
		m    core.ClaimMapper
	}{{"default", core.DefaultMapper()}, {"standard", std}, {"entra", entra}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.m.MapClaims(ctx, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
