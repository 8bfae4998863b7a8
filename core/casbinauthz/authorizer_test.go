package casbinauthz

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	stringadapter "github.com/casbin/casbin/v2/persist/string-adapter"
	"github.com/mcpauthz/mcpauthz/core"
)

func TestNewErrors(t *testing.T) {
	t.Parallel()
	rbac, scopes := mustModel(t, "rbac"), mustModel(t, "scopes")
	badP2 := strings.Replace(scopes, `m2 = globMatch(r2.obj, p2.obj)`, `m2 = keyMatch(r2.obj, p2.obj)`, 1)
	badTok := strings.Replace(rbac, "r = sub, obj, act", "r = sub, obj, act, env", 1)
	noObj := strings.Replace(rbac, "r = sub, obj, act", "r = sub, act", 1)
	cases := []struct {
		name    string
		cfg     Config
		wantErr error
	}{
		{"no source", Config{Model: rbac}, nil},
		{"empty model", Config{Model: " ", Source: StringSource("p, *, *, *, allow")}, ErrModel},
		{"garbage model", Config{Model: "[request_definition]\nr = \n", Source: StringSource("p, *, *, *, allow")}, ErrModel},
		{"bad p2 section", Config{Model: badP2, Source: StringSource("p, *, *, *, allow")}, ErrModel},
		{"unknown token", Config{Model: badTok, Source: StringSource("p, *, *, *, allow")}, ErrModel},
		{"no obj token", Config{Model: noObj, Source: StringSource("p, *, *, allow")}, ErrModel},
		{"empty policy", Config{Model: rbac, Source: StringSource("# nothing\n\n")}, ErrPolicy},
		{"field count", Config{Model: rbac, Source: StringSource("p, *, tool:a, call\n")}, ErrPolicy},
		{"unknown ptype", Config{Model: rbac, Source: StringSource("p9, *, tool:a, call, allow\n")}, ErrPolicy},
		{"g without role definition", Config{Model: rbac, Source: StringSource("p, *, tool:a, call, allow\ng, a, b\n")}, ErrPolicy},
		{"unterminated quote", Config{Model: rbac, Source: StringSource("p, \"*, tool:a, call, allow\n")}, ErrPolicy},
		{"bad glob", Config{Model: rbac, Source: StringSource("p, *, tool:[a, call, allow\n")}, ErrPolicy},
		{"bad utf8", Config{Model: rbac, Source: StringSource("p, *, tool:\xff, call, allow\n")}, ErrPolicy},
		{"bad eval condition", Config{Model: mustModel(t, "abac"), Source: StringSource("p, *, tool:a, call, r.attrs.x ==, allow\n")}, ErrPolicy},
		{"canary fails", Config{Model: rbac, Source: StringSource("p, *, tool:a, call, allow\n"),
			Canaries: []Canary{{Principal: user("u"), Permission: tool("b"), Allow: true}}}, ErrPolicy},
		{"model calling a function on the subject list", Config{Model: strings.Replace(rbac, "m = p.sub in r.sub", "m = keyMatch(r.sub, p.sub)", 1), Source: StringSource("p, *, tool:a, call, allow\n")}, ErrModel},
		{"role model also using the subject otherwise", Config{Model: strings.Replace(rbac+"\n[role_definition]\ng = _, _\n", "m = p.sub in r.sub", "m = g(r.sub, p.sub) && r.sub != \"x\"", 1), Source: StringSource("p, *, tool:a, call, allow\n")}, ErrModel},
		{"role model with priority effect", Config{Model: strings.Replace(strings.Replace(rbac+"\n[role_definition]\ng = _, _\n", "m = p.sub in r.sub", "m = g(r.sub, p.sub)", 1), "e = some(where (p.eft == allow)) && !some(where (p.eft == deny))", "e = priority(p.eft) || deny", 1), Source: StringSource("p, *, tool:a, call, allow\n")}, ErrModel},
		{"g line with wrong field count", Config{Model: mustModel(t, "rbac_roles"), Source: StringSource("p, *, tool:a, call, allow\ng, a, b, c\n")}, ErrPolicy},
		{"model comparing the subject list", Config{Model: strings.Replace(rbac, "m = p.sub in r.sub", "m = r.sub == p.sub", 1), Source: StringSource("p, *, tool:a, call, allow\n")}, ErrModel},
		{"missing file", Config{Model: rbac, Source: FileSource{Paths: []string{t.TempDir() + "/none.csv"}}}, ErrReload},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a, err := New(c.cfg)
			if err == nil || a != nil {
				t.Fatalf("New succeeded")
			}
			if c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
		})
	}
}

func TestAuthorizeDenyByDefault(t *testing.T) {
	t.Parallel()
	a, err := New(Config{Model: mustModel(t, "rbac"), Source: StringSource("p, *, *, *, allow\np, *, tool:**, *, allow\n")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cases := []struct {
		name string
		p    *core.Principal
		perm core.Permission
	}{
		{"nil principal", nil, tool("x")},
		{"unknown principal kind", &core.Principal{Subject: "u"}, tool("x")},
		{"unknown object kind", user("u"), core.Permission{Kind: "widget", Name: "x", Action: "call"}},
		{"unknown action", user("u"), core.Permission{Kind: core.ObjectTool, Name: "x", Action: "tools/call"}},
		{"empty action", user("u"), core.Permission{Kind: core.ObjectTool, Name: "x"}},
		{"empty tool name", user("u"), core.Permission{Kind: core.ObjectTool, Action: "call"}},
	}
	for _, c := range cases {
		d, err := a.Authorize(ctx, c.p, c.perm)
		if err != nil || d.Allow || len(d.RequiredScopes) > 0 || d.Reason == "" {
			t.Errorf("%s: %+v, %v", c.name, d, err)
		}
	}
	// The same policy allows a well-formed request: the denials above are
	// not an accident of the policy.
	if d, err := a.Authorize(ctx, user("u"), tool("x")); err != nil || !d.Allow {
		t.Fatalf("control: %+v, %v", d, err)
	}
}

func TestDecisionFields(t *testing.T) {
	t.Parallel()
	a, err := New(Config{Model: mustModel(t, "quickstart"), Source: StringSource(mustPolicy(t, "quickstart"))})
	if err != nil {
		t.Fatal(err)
	}
	alice := user("alice", "engineering")
	for range 2 { // second round is served from the cache
		d, err := a.Authorize(context.Background(), alice, tool("deploy"))
		if err != nil {
			t.Fatal(err)
		}
		want := core.Decision{RequiredScopes: []string{"mcp:deploy"}, Rule: "p, group:engineering, tool:deploy, call, allow", Reason: ReasonInsufficientScope}
		if d.Allow || !slices.Equal(d.RequiredScopes, want.RequiredScopes) || d.Rule != want.Rule || d.Reason != want.Reason {
			t.Fatalf("got %+v, want %+v", d, want)
		}
		d.RequiredScopes[0] = "mutated" // must not poison the cache
	}
	d, _ := a.Authorize(context.Background(), user("bob", "marketing"), tool("deploy"))
	if d.Allow || d.RequiredScopes != nil || d.Rule != "" || d.Reason != ReasonDenied {
		t.Fatalf("bob: %+v", d)
	}
	st := a.Stats()
	if st.Version != 1 || !st.Indexed || st.Rules == 0 || st.ReloadErrors != 0 || st.LoadedAt.IsZero() {
		t.Fatalf("stats %+v", st)
	}
}

// Claims that look like policy text are plain subject names (P04).
func TestClaimInjection(t *testing.T) {
	t.Parallel()
	for _, noIdx := range []bool{false, true} {
		a, err := New(Config{Model: mustModel(t, "rbac"), Source: StringSource("p, group:admins, tool:*, call, allow\np, user:alice, tool:echo, call, allow\n"), DisableIndex: noIdx})
		if err != nil {
			t.Fatal(err)
		}
		evil := []string{
			"x, tool:*, call, allow", "x\np, *, tool:*, call, allow", `admins"`, `"admins"`, "admins\n", " admins",
			"admins,", "group:admins", "*",
		}
		for _, g := range evil {
			for _, p := range []*core.Principal{user("mallory", g), user(g), {Kind: core.PrincipalUser, Subject: "m", Roles: []string{g}}} {
				d, err := a.Authorize(context.Background(), p, tool("deploy"))
				if err != nil || d.Allow {
					t.Errorf("noIdx=%t %q: %+v %v", noIdx, g, d, err)
				}
			}
		}
		if d, _ := a.Authorize(context.Background(), user("alice"), tool("echo")); !d.Allow {
			t.Error("control denied")
		}
	}
}

// errEnforcer fails every evaluation.
type errEnforcer struct{}

func (errEnforcer) Enforce(...any) (bool, error) { return true, errors.New("backend down") }

func TestEvaluationErrorIsUnavailable(t *testing.T) {
	t.Parallel()
	a, err := New(Config{Enforcer: errEnforcer{}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := a.Authorize(context.Background(), user("u"), tool("x"))
	if !errors.Is(err, core.ErrUnavailable) || d.Allow {
		t.Fatalf("got %+v, %v", d, err)
	}
	if err := a.Reload(context.Background()); !errors.Is(err, ErrNotReloadable) {
		t.Fatalf("Reload: %v", err)
	}
}

// A caller-supplied casbin enforcer (here a SyncedEnforcer) is used as is,
// with the rule reported through EnforceEx.
func TestCustomEnforcer(t *testing.T) {
	t.Parallel()
	m, err := model.NewModelFromString(mustModel(t, "machine"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := casbin.NewSyncedEnforcer(m, stringadapter.NewAdapter(mustPolicy(t, "machine")))
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(Config{Enforcer: e, RequestTokens: []string{"kind", "sub", "obj", "act"}})
	if err != nil {
		t.Fatal(err)
	}
	bot := &core.Principal{Kind: core.PrincipalClient, ClientID: "ci-bot", Subject: "ci-bot"}
	d, err := a.Authorize(context.Background(), bot, tool("deploy"))
	if err != nil || !d.Allow || d.Rule != "p, client, client:ci-bot, tool:deploy, call, allow" {
		t.Fatalf("%+v %v", d, err)
	}
	if d, _ := a.Authorize(context.Background(), user("ci-bot"), tool("deploy")); d.Allow {
		t.Fatal("user ci-bot allowed")
	}
	if _, err := New(Config{Enforcer: e, RequestTokens: []string{"who"}}); !errors.Is(err, ErrModel) {
		t.Fatalf("bad tokens: %v", err)
	}
}

func TestDefaultSubjects(t *testing.T) {
	t.Parallel()
	p := &core.Principal{Kind: core.PrincipalUser, Subject: "alice", ClientID: "app", Groups: []string{"g", "", "g"}, Roles: []string{"r"}, Scopes: []string{"s"}}
	got := DefaultSubjects(p)
	want := []string{"*", "user:alice", "group:g", "role:r", "scope:s"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v", got)
	}
	c := &core.Principal{Kind: core.PrincipalClient, Subject: "alice", ClientID: "bot"}
	if got := DefaultSubjects(c); !slices.Equal(got, []string{"*", "client:bot"}) {
		t.Fatalf("client: %v", got)
	}
}

func TestCacheBounded(t *testing.T) {
	t.Parallel()
	c := newDecisionCache(cacheLimits{entries: 10, bytes: 1 << 20, maxEntry: 4096})
	for i := range 1000 {
		c.put(strings.Repeat("k", i), core.Decision{})
		if c.len() > 10 {
			t.Fatalf("cache holds %d entries", c.len())
		}
	}
	if _, ok := c.get([]byte(strings.Repeat("k", 999))); !ok {
		t.Fatal("newest entry evicted")
	}
	if newDecisionCache(cacheLimits{entries: -1}) != nil {
		t.Fatal("negative size must disable the cache")
	}
}

func TestCacheKeyInjective(t *testing.T) {
	t.Parallel()
	reqs := []*request{
		{subs: []string{"a", "b"}, obj: "tool:x", act: "call"},
		{subs: []string{"a1:b"}, obj: "tool:x", act: "call"},
		{subs: []string{"a|1:b"}, obj: "tool:x", act: "call"},
		{subs: []string{"a"}, obj: "tool:x", act: "call", dom: "b"},
		{subs: []string{"a", "b"}, obj: "tool:x", act: "call", kind: "user"},
	}
	seen := map[string]int{}
	ps := []*core.Principal{
		{Kind: core.PrincipalUser, Subject: "a", Groups: []string{"b"}},
		{Kind: core.PrincipalUser, Subject: "a", Roles: []string{"b"}},
		{Kind: core.PrincipalUser, Subject: "a", Scopes: []string{"b"}},
		{Kind: core.PrincipalUser, Subject: "a", Groups: []string{"b", "c"}},
		{Kind: core.PrincipalUser, Subject: "a", Groups: []string{"b,c"}},
		{Kind: core.PrincipalUser, Subject: "a", Groups: []string{"1:b"}},
		{Kind: core.PrincipalClient, Subject: "a", ClientID: "a"},
		{Kind: core.PrincipalUser, Subject: "a", ClientID: "a"},
		{Kind: core.PrincipalUser, Subject: "a|0|"},
	}
	for i, p := range ps {
		k := string(principalKey(nil, p, "tool:x", "call", ""))
		if prev, dup := seen[k]; dup {
			t.Fatalf("principal %d collides with %d", i, prev)
		}
		seen[k] = 1000 + i
	}
	for i, q := range reqs {
		for j, scopes := range [][]string{nil, {"s"}, {"1:s"}} {
			kb, ok := requestKey(nil, q, scopes, false)
			if !ok {
				t.Fatal("not cacheable")
			}
			k := string(kb)
			if prev, dup := seen[k]; dup {
				t.Fatalf("request %d/%d collides with %d", i, j, prev)
			}
			seen[k] = i*10 + j
		}
	}
}
