package casbinauthz

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkGlobSuffixless: 5,000 rules for one group the caller has, whose
// patterns have the literal prefix "tool:" and no literal suffix, so they
// all share one bucket of the glob index: "tool:*x<i>*" (a word anywhere)
// and "tool:[a-z]x<i>*" (a class, then the word). Uncached decisions.
func BenchmarkGlobSuffixless(b *testing.B) {
	for _, shape := range []string{"tool:*x%d*", "tool:[a-z]x%d*"} {
		b.Run("shape="+strings.ReplaceAll(shape, "%d", "N"), func(b *testing.B) {
			ctx := context.Background()
			var pol strings.Builder
			for i := range 5000 {
				fmt.Fprintf(&pol, "p, group:g8, \"%s\", call, allow\n", fmt.Sprintf(shape, i))
			}
			a, err := New(Config{Model: mustModel(b, "rbac"), Source: StringSource(pol.String()), CacheSize: -1, MatchCacheBytes: -1})
			if err != nil {
				b.Fatal(err)
			}
			p, target := benchPrincipal(), tool("ax4999_deploy")
			if d, err := a.Authorize(ctx, p, target); err != nil || !d.Allow {
				b.Fatalf("setup: %+v %v", d, err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if d, err := a.Authorize(ctx, p, target); err != nil || !d.Allow {
					b.Fatal(d, err)
				}
			}
		})
	}
}
