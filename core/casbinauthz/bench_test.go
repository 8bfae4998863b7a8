package casbinauthz

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/mcpauthz/mcpauthz/core"
)

// benchPolicy generates n rbac rules over n/10 groups (at least 20): mostly
// literal tools, 10% tool globs, 5% resource globs, 2% deny rules.
func benchPolicy(n int) string {
	groups := max(n/10, 20)
	var b strings.Builder
	for i := range n {
		g := i % groups
		switch {
		case i%50 == 7:
			fmt.Fprintf(&b, "p, group:g%d, tool:t%d, call, deny\n", g, i)
		case i%10 == 3:
			fmt.Fprintf(&b, "p, group:g%d, tool:t%d_*, call, allow\n", g, i)
		case i%20 == 9:
			fmt.Fprintf(&b, "p, group:g%d, resource:docs://t%d/**, read, allow\n", g, i)
		default:
			fmt.Fprintf(&b, "p, group:g%d, tool:t%d, call, allow\n", g, i)
		}
	}
	return b.String()
}

func benchPrincipal() *core.Principal {
	p := &core.Principal{Kind: core.PrincipalUser, Issuer: "https://issuer.example.com", Subject: "alice", Scopes: []string{"openid", "mcp:tools"}}
	for i := range 10 {
		p.Groups = append(p.Groups, fmt.Sprintf("g%d", i))
	}
	return p
}

// BenchmarkDecision compares, at 50 and 5,000 rules, for a user with 10
// groups: Casbin's Enforce (the oracle, one call over the whole subject
// list), the compiled index (full Authorize, cache disabled) and a cache hit.
func BenchmarkDecision(b *testing.B) {
	ctx := context.Background()
	p := benchPrincipal()
	for _, n := range []int{50, 5000} {
		policy := benchPolicy(n)
		groups := max(n/10, 20)
		// An allowed literal tool of the caller's group g8, late in policy order.
		target := tool(fmt.Sprintf("t%d", 8+groups*((n-1-8)/groups)))
		mk := func(cfg Config) *Authorizer {
			cfg.Model, cfg.Source = mustModel(b, "rbac"), StringSource(policy)
			a, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			if d, err := a.Authorize(ctx, p, target); err != nil || !d.Allow {
				b.Fatalf("setup: %+v %v", d, err)
			}
			return a
		}
		b.Run(fmt.Sprintf("rules=%d/enforce", n), func(b *testing.B) {
			a := mk(Config{CacheSize: -1, DisableIndex: true})
			e := a.cur.Load().enf.(*casbin.Enforcer)
			q := &request{subs: DefaultSubjects(p), obj: target.Object(), act: target.Action}
			rv := q.rvals(a.cur.Load().toks)
			b.ReportAllocs()
			for b.Loop() {
				if ok, _, err := e.EnforceEx(rv...); err != nil || !ok {
					b.Fatal(ok, err)
				}
			}
		})
		b.Run(fmt.Sprintf("rules=%d/index", n), func(b *testing.B) {
			a := mk(Config{CacheSize: -1})
			b.ReportAllocs()
			for b.Loop() {
				if d, err := a.Authorize(ctx, p, target); err != nil || !d.Allow {
					b.Fatal(d, err)
				}
			}
		})
		b.Run(fmt.Sprintf("rules=%d/index-miss", n), func(b *testing.B) {
			a := mk(Config{CacheSize: -1})
			miss := tool("t_not_there")
			b.ReportAllocs()
			for b.Loop() {
				if d, err := a.Authorize(ctx, p, miss); err != nil || d.Allow {
					b.Fatal(d, err)
				}
			}
		})
		b.Run(fmt.Sprintf("rules=%d/cached", n), func(b *testing.B) {
			a := mk(Config{})
			b.ReportAllocs()
			for b.Loop() {
				if d, err := a.Authorize(ctx, p, target); err != nil || !d.Allow {
					b.Fatal(d, err)
				}
			}
		})
	}
}

// BenchmarkReload measures building and validating a 5,000-rule policy.
func BenchmarkReload(b *testing.B) {
	comp, err := newCompiler(Config{Model: mustModel(b, "rbac"), CacheSize: -1})
	if err != nil {
		b.Fatal(err)
	}
	text := []byte(benchPolicy(5000))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := comp.compile(text); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMemoTools is a cached decision for a principal the Guard keeps
// with a verified token, calling four tools in turn (the memo remembers
// memoSlots decisions; beyond them the shared decision cache answers).
func BenchmarkMemoTools(b *testing.B) {
	ctx := context.Background()
	v := &memoVerifier{c: core.Claims{Issuer: "https://issuer.example.com", Subject: "alice", Scopes: []string{"mcp:tools"},
		Expiry: time.Now().Add(time.Hour), Raw: rawOf(map[string]any{"groups": []any{"g8"}}), Memo: new(core.TokenMemo)}}
	a, err := New(Config{Model: mustModel(b, "rbac"), Source: StringSource(benchPolicy(5000))})
	if err != nil {
		b.Fatal(err)
	}
	g, err := core.New(core.Config{Resource: "https://mcp.example.com/mcp", Verifier: v, Authorizer: a,
		Metadata: core.ProtectedResourceMetadata{AuthorizationServers: []string{"https://issuer.example.com"}}})
	if err != nil {
		b.Fatal(err)
	}
	res, err := g.Check(ctx, &core.Request{Method: http.MethodPost, Header: http.Header{"Authorization": {"Bearer x"}, "Content-Type": {"application/json"}},
		Body: []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t8","arguments":{}}}`)})
	if err != nil {
		b.Fatal(err)
	}
	tools := []core.Permission{tool("t8"), tool("t508"), tool("t1008"), tool("t1508")} // group g8's
	b.ReportAllocs()
	memoToolsLoop(b, ctx, a, res.Principal, tools)
}

func memoToolsLoop(b *testing.B, ctx context.Context, a *Authorizer, p *core.Principal, tools []core.Permission) {
	i := 0
	for b.Loop() {
		if d, err := a.Authorize(ctx, p, tools[i%len(tools)]); err != nil || !d.Allow {
			b.Fatal(d, err)
		}
		i++
	}
}
