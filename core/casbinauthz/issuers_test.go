package casbinauthz

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/mapper"
	"github.com/mcpauthz/mcpauthz/core/verifier"
)

const (
	issX    = "https://x.example.com"
	issY    = "https://y.example.com"
	issZ    = "https://login.microsoftonline.com/{tenantid}/v2.0"
	guidA   = "11111111-2222-3333-4444-555555555555"
	guidB   = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	victimT = "acme"
)

var isolationIssuers = []Issuer{
	{Issuer: issX, Alias: "x", AssertsTenant: true},
	{Issuer: issY, Alias: "y"},
	{Issuer: issZ, Alias: "z"},
}

// Names chosen to collide: other issuers' URLs, aliases, tenants and
// namespaced spellings.
var isolationNames = []string{"alice", "bob", "eng", "admin", "ci", victimT, "x", "y", "z", issX, guidA, guidB,
	"x/" + victimT, victimT + "/group:eng", "x/user:alice", "user:alice", "*"}

// victimNamespaces are the namespaces the policy grants to.
var victimNamespaces = []string{"x", "x/" + victimT, "z/" + guidA}

// isolationPolicy writes random allow rules for principals of the victim
// namespaces only: no bare "*" subject and no alias-wide "x/*", which
// legitimately span tenants.
func isolationPolicy(r *rand.Rand, model string) string {
	var b strings.Builder
	objs := []string{"tool:deploy", "tool:*", "resource:docs://a", "prompt:p", "*"}
	for range 60 {
		ns := victimNamespaces[r.IntN(len(victimNamespaces))]
		var sub string
		if r.IntN(8) == 0 && ns != "x" {
			sub = ns + "/*"
		} else {
			kind := []string{"user:", "client:", "group:", "role:", "scope:"}[r.IntN(5)]
			sub = ns + "/" + kind + isolationNames[r.IntN(len(isolationNames))]
		}
		obj, act := objs[r.IntN(len(objs))], []string{"call", "read", "get", "*"}[r.IntN(4)]
		if strings.HasSuffix(model, "_roles") && r.IntN(3) == 0 {
			// A role link inside the namespace, and a rule for the linked role.
			role := fmt.Sprintf("%s/role:linked%d", ns, r.IntN(3))
			if !strings.HasSuffix(sub, "/*") {
				fmt.Fprintf(&b, "g, %s, %s\n", sub, role)
			}
			sub = role
		}
		switch model {
		case "tenant_rbac", "tenant_rbac_roles":
			dom := ns
			if r.IntN(4) == 0 {
				dom = "*"
			}
			fmt.Fprintf(&b, "p, %s, %s, %s, %s, allow\n", sub, dom, obj, act)
		case "machine":
			fmt.Fprintf(&b, "p, %s, %s, %s, %s, allow\n", []string{"user", "client", "*"}[r.IntN(3)], sub, obj, act)
		case "abac", "abac_args":
			fmt.Fprintf(&b, "p, %s, %s, %s, true, allow\n", sub, obj, act)
		default:
			fmt.Fprintf(&b, "p, %s, %s, %s, allow\n", sub, obj, act)
		}
	}
	return b.String()
}

type isoToken struct {
	claims *core.Claims
	victim bool // issued in a victim namespace (positive control)
}

// isolationToken makes a token of a random issuer whose claims reuse the
// victims' names; victim reports whether its namespace is a victim's.
func isolationToken(r *rand.Rand) isoToken {
	pick := func() string { return isolationNames[r.IntN(len(isolationNames))] }
	raw := map[string]any{}
	var iss, ns string
	switch r.IntN(5) {
	case 0: // Y: never asserts tenants, whatever its claims say
		iss, ns = issY, "y"
		raw["tid"] = []string{victimT, guidA, issX, "x"}[r.IntN(4)]
	case 1: // X with another tenant
		iss, ns = issX, "x/"+guidB
		raw["tenant"] = guidB
	case 2: // Z, another Entra tenant
		iss, ns = strings.Replace(issZ, "{tenantid}", guidB, 1), "z/"+guidB
		raw["tid"] = guidB
	case 3: // victim: X with the victim tenant, or without tenant
		iss, ns = issX, "x"
		if r.IntN(2) == 0 {
			raw["tenant"], ns = victimT, "x/"+victimT
		}
	default: // victim: Z tenant A
		iss, ns = strings.Replace(issZ, "{tenantid}", guidA, 1), "z/"+guidA
		raw["tid"] = guidA
	}
	raw["iss"] = iss
	sub := pick()
	raw["sub"], raw["oid"] = sub, sub
	if r.IntN(3) == 0 {
		raw["client_id"] = pick()
		if r.IntN(2) == 0 {
			raw["sub"], raw["oid"] = raw["client_id"], raw["client_id"]
		}
	}
	var groups, roles []any
	for range r.IntN(4) {
		groups = append(groups, pick())
		roles = append(roles, pick())
	}
	raw["groups"], raw["roles"] = groups, roles
	raw["scope"] = pick() + " " + pick()
	if r.IntN(6) == 0 {
		raw["idp_iss"] = issX
	}
	c := &core.Claims{Issuer: iss, Subject: raw["sub"].(string), Raw: rawOf(raw)}
	if s, ok := raw["client_id"].(string); ok {
		c.ClientID = s
	}
	c.Scopes = strings.Fields(raw["scope"].(string))
	// idp_iss becomes part of an asserted tenant (core.ProviderTenant), so an
	// X token carrying it is in another namespace; a template issuer's
	// tenant is the one in "iss" whatever the claims say.
	victim := slices.Contains(victimNamespaces, ns) && (iss != issX || raw["idp_iss"] == nil)
	return isoToken{claims: c, victim: victim}
}

// TestIssuerIsolationRandomized is the §3 figure: with three trusted
// issuers (one a "{tenantid}" template), over every shipped model and the
// shipped mappers, 0 decisions where a token of one issuer or tenant
// matches a rule written for another's principals, groups, roles or
// tenants.
func TestIssuerIsolationRandomized(t *testing.T) {
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	mappers := map[string]core.ClaimMapper{"core.DefaultMapper": core.DefaultMapper()}
	std, err := mapper.Standard(mapper.Config{})
	if err != nil {
		t.Fatal(err)
	}
	mappers["mapper.Standard"] = std
	if m, err := mapper.Okta(); err == nil {
		mappers["mapper.Okta"] = m
	} else {
		t.Fatal(err)
	}
	if m, err := mapper.Keycloak(mapper.KeycloakConfig{}); err == nil {
		mappers["mapper.Keycloak"] = m
	} else {
		t.Fatal(err)
	}
	if m, err := mapper.Entra(mapper.EntraConfig{AllowAnyTenant: true}); err == nil {
		mappers["mapper.Entra"] = m
	} else {
		t.Fatal(err)
	}
	perms := []core.Permission{
		tool("deploy"), tool("echo"),
		{Kind: core.ObjectResource, Name: "docs://a", Action: core.ActionRead, Method: "resources/read"},
		{Kind: core.ObjectPrompt, Name: "p", Action: core.ActionGet, Method: "prompts/get"},
	}
	total, violations, controlAllows := 0, 0, 0
	for _, model := range casbinmodels.Names() {
		r := rand.New(rand.NewPCG(seed, uint64(len(model))))
		pol := isolationPolicy(r, model)
		for _, cacheSize := range []int{0, -1} {
			a, err := New(Config{Model: mustModel(t, model), Source: StringSource(pol), Issuers: isolationIssuers, CacheSize: cacheSize})
			if err != nil {
				t.Fatalf("%s: %v", model, err)
			}
			for mname, mp := range mappers {
				for range 150 {
					tok := isolationToken(r)
					p, err := mp.MapClaims(context.Background(), tok.claims)
					if err != nil {
						continue // this mapper refuses the token's shape
					}
					// The principal's true namespace, from its verified
					// issuer and the tenant its mapper asserted.
					victim := false
					switch {
					case p.Issuer == issX && p.Tenant == "":
						victim = true
					case p.Issuer == issX:
						victim = p.Tenant == victimT
					case p.Issuer == strings.Replace(issZ, "{tenantid}", guidA, 1):
						victim = true
					}
					tok.victim = victim
					for _, perm := range perms {
						d, err := a.Authorize(context.Background(), p, perm)
						if err != nil {
							t.Fatalf("%s/%s: %v", model, mname, err)
						}
						total++
						switch {
						case d.Allow && tok.victim:
							controlAllows++
						case d.Allow:
							violations++
							if violations <= 5 {
								t.Errorf("%s/%s: %s (tenant %q) allowed %s by %q", model, mname, p, p.Tenant, perm.Object(), d.Rule)
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d decisions, %d cross-issuer matches, %d allows for the victims' own tokens (control)", total, violations, controlAllows)
	if violations != 0 {
		t.Fatalf("%d cross-issuer matches", violations)
	}
	if total < 5000 || controlAllows == 0 {
		t.Fatalf("test too weak: %d decisions, %d control allows", total, controlAllows)
	}
}

// TestIssuerIsolationRegression: the reported case. Issuer Y's token with
// tenant = X's issuer URL or X's tenant name, and X's user and group names,
// got X's rules; namespaced, it gets nothing.
func TestIssuerIsolationRegression(t *testing.T) {
	t.Parallel()
	pol := "p, x/acme/group:eng, x/acme, tool:deploy, call, allow\np, x/user:alice, x, tool:deploy, call, allow\np, *, " + issX + ", tool:deploy, call, allow\n"
	a, err := New(Config{Model: mustModel(t, "tenant_rbac"), Source: StringSource(pol), Issuers: isolationIssuers})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*core.Principal{
		{Kind: core.PrincipalUser, Issuer: issY, Subject: "alice", Tenant: issX, Groups: []string{"eng"}},
		{Kind: core.PrincipalUser, Issuer: issY, Subject: "alice", Tenant: "acme", Groups: []string{"eng"}},
		{Kind: core.PrincipalUser, Issuer: issY, Subject: "alice", Tenant: "x/acme", Groups: []string{"eng"}},
		{Kind: core.PrincipalUser, Issuer: "https://unknown.example.com", Subject: "alice", Tenant: "acme"},
	} {
		if d, _ := a.Authorize(context.Background(), p, tool("deploy")); d.Allow {
			t.Errorf("%s tenant %q: allowed by %q", p, p.Tenant, d.Rule)
		}
	}
	for _, p := range []*core.Principal{
		{Kind: core.PrincipalUser, Issuer: issX, Subject: "bob", Tenant: "acme", Groups: []string{"eng"}},
		{Kind: core.PrincipalUser, Issuer: issX, Subject: "alice"},
	} {
		if d, _ := a.Authorize(context.Background(), p, tool("deploy")); !d.Allow {
			t.Errorf("%s tenant %q: denied (%s)", p, p.Tenant, d.Reason)
		}
	}
	// Lint flags rules that no namespaced caller can match.
	var warns []string
	for _, f := range LintWith(mustModel(t, "tenant_rbac"), []byte(pol), LintOptions{Issuers: isolationIssuers}) {
		warns = append(warns, f.String())
	}
	if len(warns) != 1 || !strings.Contains(warns[0], `domain "`+issX+`" matches no caller`) {
		t.Fatalf("lint: %q", warns)
	}
}

// TestCoreNewRefusesSharedSubjects: core.New refuses two trusted issuers
// (or a template) with an authorizer that does not namespace them, unless
// InsecureSharedSubjects is set.
func TestCoreNewRefusesSharedSubjects(t *testing.T) {
	t.Parallel()
	newVerifier := func(iss ...string) core.TokenVerifier {
		var cfg verifier.Config
		for _, i := range iss {
			cfg.Issuers = append(cfg.Issuers, verifier.IssuerConfig{Issuer: i})
		}
		cfg.Audience = []string{"https://mcp.example.com/mcp"}
		v, err := verifier.New(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	plain, err := New(Config{Model: mustModel(t, "rbac"), Source: StringSource("p, *, tool:echo, call, allow\n")})
	if err != nil {
		t.Fatal(err)
	}
	isolated, err := New(Config{Model: mustModel(t, "rbac"), Source: StringSource("p, *, tool:echo, call, allow\n"), Issuers: isolationIssuers})
	if err != nil {
		t.Fatal(err)
	}
	partial, err := New(Config{Model: mustModel(t, "rbac"), Source: StringSource("p, *, tool:echo, call, allow\n"), Issuers: isolationIssuers[:1]})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		v        core.TokenVerifier
		a        core.Authorizer
		insecure bool
		ok       bool
	}{
		{"one issuer, plain", newVerifier(issX), plain, false, true},
		{"two issuers, plain", newVerifier(issX, issY), plain, false, false},
		{"template, plain", newVerifier(issZ), plain, false, false},
		{"two issuers, plain, insecure opt-out", newVerifier(issX, issY), plain, true, true},
		{"two issuers, isolated", newVerifier(issX, issY), isolated, false, true},
		{"three issuers, isolated", newVerifier(issX, issY, issZ), isolated, false, true},
		{"issuer missing from Config.Issuers", newVerifier(issX, issY), partial, false, false},
	}
	for _, c := range cases {
		_, err := core.New(core.Config{
			Resource: "https://mcp.example.com/mcp", Verifier: c.v, Authorizer: c.a, InsecureSharedSubjects: c.insecure,
			Metadata: core.ProtectedResourceMetadata{AuthorizationServers: []string{issX}},
		})
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, core.ErrSharedSubjects)) {
			t.Errorf("%s: core.New = %v, want ok=%t", c.name, err, c.ok)
		}
	}
}

// TestIssuerIsolationConditions: identities read by abac conditions are
// namespaced too, so a condition written for X's alice never matches Y's.
func TestIssuerIsolationConditions(t *testing.T) {
	t.Parallel()
	pol := "p, *, tool:deploy, call, r.attrs.sub == 'x/alice', allow\n" +
		"p, *, tool:echo, call, r.attrs.sub == 'alice', allow\n" +
		"p, *, tool:ci, call, r.attrs.client_id == 'y/bot', allow\n"
	a, err := New(Config{Model: mustModel(t, "abac"), Source: StringSource(pol), Issuers: isolationIssuers})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		p     *core.Principal
		perm  string
		allow bool
	}{
		{&core.Principal{Kind: core.PrincipalUser, Issuer: issX, Subject: "alice"}, "deploy", true},
		{&core.Principal{Kind: core.PrincipalUser, Issuer: issY, Subject: "alice"}, "deploy", false},
		{&core.Principal{Kind: core.PrincipalUser, Issuer: issY, Subject: "x/alice"}, "deploy", false},
		{&core.Principal{Kind: core.PrincipalUser, Issuer: issX, Subject: "alice"}, "echo", false},
		{&core.Principal{Kind: core.PrincipalUser, Issuer: issY, Subject: "alice"}, "echo", false},
		{&core.Principal{Kind: core.PrincipalClient, Issuer: issY, Subject: "bot", ClientID: "bot"}, "ci", true},
		{&core.Principal{Kind: core.PrincipalClient, Issuer: issX, Subject: "bot", ClientID: "bot"}, "ci", false},
	} {
		d, err := a.Authorize(context.Background(), tc.p, tool(tc.perm))
		if err != nil {
			t.Fatal(err)
		}
		if d.Allow != tc.allow {
			t.Errorf("%s %s: allow = %t, want %t (%s)", tc.p, tc.perm, d.Allow, tc.allow, d.Reason)
		}
	}
}

// TestIssuerIsolationConditionsTenantSlash: a namespaced r.attrs.sub splits
// one way. Issuer x asserts tenants; its tenant-less "acme/alice" must not
// become acme's "alice" in a condition.
func TestIssuerIsolationConditionsTenantSlash(t *testing.T) {
	t.Parallel()
	pol := "p, *, tool:deploy, call, r.attrs.sub == 'x/acme/alice', allow\n" +
		"p, *, tool:ci, call, r.attrs.client_id == 'x/acme/bot', allow\n"
	a, err := New(Config{Model: mustModel(t, "abac"), Source: StringSource(pol), Issuers: isolationIssuers})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		p     *core.Principal
		perm  string
		allow bool
	}{
		{&core.Principal{Kind: core.PrincipalUser, Issuer: issX, Tenant: victimT, Subject: "alice"}, "deploy", true},
		{&core.Principal{Kind: core.PrincipalUser, Issuer: issX, Subject: "acme/alice"}, "deploy", false},
		{&core.Principal{Kind: core.PrincipalClient, Issuer: issX, Tenant: victimT, Subject: "bot", ClientID: "bot"}, "ci", true},
		{&core.Principal{Kind: core.PrincipalClient, Issuer: issX, Subject: "acme/bot", ClientID: "acme/bot"}, "ci", false},
	} {
		d, err := a.Authorize(context.Background(), tc.p, tool(tc.perm))
		if err != nil {
			t.Fatal(err)
		}
		if d.Allow != tc.allow {
			t.Errorf("%s %s: allow = %t, want %t (%s)", tc.p, tc.perm, d.Allow, tc.allow, d.Reason)
		}
	}
}

// TestIssuerIsolationTenantTypePrefix: a tenant that looks like a typed
// subject ("user:acme") does not make its principals' subjects equal to a
// tenant-less principal's ("acme/user:alice"): ":" in a tenant is escaped.
func TestIssuerIsolationTenantTypePrefix(t *testing.T) {
	t.Parallel()
	a, err := New(Config{Model: mustModel(t, "rbac"), Issuers: isolationIssuers,
		Source: StringSource("p, x/user:acme/user:alice, tool:deploy, call, allow\n")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		p     *core.Principal
		allow bool
	}{
		{&core.Principal{Kind: core.PrincipalUser, Issuer: issX, Subject: "acme/user:alice"}, true},
		{&core.Principal{Kind: core.PrincipalUser, Issuer: issX, Tenant: "user:acme", Subject: "alice"}, false},
	} {
		d, err := a.Authorize(context.Background(), tc.p, tool("deploy"))
		if err != nil {
			t.Fatal(err)
		}
		if d.Allow != tc.allow {
			t.Errorf("%s: allow = %t, want %t (%s)", tc.p, d.Allow, tc.allow, d.Reason)
		}
	}
}
