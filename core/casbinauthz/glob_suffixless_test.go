package casbinauthz

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/util"
)

func TestRequiredGram(t *testing.T) {
	t.Parallel()
	tests := []struct{ rest, want string }{
		{"*x4999*", "999"},
		{"[a-z]deploy*", "loy"},
		{"[!a]deploy*", "loy"},
		{"[]a]bcd*", "bcd"},   // "]" first is a member of the class
		{"*{abcd,efgh}*", ""}, // inside braces: not required
		{"{abcd,efgh}xy*", ""},
		{"{ab}cdef*", "def"},
		{"*ab*", ""},
		{"**/abcd*", "bcd"},
		{"*ab/cd*", ""}, // "/" cuts runs
		{"*a,bc*", ",bc"},
		{`*\*abc*`, ""},   // escapes: not indexed
		{"[abc*", ""},     // unterminated class
		{"*abc]*", ""},    // stray "]"
		{"{abc*", ""},     // unbalanced brace
		{"*\xffabc*", ""}, // invalid UTF-8
		{"?long_run_here*", "ere"},
	}
	for _, tt := range tests {
		if got := requiredGram(tt.rest); got != tt.want {
			t.Errorf("requiredGram(%q) = %q, want %q", tt.rest, got, tt.want)
		}
	}
}

// TestGlobIndexSuffixlessAgreesWithGlobMatch: the glob index (its
// suffix-less pieces included) returns exactly the patterns Casbin's
// globMatch accepts, over a fixed corpus and random patterns and objects
// from a fresh seed (printed on failure; CASBINAUTHZ_SEED reruns).
func TestGlobIndexSuffixlessAgreesWithGlobMatch(t *testing.T) {
	t.Parallel()
	corpus := []string{"tool:*x1*", "tool:*x12*", "tool:[a-z]x12*", "tool:[!a]bcd*", "tool:[]a]bcd*", "tool:{ab,cd}efg*",
		"tool:**/abc*", "tool:*ab/cde*", "tool:?bcd*", "tool:*a,bc*", "tool:{a,b}*_12", "tool:*", "tool:abc*", "tool:*abc", "a/**"}
	objs := []string{"tool:x1", "tool:ax12", "tool:zx12_deploy", "tool:bbcd", "tool:]bcd", "tool:abefg", "tool:abc", "tool:x/abc",
		"tool:q/abc", "tool:ab/cde", "tool:xbcd", "tool:a,bc", "tool:a_12", "tool:abcabc", "tool:", "a/b/c", "tool:x1x1x1"}
	check := func(t *testing.T, pats, objs []string) {
		t.Helper()
		// A pattern globMatch refuses is refused when the policy loads.
		pats = slices.DeleteFunc(slices.Clone(pats), func(p string) bool {
			for _, o := range objs {
				if _, err := util.GlobMatch(o, p); err != nil {
					return true
				}
			}
			return false
		})
		var gi globIndex
		for i, p := range pats {
			gi.add(p, int32(i))
		}
		for _, o := range objs {
			got, err := gi.matches(nil, o, nil)
			if err != nil {
				t.Fatal(err)
			}
			var want []int32
			for i, p := range pats {
				if ok, err := util.GlobMatch(o, p); err == nil && ok {
					want = append(want, int32(i))
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("object %q: index %v, globMatch %v (patterns %q)", o, got, want, pats)
			}
		}
	}
	t.Run("corpus", func(t *testing.T) { check(t, corpus, objs) })
	for _, seed := range diffSeeds(t) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			reportSeed(t, seed)
			r := rand.New(rand.NewPCG(seed, 7))
			pieces := []string{"*", "?", "a", "b", "ab", "abc", "bca", "/", "**/", "[a-b]", "[!a]", "{ab,b}", "{a,bc}", ",", "_1"}
			chars := []string{"a", "b", "c", "/", "_", "1", ","}
			for range 200 {
				var pats, os []string
				for range 20 {
					var b strings.Builder
					b.WriteString("tool:")
					for range 1 + r.IntN(6) {
						b.WriteString(pieces[r.IntN(len(pieces))])
					}
					if r.IntN(3) > 0 {
						b.WriteString("*")
					}
					pats = append(pats, b.String())
				}
				for range 30 {
					var b strings.Builder
					b.WriteString("tool:")
					for range r.IntN(9) {
						b.WriteString(chars[r.IntN(len(chars))])
					}
					os = append(os, b.String())
				}
				check(t, pats, os)
			}
		})
	}
}

// TestGlobSuffixlessAgreesWithEnforce: 5,000 suffix-less rules ("tool:*x<i>*",
// "tool:[a-z]x<i>*"): Authorize and Casbin's Enforce agree on a sample of
// objects.
func TestGlobSuffixlessAgreesWithEnforce(t *testing.T) {
	t.Parallel()
	for _, shape := range []string{"tool:*x%d*", "tool:[a-z]x%d*"} {
		var pol strings.Builder
		for i := range 5000 {
			fmt.Fprintf(&pol, "p, group:g8, \"%s\", call, allow\n", fmt.Sprintf(shape, i))
		}
		comp, err := newCompiler(Config{Model: mustModel(t, "rbac"), CacheSize: -1, MatchCacheBytes: -1})
		if err != nil {
			t.Fatal(err)
		}
		snap, err := comp.compile([]byte(pol.String()))
		if err != nil {
			t.Fatal(err)
		}
		a, err := New(Config{Model: mustModel(t, "rbac"), Source: StringSource(pol.String()), CacheSize: -1, MatchCacheBytes: -1})
		if err != nil {
			t.Fatal(err)
		}
		e := snap.enf.(*casbin.Enforcer)
		p := benchPrincipal()
		var allows int
		for i := 0; i < 6000; i += 331 {
			for _, name := range []string{fmt.Sprintf("ax%d", i), fmt.Sprintf("x%d_b", i), fmt.Sprintf("Ax%d", i), "a/x1", "x"} {
				perm := tool(name)
				d, err := a.Authorize(t.Context(), p, perm)
				if err != nil {
					t.Fatal(err)
				}
				q := &request{subs: DefaultSubjects(p), obj: perm.Object(), act: perm.Action}
				want, err := e.Enforce(q.rvals(snap.toks)...)
				if err != nil {
					t.Fatal(err)
				}
				if d.Allow != want {
					t.Fatalf("%s %q: Authorize %t, Enforce %t", shape, name, d.Allow, want)
				}
				if want {
					allows++
				}
			}
		}
		if allows == 0 {
			t.Fatalf("%s: no allow in the sample", shape)
		}
	}
}
