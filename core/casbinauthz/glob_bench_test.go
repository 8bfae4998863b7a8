package casbinauthz

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/casbin/casbin/v2"
)

// globHeavyPolicy generates n rbac rules over the given number of groups
// (at least 20 unless 1) whose object
// patterns all have the literal prefix "tool:" and nothing longer: 88%
// "tool:*_<i>", 10% "tool:{a,b}*_<i>" (doublestar), 1% "tool:*" and 1% deny
// "tool:*_<i>".
func globHeavyPolicy(n, groups int) string {
	var b strings.Builder
	for i := range n {
		g := i % groups
		switch {
		case i%100 == 0:
			fmt.Fprintf(&b, "p, group:g%d, tool:*, list, allow\n", g)
		case i%100 == 50:
			fmt.Fprintf(&b, "p, group:g%d, tool:*_%d, call, deny\n", g, i)
		case i%10 == 1:
			fmt.Fprintf(&b, "p, group:g%d, \"tool:{a,b}*_%d\", call, allow\n", g, i)
		default:
			fmt.Fprintf(&b, "p, group:g%d, tool:*_%d, call, allow\n", g, i)
		}
	}
	return b.String()
}

// BenchmarkGlobHeavy compares, at 5,000 glob rules whose only literal
// prefix is "tool:", spread over 500 groups (the caller has 10) or all for
// one group the caller has, with the decision cache disabled:
// Casbin's Enforce (stock, the oracle), the compiled index without the
// per-object match-set cache (every decision computes the match set) and
// with it.
func BenchmarkGlobHeavy(b *testing.B) {
	for _, groups := range []int{500, 1} {
		b.Run(fmt.Sprintf("groups=%d", groups), func(b *testing.B) { benchGlobHeavy(b, groups) })
	}
}

func benchGlobHeavy(b *testing.B, groups int) {
	ctx := context.Background()
	p := benchPrincipal()
	const n = 5000
	policy := globHeavyPolicy(n, groups)
	if groups == 1 {
		policy = strings.ReplaceAll(policy, "group:g0,", "group:g8,")
	}
	// An allowed tool of the caller's group g8, late in policy order.
	last := n - 1
	for last%groups != 8%groups || last%10 == 1 || last%100 == 50 || last%100 == 0 {
		last--
	}
	target := tool(fmt.Sprintf("deploy_%d", last))
	mk := func(cfg Config) *Authorizer {
		cfg.Model, cfg.Source, cfg.CacheSize = mustModel(b, "rbac"), StringSource(policy), -1
		a, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if d, err := a.Authorize(ctx, p, target); err != nil || !d.Allow {
			b.Fatalf("setup: %+v %v", d, err)
		}
		return a
	}
	b.Run(fmt.Sprintf("rules=%d/eval=enforce", n), func(b *testing.B) {
		a := mk(Config{DisableIndex: true})
		e := a.cur.Load().enf.(*casbin.Enforcer)
		q := &request{subs: DefaultSubjects(p), obj: target.Object(), act: target.Action}
		rv := q.rvals(a.cur.Load().toks)
		b.ReportAllocs()
		for b.Loop() {
			if ok, err := e.Enforce(rv...); err != nil || !ok {
				b.Fatal(ok, err)
			}
		}
	})
	b.Run(fmt.Sprintf("rules=%d/eval=index-uncached", n), func(b *testing.B) {
		a := mk(Config{MatchCacheBytes: -1})
		b.ReportAllocs()
		for b.Loop() {
			if d, err := a.Authorize(ctx, p, target); err != nil || !d.Allow {
				b.Fatal(d, err)
			}
		}
	})
	b.Run(fmt.Sprintf("rules=%d/eval=index-matchcache", n), func(b *testing.B) {
		a := mk(Config{})
		b.ReportAllocs()
		for b.Loop() {
			if d, err := a.Authorize(ctx, p, target); err != nil || !d.Allow {
				b.Fatal(d, err)
			}
		}
	})
}

// TestGlobHeavyAgreesWithEnforce checks the benchmark policy itself: index
// and Enforce agree on every rule's object for a caller in 10 groups.
func TestGlobHeavyAgreesWithEnforce(t *testing.T) {
	t.Parallel()
	comp, err := newCompiler(Config{Model: mustModel(t, "rbac"), CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := comp.compile([]byte(globHeavyPolicy(5000, 500)))
	if err != nil {
		t.Fatal(err)
	}
	e := snap.enf.(*casbin.Enforcer)
	subs := DefaultSubjects(benchPrincipal())
	var allows int
	for i := 0; i < 5000; i += 131 {
		for _, obj := range []string{fmt.Sprintf("tool:x_%d", i), fmt.Sprintf("tool:a_%d", i), "tool:a/b_1"} {
			for _, act := range []string{"call", "list"} {
				q := &request{subs: subs, obj: obj, act: act}
				got, gotRule, err := snap.idx.decide(q)
				if err != nil {
					t.Fatal(err)
				}
				want, ex, err := e.EnforceEx(q.rvals(snap.toks)...)
				if err != nil {
					t.Fatal(err)
				}
				if wantRule := strings.Join(ex, ", "); got != want || (gotRule != "") != (wantRule != "") || gotRule != "" && gotRule != "p, "+wantRule {
					t.Fatalf("%s %s: index (%t %q), Enforce (%t %q)", obj, act, got, gotRule, want, wantRule)
				}
				if got {
					allows++
				}
			}
		}
	}
	if allows < 20 {
		t.Fatalf("weak coverage: %d allows", allows)
	}
}
