package casbinmodels_test

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
)

func user(sub string, groups ...string) *core.Principal {
	return &core.Principal{Kind: core.PrincipalUser, Issuer: "https://issuer.example.com", Subject: sub, Groups: groups}
}

func client(id string, scopes ...string) *core.Principal {
	return &core.Principal{Kind: core.PrincipalClient, Issuer: "https://issuer.example.com", Subject: id, ClientID: id, Scopes: scopes}
}

func with(p *core.Principal, f func(*core.Principal)) *core.Principal { f(p); return p }

func tool(name string) core.Permission {
	return core.Permission{Kind: core.ObjectTool, Name: name, Action: core.ActionCall, Method: "tools/call"}
}
func res(uri string) core.Permission {
	return core.Permission{Kind: core.ObjectResource, Name: uri, Action: core.ActionRead, Method: "resources/read"}
}
func prompt(name string) core.Permission {
	return core.Permission{Kind: core.ObjectPrompt, Name: name, Action: core.ActionGet, Method: "prompts/get"}
}

type tc struct {
	name   string
	p      *core.Principal
	perm   core.Permission
	allow  bool
	scopes []string // expected RequiredScopes
}

// authorizers returns the sample policy loaded twice: indexed and through
// Casbin's Enforce, so that every case checks both paths.
func authorizers(t *testing.T, name string) map[string]*casbinauthz.Authorizer {
	t.Helper()
	m, err := casbinmodels.Model(name)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := casbinmodels.SamplePolicy(name)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*casbinauthz.Authorizer{}
	for _, noIdx := range []bool{false, true} {
		a, err := casbinauthz.New(casbinauthz.Config{Model: m, Source: casbinauthz.StringSource(pol), DisableIndex: noIdx, CacheSize: -1})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[map[bool]string{false: "index", true: "enforce"}[noIdx]] = a
	}
	return out
}

func run(t *testing.T, model string, wantIndexed bool, cases []tc) {
	t.Helper()
	for path, a := range authorizers(t, model) {
		if got := a.Stats().Indexed; got != (wantIndexed && path == "index") {
			t.Errorf("%s/%s: Indexed = %t", model, path, got)
		}
		for _, c := range cases {
			d, err := a.Authorize(context.Background(), c.p, c.perm)
			if err != nil {
				t.Errorf("%s/%s/%s: %v", model, path, c.name, err)
				continue
			}
			if d.Allow != c.allow || !slices.Equal(d.RequiredScopes, c.scopes) {
				t.Errorf("%s/%s/%s: got allow=%t scopes=%v rule=%q, want allow=%t scopes=%v",
					model, path, c.name, d.Allow, d.RequiredScopes, d.Rule, c.allow, c.scopes)
			}
			if d.Allow && d.Rule == "" {
				t.Errorf("%s/%s/%s: allow without a rule", model, path, c.name)
			}
		}
	}
}

func TestNamesAndFiles(t *testing.T) {
	t.Parallel()
	names := casbinmodels.Names()
	if !slices.IsSorted(names) || len(names) != 9 {
		t.Fatalf("Names() = %v", names)
	}
	for _, n := range names {
		if _, err := fs.Stat(casbinmodels.FS(), n+".conf"); err != nil {
			t.Error(err)
		}
		if _, err := fs.Stat(casbinmodels.FS(), n+".csv"); err != nil {
			t.Error(err)
		}
	}
	if _, err := casbinmodels.Model("nope"); !errors.Is(err, casbinmodels.ErrUnknown) {
		t.Errorf("Model(nope) err = %v", err)
	}
	if _, err := casbinmodels.SamplePolicy("../rbac"); !errors.Is(err, casbinmodels.ErrUnknown) {
		t.Errorf("SamplePolicy(../rbac) err = %v", err)
	}
	names[0] = "changed"
	if casbinmodels.Names()[0] == "changed" {
		t.Error("Names returned shared slice")
	}
	q, _ := casbinmodels.Model("quickstart")
	s, _ := casbinmodels.Model("scopes")
	if body(q) != body(s) {
		t.Error("quickstart.conf differs from scopes.conf")
	}
}

// body drops comment lines.
func body(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Every shipped sample policy is lint-clean.
func TestSamplesLintClean(t *testing.T) {
	t.Parallel()
	for _, n := range casbinmodels.Names() {
		m, _ := casbinmodels.Model(n)
		p, _ := casbinmodels.SamplePolicy(n)
		var opts casbinauthz.LintOptions
		if n == "abac_args" {
			opts.Args = sampleArgDecls(t) // its sample needs its declarations
		}
		if f := casbinauthz.LintWith(m, []byte(p), opts); len(f) > 0 {
			t.Errorf("%s: %v", n, f)
		}
	}
}
