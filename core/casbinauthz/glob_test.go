package casbinauthz

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/casbin/casbin/v2/util"
)

// readGlobCorpus reads testdata/glob_corpus.txt.
func readGlobCorpus(t testing.TB) [][2]string {
	t.Helper()
	f, err := os.Open("testdata/glob_corpus.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][2]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		pat, obj, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("corpus line %q: want pattern<TAB>object", line)
		}
		out = append(out, [2]string{pat, obj})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkGlobPair compares one compiled glob and a one-pattern glob index
// with Casbin's globMatch.
func checkGlobPair(t testing.TB, pat, obj string) {
	t.Helper()
	want, werr := util.GlobMatch(obj, pat)
	g := compileGlob(pat)
	got, gerr := g.match(obj)
	if utf8.ValidString(obj) && ((werr != nil) != (gerr != nil) || werr == nil && got != want) {
		t.Fatalf("glob %q (shape %d) on %q: compiled (%t, %v), globMatch (%t, %v)", pat, g.shape, obj, got, gerr, want, werr)
	}
	if werr != nil || !hasGlobMeta(pat) {
		return // literal patterns are looked up exactly, not in a glob index
	}
	var gi globIndex
	gi.add(pat, 7)
	set, err := gi.matches(nil, obj, nil)
	if err != nil || (len(set) == 1) != want {
		t.Fatalf("glob index %q on %q: %v %v, globMatch %t", pat, obj, set, err, want)
	}
}

// TestGlobShapes compares the compiled shapes and the glob index with
// Casbin's globMatch on the fixed corpus, then on random patterns and
// objects from a fresh seed (printed on failure; CASBINAUTHZ_SEED reruns).
func TestGlobShapes(t *testing.T) {
	t.Parallel()
	shapes := map[globShape]int{}
	for _, c := range readGlobCorpus(t) {
		checkGlobPair(t, c[0], c[1])
		shapes[compileGlob(c[0]).shape]++
	}
	for s := shapeGeneric; s <= shapeTree; s++ {
		if shapes[s] == 0 {
			t.Fatalf("corpus has no pattern of shape %d", s)
		}
	}
	for _, seed := range diffSeeds(t) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			reportSeed(t, seed)
			g := gen{rand.New(rand.NewPCG(seed, 3))}
			for range 20_000 {
				pat, obj := g.pattern(), g.object()
				if g.r.IntN(4) == 0 { // objects near the pattern
					obj = strings.NewReplacer("*", g.name(), "?", "a", "{a,b}", "b", "[ab]", "a").Replace(pat)
				}
				checkGlobPair(t, pat, obj)
			}
		})
	}
}

// FuzzGlobShapes compares compiled globs with Casbin's globMatch.
func FuzzGlobShapes(f *testing.F) {
	for _, c := range readGlobCorpus(f) {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, pat, obj string) {
		if checkGlob(pat) != nil {
			return // rejected at load time
		}
		checkGlobPair(t, pat, obj)
	})
}

// TestMatchCacheBounded fills the per-object match cache far beyond its
// byte budget.
func TestMatchCacheBounded(t *testing.T) {
	t.Parallel()
	const budget = 64 << 10
	c := newMatchCache(budget)
	big := make(matchSet, 100)
	for i := range 10_000 {
		c.put(fmt.Sprintf("tool:object-%d", i), big)
		if n := c.bytes(); n > budget {
			t.Fatalf("after %d puts the cache holds %d bytes > %d", i+1, n, budget)
		}
	}
	if _, ok := c.get("tool:object-9999"); !ok {
		t.Fatal("the most recent entry was evicted")
	}
	c.put("huge", make(matchSet, budget))
	if _, ok := c.get("huge"); ok {
		t.Fatal("an entry larger than half the budget was cached")
	}
}
