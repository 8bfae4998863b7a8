package introspect

import (
	"context"
	"strconv"
	"testing"
)

// BenchmarkVerify compares a cache hit with an uncached introspection over
// an in-memory transport (the baseline; a real network round trip costs
// far more).
func BenchmarkVerify(b *testing.B) {
	as := newFakeAS()
	as.set("tok", answer{body: activeBody})
	for _, bc := range []struct {
		name string
		ttl  int
	}{{"uncached", -1}, {"cached", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := baseConfig("https://as.example.com/introspect", newClock())
			cfg.HTTPClient = inMemoryClient(as)
			if bc.ttl < 0 {
				cfg.PositiveTTL = -1
			}
			v, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, "tok"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyParallelCached measures cache hits under contention on
// distinct tokens.
func BenchmarkVerifyParallelCached(b *testing.B) {
	as := newFakeAS()
	cfg := baseConfig("https://as.example.com/introspect", newClock())
	cfg.HTTPClient = inMemoryClient(as)
	v, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	toks := make([]string, 64)
	for i := range toks {
		toks[i] = "tok" + strconv.Itoa(i)
		as.set(toks[i], answer{body: activeBody})
		if _, err := v.Verify(context.Background(), toks[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := v.Verify(context.Background(), toks[i%len(toks)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
