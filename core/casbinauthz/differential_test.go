package casbinauthz

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/casbin/casbin/v2"
	"github.com/mcpauthz/mcpauthz/core"
)

// gen produces random policies and requests over small alphabets so that
// literal hits, glob hits, deny overrides and near misses ("a" vs "ab")
// all occur often.
type gen struct{ r *rand.Rand }

var (
	genSubjects = []string{"*", "user:u1", "user:u2", "client:c1", "group:g1", "group:g2", "group:g3", "role:r1", "role:r2", "scope:s1", "group:a,b", `group:"q"`}
	genActions  = []string{"call", "read", "get", "list", "subscribe", "complete", "connect"}
	genKinds    = []string{"tool:", "resource:", "prompt:"}
)

func (g gen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

func (g gen) name() string {
	const chars = "ab_/:x"
	n := g.r.IntN(5)
	var b strings.Builder
	for range n {
		b.WriteByte(chars[g.r.IntN(len(chars))])
	}
	return b.String()
}

func (g gen) object() string {
	if g.r.IntN(12) == 0 {
		return "server"
	}
	return g.pick(genKinds) + g.name()
}

func (g gen) pattern() string {
	switch g.r.IntN(14) {
	case 0:
		return "*"
	case 1:
		return g.pick(genKinds) + "*"
	case 2:
		return g.pick(genKinds) + g.name() + "*"
	case 3:
		return g.pick(genKinds) + g.name() + "/**"
	case 4:
		return g.pick(genKinds) + "**/" + g.name()
	case 5:
		return g.pick(genKinds) + g.name() + "?" + g.name()
	case 6:
		return g.pick(genKinds) + "{a,b}" + g.name()
	case 7:
		return g.pick(genKinds) + "[ab]" + g.name()
	case 8:
		return g.pick(genKinds) + "*" + g.name()
	case 9:
		return g.pick(genKinds) + g.name() + "*" + g.name()
	case 10:
		return "*" + g.name()
	}
	return g.object()
}

func (g gen) pAct() string {
	if g.r.IntN(5) == 0 {
		return "*"
	}
	return g.pick(genActions)
}

func (g gen) eft() string {
	switch g.r.IntN(10) {
	case 0, 1, 2, 3:
		return "deny"
	}
	return "allow"
}

func quote(s string) string {
	if strings.ContainsAny(s, `,"`) {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

func (g gen) policy(fam string, n int) string {
	var b strings.Builder
	for range n {
		sub, pat, act, eft := quote(g.pick(genSubjects)), g.pattern(), g.pAct(), g.eft()
		if k := objectKind(pat); eft == "deny" && k != "" && act != "*" && !slices.Contains(compatible[k], act) {
			act = "*" // a deny rule that can never match is refused at load
		}
		obj := quote(pat)
		switch fam {
		case "machine":
			fmt.Fprintf(&b, "p, %s, %s, %s, %s, %s\n", g.pick([]string{"user", "client", "*"}), sub, obj, act, eft)
		case "tenant_rbac", "tenant_rbac_roles":
			fmt.Fprintf(&b, "p, %s, %s, %s, %s, %s\n", sub, g.pick([]string{"t1", "t2", "*"}), obj, act, eft)
		default:
			fmt.Fprintf(&b, "p, %s, %s, %s, %s\n", sub, obj, act, eft)
		}
		if fam == "scopes" && g.r.IntN(3) == 0 {
			fmt.Fprintf(&b, "p2, %s, %s, %s\n", g.pick([]string{"s1", "s2", "s3"}), quote(g.pattern()), g.pAct())
		}
		if strings.HasSuffix(fam, "_roles") {
			g.roleLinks(&b, fam)
		}
	}
	return b.String()
}

// roleLinks adds random g (and g2) lines, cycles included, and sometimes a
// chain deeper than Casbin's 10-level role hierarchy limit.
func (g gen) roleLinks(b *strings.Builder, fam string) {
	if g.r.IntN(2) == 0 {
		fmt.Fprintf(b, "g, %s, %s\n", quote(g.pick(genSubjects)), quote(g.pick(genSubjects)))
	}
	if fam == "tenant_rbac_roles" && g.r.IntN(2) == 0 {
		fmt.Fprintf(b, "g2, %s, %s, %s\n", quote(g.pick(genSubjects)), quote(g.pick(genSubjects)), g.pick([]string{"t1", "t2", "t3"}))
	}
	if g.r.IntN(15) == 0 {
		link := "g"
		if fam == "tenant_rbac_roles" && g.r.IntN(2) == 0 {
			link = "g2"
		}
		prev := g.pick(genSubjects)
		for i := range 13 {
			next := fmt.Sprintf("role:chain%d", i)
			if link == "g2" {
				fmt.Fprintf(b, "g2, %s, %s, t1\n", quote(prev), next)
			} else {
				fmt.Fprintf(b, "g, %s, %s\n", quote(prev), next)
			}
			prev = next
		}
		chainTo := fmt.Sprintf("role:chain%d", 8+g.r.IntN(5))
		if fam == "tenant_rbac_roles" {
			fmt.Fprintf(b, "p, %s, *, *, *, %s\n", chainTo, g.eft())
		} else {
			fmt.Fprintf(b, "p, %s, *, *, %s\n", chainTo, g.eft())
		}
	}
}

func (g gen) request() *request {
	q := &request{obj: g.object(), act: g.pick(genActions), kind: g.pick([]string{"user", "client"}), dom: g.pick([]string{"t1", "t2", "t3"})}
	for _, s := range genSubjects {
		if g.r.IntN(3) == 0 {
			q.subs = append(q.subs, s)
		}
	}
	return q
}

// TestDifferentialIndexVsEnforce proves that the compiled index and Casbin's
// Enforce agree on the effect AND on the reported rule, and that the scope
// index agrees with Casbin evaluating each p2 scope, over random policies
// and requests for every indexed family.
//
// It runs once with a fixed seed (the regression corpus) and once with a
// fresh random seed, printed on failure; CASBINAUTHZ_SEED=<n> reruns one.
func TestDifferentialIndexVsEnforce(t *testing.T) {
	t.Parallel()
	for _, fam := range []string{"rbac", "scopes", "machine", "tenant_rbac", "rbac_roles", "tenant_rbac_roles"} {
		for _, seed := range diffSeeds(t) {
			t.Run(fmt.Sprintf("%s/seed=%d", fam, seed), func(t *testing.T) {
				t.Parallel()
				reportSeed(t, seed)
				// The match cache is disabled for odd seeds, so both paths are compared.
				diffFamily(t, fam, seed, map[bool]int{true: -1, false: 0}[seed%2 == 1])
			})
		}
	}
}

func diffFamily(t *testing.T, fam string, seed uint64, matchCache int) {
	g := gen{rand.New(rand.NewPCG(seed, uint64(len(fam))))}
	comp, err := newCompiler(Config{Model: mustModel(t, fam), CacheSize: -1, MatchCacheBytes: matchCache})
	if err != nil {
		t.Fatal(err)
	}
	if comp.fam == nil {
		t.Fatal("family not detected")
	}
	var checked, allows, denies, denyRules, scoped int
	for range 75 {
		snap, err := comp.compile([]byte(g.policy(fam, 1+g.r.IntN(40))))
		if err != nil {
			t.Fatal(err)
		}
		e := snap.enf.(*casbin.Enforcer)
		for range diffRounds(60) {
			q := g.request()
			got, gotRule, err := snap.idx.decide(q)
			if err != nil {
				t.Fatal(err)
			}
			want, wantRule := enforceOracle(t, snap, e, q)
			if got != want || gotRule != wantRule {
				t.Fatalf("request %+v: index (%t, %q), Enforce (%t, %q)\npolicy:\n%s", q, got, gotRule, want, wantRule, policyText(e))
			}
			checked++
			if got {
				allows++
			} else {
				denies++
				if gotRule != "" {
					denyRules++
				}
			}
			if snap.scopes != nil {
				gotScopes, err := snap.scopes.required(q.obj, q.act)
				if err != nil {
					t.Fatal(err)
				}
				wantScopes := scopeOracle(t, e, q)
				if !slices.Equal(gotScopes, wantScopes) {
					t.Fatalf("scopes for %s %s: index %v, Enforce %v\npolicy:\n%s", q.obj, q.act, gotScopes, wantScopes, policyText(e))
				}
				if len(gotScopes) > 0 {
					scoped++
				}
			}
		}
	}
	// The generator must exercise every outcome, or the test proves little.
	// The fixed seed must reach 5 % of each outcome; a fresh random seed
	// (which may draw a policy family's sparse corner) half that, so the
	// guard catches a broken generator without failing on an unlucky draw.
	div := 20
	if seed != 1 {
		div = 40
	}
	if allows < checked/div || denies < checked/div || denyRules < checked/(div*5/2) || (fam == "scopes" && scoped < checked/(div*5/2)) {
		t.Fatalf("weak coverage: %d checked, %d allow, %d deny, %d by deny rule, %d with scopes", checked, allows, denies, denyRules, scoped)
	}
	t.Logf("%d requests: %d allow, %d deny (%d by a deny rule), %d with required scopes", checked, allows, denies, denyRules, scoped)
}

// diffRounds is how many random requests (or policies) a differential test
// draws: n, or a third of it under the race detector (see raceEnabled).
func diffRounds(n int) int {
	if raceEnabled {
		return n / 3
	}
	return n
}

// diffSeeds returns the seeds of a differential test run: the fixed
// regression seed 1 and a fresh random one, or only CASBINAUTHZ_SEED.
func diffSeeds(t *testing.T) []uint64 {
	t.Helper()
	if v := os.Getenv("CASBINAUTHZ_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("CASBINAUTHZ_SEED: %v", err)
		}
		return []uint64{n}
	}
	return []uint64{1, rand.Uint64()}
}

// reportSeed prints the seed when the test fails, so the run can be
// reproduced.
func reportSeed(t *testing.T, seed uint64) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("random seed %d; rerun with CASBINAUTHZ_SEED=%d", seed, seed)
		}
	})
}

// enforceOracle asks Casbin's EnforceEx: once with the subject list, or,
// for a role model, once per subject, combined as Casbin's deny-override
// effect does over all of them (first deny in policy order wins, else the
// first allow). For one subject the combination is checked against the
// single EnforceEx call itself.
func enforceOracle(t *testing.T, snap *snapshot, e *casbin.Enforcer, q *request) (bool, string) {
	t.Helper()
	explain := func(rv []any) (bool, string) {
		ok, ex, err := e.EnforceEx(rv...)
		if err != nil {
			t.Fatal(err)
		}
		if len(ex) == 0 {
			return ok, ""
		}
		return ok, "p, " + strings.Join(ex, ", ")
	}
	if !snap.perSubject {
		return explain(q.rvals(snap.toks))
	}
	ok, rule, err := snap.decidePerSubject(q)
	if err != nil {
		t.Fatal(err)
	}
	if len(q.subs) == 1 {
		if ok1, rule1 := explain(q.rvalsOne(snap.toks, q.subs[0])); ok1 != ok || rule1 != rule {
			t.Fatalf("per-subject combination (%t %q) differs from EnforceEx (%t %q)", ok, rule, ok1, rule1)
		}
	}
	return ok, rule
}

// scopeOracle asks Casbin, scope by scope, whether a p2 rule for that scope
// matches (obj, act).
func scopeOracle(t *testing.T, e *casbin.Enforcer, q *request) []string {
	t.Helper()
	rules, err := e.GetNamedPolicy("p2")
	if err != nil {
		t.Fatal(err)
	}
	var scopes []string
	for _, r := range rules {
		scopes = append(scopes, r[0])
	}
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	var out []string
	ctx := casbin.NewEnforceContext("2")
	for _, s := range scopes {
		ok, err := e.EnforceWithMatcher(`globMatch(r2.obj, p2.obj) && (p2.act == r2.act || p2.act == "*") && p2.scope == "`+s+`"`, ctx, q.obj, q.act)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			out = append(out, s)
		}
	}
	return out
}

func policyText(e *casbin.Enforcer) string {
	var b strings.Builder
	for _, pt := range []string{"p", "p2"} {
		rules, _ := e.GetNamedPolicy(pt)
		for _, r := range rules {
			b.WriteString(pt + ", " + strings.Join(r, ", ") + "\n")
		}
	}
	for _, gt := range []string{"g", "g2"} {
		links, _ := e.GetNamedGroupingPolicy(gt)
		for _, r := range links {
			b.WriteString(gt + ", " + strings.Join(r, ", ") + "\n")
		}
	}
	return b.String()
}

// TestDifferentialAuthorize compares whole decisions (allow, rule, reason,
// required scopes) of the indexed and the Enforce-backed authorizer for
// random principals on random scopes policies.
func TestDifferentialAuthorize(t *testing.T) {
	t.Parallel()
	for _, seed := range diffSeeds(t) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			reportSeed(t, seed)
			diffAuthorize(t, seed)
		})
	}
}

func diffAuthorize(t *testing.T, seed uint64) {
	g := gen{rand.New(rand.NewPCG(seed, 7))}
	groups := []string{"g1", "g2", "g3", "a,b", `"q"`, ""}
	var allows, stepups int
	// An unlucky random seed can generate policies with few step-ups in
	// the minimum number of rounds: more rounds are drawn from the same
	// seed until the coverage is reached (bounded: 4 x the minimum).
	rounds := diffRounds(100)
	done := 0
	for ; done < rounds || (allows < rounds/5 || stepups < rounds/5) && done < 4*rounds; done++ {
		pol := g.policy("scopes", 1+g.r.IntN(30))
		var as [2]*Authorizer
		for i, noIdx := range []bool{false, true} {
			a, err := New(Config{Model: mustModel(t, "scopes"), Source: StringSource(pol), DisableIndex: noIdx, CacheSize: 64})
			if err != nil {
				t.Fatal(err)
			}
			as[i] = a
		}
		for range 100 {
			p := &core.Principal{Kind: core.PrincipalUser, Subject: g.pick([]string{"u1", "u2", "c1"})}
			if g.r.IntN(3) == 0 {
				p.Kind, p.ClientID = core.PrincipalClient, "c1"
			}
			for _, gr := range groups {
				if g.r.IntN(3) == 0 {
					p.Groups = append(p.Groups, gr)
				}
			}
			for _, s := range []string{"s1", "s2", "s3"} {
				if g.r.IntN(2) == 0 {
					p.Scopes = append(p.Scopes, s)
				}
			}
			q := g.request()
			kind, name, _ := strings.Cut(q.obj, ":")
			perm := core.Permission{Kind: core.ObjectKind(kind), Name: name, Action: q.act}
			d1, err1 := as[0].Authorize(context.Background(), p, perm)
			d2, err2 := as[1].Authorize(context.Background(), p, perm)
			if err1 != nil || err2 != nil || d1.Allow != d2.Allow || d1.Rule != d2.Rule || d1.Reason != d2.Reason || !slices.Equal(d1.RequiredScopes, d2.RequiredScopes) {
				t.Fatalf("%+v %+v: index %+v (%v), enforce %+v (%v)\n%s", p, perm, d1, err1, d2, err2, pol)
			}
			if d1.Allow {
				allows++
			} else if len(d1.RequiredScopes) > 0 {
				stepups++
			}
		}
	}
	t.Logf("%d policies: %d allows, %d step-ups", done, allows, stepups)
	if allows < rounds/5 || stepups < rounds/5 {
		t.Fatalf("weak coverage after %d policies: %d allows, %d step-ups", done, allows, stepups)
	}
}
