package casbinauthz

import (
	"strings"
	"testing"

	"github.com/casbin/casbin/v2"
)

// FuzzPolicy feeds arbitrary policy text to the strict loader. It must never
// panic; when a policy loads, the index and Casbin's Enforce must agree on a
// few fixed requests.
func FuzzPolicy(f *testing.F) {
	f.Add(mustPolicy(f, "rbac"))
	f.Add("p, *, tool:{a,b}/**, call, allow\np, group:x, tool:a, *, deny\n")
	f.Add("p, \"a,b\", tool:a, call, allow\n")
	f.Add("p, *, \"tool:\"\"x\"\"\", call, allow\r\n# c\n\n")
	f.Add("p, *, tool:[, call, allow\n")
	comp, err := newCompiler(Config{Model: mustModel(f, "rbac"), CacheSize: -1})
	if err != nil {
		f.Fatal(err)
	}
	reqs := []*request{
		{subs: []string{"*"}, obj: "tool:a", act: "call"},
		{subs: []string{"*", "group:x"}, obj: "tool:a", act: "call"},
		{subs: []string{"a,b", "*"}, obj: "tool:ab", act: "read"},
		{subs: []string{"*"}, obj: "tool:a/b/c", act: "call"},
		{subs: []string{"group:x"}, obj: "server", act: "connect"},
	}
	f.Fuzz(func(t *testing.T, text string) {
		snap, err := comp.compile([]byte(text))
		if err != nil {
			return
		}
		e := snap.enf.(*casbin.Enforcer)
		for _, q := range reqs {
			got, rule, err1 := snap.idx.decide(q)
			want, ex, err2 := e.EnforceEx(q.rvals(snap.toks)...)
			if (err1 != nil) != (err2 != nil) {
				t.Fatalf("errors differ: %v / %v", err1, err2)
			}
			wantRule := ""
			if len(ex) > 0 {
				wantRule = "p, " + strings.Join(ex, ", ")
			}
			if err1 == nil && (got != want || rule != wantRule) {
				t.Fatalf("%+v: index (%t %q) Enforce (%t %q)", q, got, rule, want, wantRule)
			}
		}
	})
}
