package casbinauthz

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
)

// memoVerifier returns copies of one set of claims sharing one TokenMemo,
// as the caching verifier does.
type memoVerifier struct{ c core.Claims }

func (v *memoVerifier) Verify(context.Context, string) (*core.Claims, error) {
	c := v.c
	return &c, nil
}

// TestMemoDecisions: decisions for a principal the Guard keeps with a
// verified token (key prefix and subjects computed once, core.Principal.Memo)
// equal those for an identical principal without a memo, for every tool of
// the benchmark policy, with and without the decision cache.
func TestMemoDecisions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	groups := []any{}
	for i := range 10 {
		groups = append(groups, fmt.Sprintf("g%d", i))
	}
	v := &memoVerifier{c: core.Claims{Issuer: "https://issuer.example.com", Subject: "alice", Scopes: []string{"mcp:tools"},
		Expiry: time.Now().Add(time.Hour), Raw: rawOf(map[string]any{"groups": groups}), Memo: new(core.TokenMemo)}}
	for _, cacheSize := range []int{0, -1} {
		v.c.Memo = new(core.TokenMemo) // a token memo belongs to one Guard
		a, err := New(Config{Model: mustModel(t, "rbac"), Source: StringSource(benchPolicy(200)), CacheSize: cacheSize})
		if err != nil {
			t.Fatal(err)
		}
		g, err := core.New(core.Config{Resource: "https://mcp.example.com/mcp", Verifier: v, Authorizer: a,
			Metadata: core.ProtectedResourceMetadata{AuthorizationServers: []string{"https://issuer.example.com"}}})
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{"Authorization": {"Bearer x"}, "Content-Type": {"application/json"}}
		res, err := g.Check(ctx, &core.Request{Method: http.MethodPost, Header: h,
			Body: []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t8","arguments":{}}}`)})
		if err != nil {
			t.Fatal(err)
		}
		memo := res.Principal
		plain := *memo // a copy keeps no memo
		allowed := 0
		for i := range 220 {
			for _, name := range []string{fmt.Sprintf("t%d", i), fmt.Sprintf("t%d_x", i)} {
				for round := range 2 { // the second round hits the decision cache
					dm, err1 := a.Authorize(ctx, memo, tool(name))
					dp, err2 := a.Authorize(ctx, &plain, tool(name))
					if err1 != nil || err2 != nil || dm.Allow != dp.Allow || dm.Rule != dp.Rule || dm.Reason != dp.Reason {
						t.Fatalf("cache %d round %d %s: memo %+v %v, plain %+v %v", cacheSize, round, name, dm, err1, dp, err2)
					}
					if dm.Allow && round == 0 {
						allowed++
					}
				}
			}
		}
		if allowed == 0 {
			t.Fatal("no tool allowed: the comparison proves nothing")
		}
		if _, ok := memo.Memo(a, a.newMemo); !ok {
			t.Error("the Guard's principal kept no memo for the Authorizer")
		}
	}
}

// TestAppendObject: the in-place object key equals the field of
// Permission.Object for every kind.
func TestAppendObject(t *testing.T) {
	t.Parallel()
	for _, perm := range []core.Permission{
		{Kind: core.ObjectServer, Action: core.ActionConnect},
		tool("ls"), tool(""), tool("a:b|c"),
		{Kind: core.ObjectResource, Name: "file:///x", Action: core.ActionRead},
		{Kind: core.ObjectPrompt, Name: "greet", Action: core.ActionGet},
	} {
		if got, want := string(appendObject(nil, perm)), string(appendField(nil, perm.Object())); got != want {
			t.Errorf("%+v: %q, want %q", perm, got, want)
		}
	}
}

// rawOf encodes test claims (RawClaimsFromMap); it panics on a value
// encoding/json cannot encode.
func rawOf(m map[string]any) core.RawClaims {
	r, err := core.RawClaimsFromMap(m)
	if err != nil {
		panic(err)
	}
	return r
}

// tokenVerifier answers each token with its own claims and TokenMemo, as
// the caching verifier does for distinct tokens.
type tokenVerifier map[string]*core.Claims

func (v tokenVerifier) Verify(_ context.Context, tok string) (*core.Claims, error) {
	c, ok := v[tok]
	if !ok {
		return nil, core.ErrSignature
	}
	cp := *c
	return &cp, nil
}

// TestMemoKeysPerToken: decision-cache keys of memo principals are the
// memo's number, so principals of different tokens never share a cached
// decision, in either order, and each memo key is 9 bytes.
func TestMemoKeysPerToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	groups := []any{}
	for i := range 10 {
		groups = append(groups, fmt.Sprintf("g%d", i))
	}
	exp := time.Now().Add(time.Hour)
	v := tokenVerifier{
		"alice": {Issuer: "https://issuer.example.com", Subject: "alice", Scopes: []string{"mcp:tools"}, Expiry: exp,
			Raw: rawOf(map[string]any{"groups": groups}), Memo: new(core.TokenMemo)},
		"bob": {Issuer: "https://issuer.example.com", Subject: "bob", Scopes: []string{"mcp:tools"}, Expiry: exp,
			Raw: rawOf(map[string]any{}), Memo: new(core.TokenMemo)},
	}
	a, err := New(Config{Model: mustModel(t, "rbac"), Source: StringSource(benchPolicy(200) + "p, user:bob, tool:bobs, call, allow\n")})
	if err != nil {
		t.Fatal(err)
	}
	g, err := core.New(core.Config{Resource: "https://mcp.example.com/mcp", Verifier: v, Authorizer: a,
		Metadata: core.ProtectedResourceMetadata{AuthorizationServers: []string{"https://issuer.example.com"}}})
	if err != nil {
		t.Fatal(err)
	}
	call := func(tok, tool string) (*core.Result, error) {
		h := http.Header{"Authorization": {"Bearer " + tok}, "Content-Type": {"application/json"}}
		return g.Check(ctx, &core.Request{Method: http.MethodPost, Header: h,
			Body: []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tool + `","arguments":{}}}`)})
	}
	for round := range 3 {
		for _, c := range []struct {
			tok   string
			allow bool
		}{{"alice", true}, {"bob", false}, {"bob", false}, {"alice", true}} {
			if _, err := call(c.tok, "t8"); (err == nil) != c.allow {
				t.Fatalf("round %d, %s: err %v, want allow=%t", round, c.tok, err, c.allow)
			}
		}
	}
	seen := map[string]bool{}
	for _, tok := range []string{"alice", "bob"} {
		p := v[tok]
		tool := map[string]string{"alice": "t8", "bob": "bobs"}[tok]
		res, err := call(tok, tool)
		if err != nil {
			t.Fatal(err)
		}
		m, ok := res.Principal.Memo(a, a.newMemo)
		if !ok {
			t.Fatalf("%s: no memo", p.Subject)
		}
		pre := m.(*principalMemo).prefix
		if len(pre) != 9 || pre[0] != 'I' || seen[pre] {
			t.Fatalf("%s: memo key prefix %q (seen %v)", p.Subject, pre, seen)
		}
		seen[pre] = true
	}
}

// TestMemoLastDecisionFollowsReload: the decision a principal's memo
// remembers (lastDecision) answers only under the policy version it came
// from: after a reload that revokes the tool, the same principal is denied
// at once, and the memo then remembers the new policy's decision.
func TestMemoLastDecisionFollowsReload(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	v := &memoVerifier{c: core.Claims{Issuer: "https://issuer.example.com", Subject: "alice", Scopes: []string{"mcp:tools"},
		Expiry: time.Now().Add(time.Hour), Raw: rawOf(map[string]any{"groups": []any{"g1"}}), Memo: new(core.TokenMemo)}}
	src := &mutableSource{text: "p, group:g1, tool:t8, call, allow\n"}
	a, err := New(Config{Model: mustModel(t, "rbac"), Source: src})
	if err != nil {
		t.Fatal(err)
	}
	g, err := core.New(core.Config{Resource: "https://mcp.example.com/mcp", Verifier: v, Authorizer: a,
		Metadata: core.ProtectedResourceMetadata{AuthorizationServers: []string{"https://issuer.example.com"}}})
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Authorization": {"Bearer x"}, "Content-Type": {"application/json"}}
	res, err := g.Check(ctx, &core.Request{Method: http.MethodPost, Header: h,
		Body: []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t8","arguments":{}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Principal
	steps := []struct {
		name   string
		policy string // reloaded first when not empty
		tool   string
		allow  bool
	}{
		{"remembered", "", "t8", true},
		{"again", "", "t8", true},
		{"other tool, same policy", "", "t9", false},
		{"first tool still", "", "t8", true},
		{"revoked", "p, group:g1, tool:t9, call, allow\n", "t8", false},
		{"revoked again", "", "t8", false},
		{"granted", "", "t9", true},
		{"restored", "p, group:g1, tool:t8, call, allow\n", "t8", true},
	}
	for _, st := range steps {
		if st.policy != "" {
			src.text = st.policy
			if err := a.Reload(ctx); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
		d, err := a.Authorize(ctx, p, tool(st.tool))
		if err != nil || d.Allow != st.allow {
			t.Errorf("%s: Authorize(%s) = %+v, %v; want allow %v", st.name, st.tool, d, err, st.allow)
		}
		if d.PolicyVersion != a.Version() {
			t.Errorf("%s: decision of policy version %d, live %d", st.name, d.PolicyVersion, a.Version())
		}
	}
	pm, ok := p.Memo(a, a.newMemo)
	if !ok || pm.(*principalMemo).last[0].Load() == nil {
		t.Fatal("the principal's memo remembers no decision: the test proves nothing")
	}
}

// TestMemoRemembersSeveralObjects: a principal's memo remembers the first
// memoSlots decisions of the live policy, allowed and denied alike, and
// answers each only for its own object and policy version; after a
// reload the stale decisions give way to the new policy's.
func TestMemoRemembersSeveralObjects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	v := &memoVerifier{c: core.Claims{Issuer: "https://issuer.example.com", Subject: "alice", Scopes: []string{"mcp:tools"},
		Expiry: time.Now().Add(time.Hour), Raw: rawOf(map[string]any{"groups": []any{"g1"}}), Memo: new(core.TokenMemo)}}
	src := &mutableSource{text: "p, group:g1, tool:t1, call, allow\np, group:g1, tool:t2, call, allow\np, group:g1, tool:t5, call, allow\n"}
	a, err := New(Config{Model: mustModel(t, "rbac"), Source: src})
	if err != nil {
		t.Fatal(err)
	}
	g, err := core.New(core.Config{Resource: "https://mcp.example.com/mcp", Verifier: v, Authorizer: a,
		Metadata: core.ProtectedResourceMetadata{AuthorizationServers: []string{"https://issuer.example.com"}}})
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Authorization": {"Bearer x"}, "Content-Type": {"application/json"}}
	res, err := g.Check(ctx, &core.Request{Method: http.MethodPost, Header: h,
		Body: []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t1","arguments":{}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Principal
	m, ok := p.Memo(a, a.newMemo)
	if !ok {
		t.Fatal("no memo for the Guard's principal")
	}
	pm := m.(*principalMemo)
	remembered := func() []string {
		var names []string
		for i := range pm.last {
			if ld := pm.last[i].Load(); ld != nil && ld.version == a.Version() {
				names = append(names, ld.name)
			}
		}
		return names
	}
	want := map[string]bool{"t1": true, "t2": true, "t3": false, "t4": false, "t5": true}
	for round := range 3 { // the first round fills the memo, the others read it
		for _, name := range []string{"t1", "t2", "t3", "t4", "t5"} {
			d, err := a.Authorize(ctx, p, tool(name))
			if err != nil || d.Allow != want[name] || d.PolicyVersion != a.Version() {
				t.Errorf("round %d: Authorize(%s) = %+v, %v; want allow %v", round, name, d, err, want[name])
			}
		}
	}
	if got := remembered(); !slices.Equal(got, []string{"t1", "t2", "t3", "t4"}) {
		t.Errorf("remembered %v, want the first %d objects", got, memoSlots)
	}
	// Revoke t1 and t2, grant t3: the memo answers nothing from before.
	src.text = "p, group:g1, tool:t3, call, allow\np, group:g1, tool:t5, call, allow\n"
	if err := a.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	want = map[string]bool{"t1": false, "t2": false, "t3": true, "t4": false, "t5": true}
	for round := range 2 {
		for _, name := range []string{"t5", "t1", "t3", "t2", "t4"} {
			d, err := a.Authorize(ctx, p, tool(name))
			if err != nil || d.Allow != want[name] || d.PolicyVersion != a.Version() {
				t.Errorf("after reload, round %d: Authorize(%s) = %+v, %v; want allow %v", round, name, d, err, want[name])
			}
		}
	}
	if got := remembered(); !slices.Equal(got, []string{"t5", "t1", "t3", "t2"}) {
		t.Errorf("after reload remembered %v, want the new policy's first %d objects", got, memoSlots)
	}
}
