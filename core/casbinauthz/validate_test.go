package casbinauthz

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/mapper"
	"github.com/mcpauthz/mcpauthz/core/verifier"
)

// TestOneValidator: New, Reload and LintWith share one validator. Every
// policy lint calls an error is refused at load (and keeps the last good
// policy on reload); every policy without lint errors loads.
func TestOneValidator(t *testing.T) {
	t.Parallel()
	clearance := []core.AttributeSpec{{Name: "clearance", Type: core.AttrNumber}}
	cases := []struct {
		name, model, policy string
		attrs               []core.AttributeSpec
		wantErr             string // "" = loads
	}{
		{"good rbac", "rbac", "p, *, tool:echo, call, allow\np, *, tool:rm, call, deny\n", nil, ""},
		{"deny cut to de", "rbac", "p, *, tool:echo, call, allow\np, *, tool:rm, call, de\n", nil, `effect "de"`},
		{"empty effect", "rbac", "p, *, tool:echo, call, allow\np, *, tool:rm, call, \n", nil, `effect ""`},
		{"field count", "rbac", "p, *, tool:echo, call\n", nil, "p has 3 fields"},
		{"unknown object prefix", "rbac", "p, *, tool:echo, call, allow\np, *, tol:rm, call, deny\n", nil, "unknown object prefix"},
		{"bad glob", "rbac", "p, *, tool:[, call, allow\n", nil, "invalid glob"},
		{"deny with misspelt action", "rbac", "p, *, tool:echo, call, allow\np, *, tool:rm, calls, deny\n", nil, `action "calls"`},
		{"deny with incompatible action", "rbac", "p, *, tool:echo, call, allow\np, *, tool:rm, read, deny\n", nil, "deny rule can never match"},
		{"deny with unknown subject prefix", "rbac", "p, *, tool:echo, call, allow\np, grp:x, tool:rm, call, deny\n", nil, `subject "grp:x"`},
		{"machine deny with misspelt kind", "machine", "p, *, *, tool:a, call, allow\np, usr, *, tool:a, call, deny\n", nil, `kind "usr"`},
		{"allow with misspelt action still loads", "rbac", "p, *, tool:echo, call, allow\np, *, tool:rm, calls, allow\n", nil, ""},
		{"bad condition", "abac", "p, *, tool:a, call, r.attrs.acr ==, allow\n", nil, "condition"},
		{"undeclared attribute", "abac", "p, *, tool:a, call, true, allow\np, *, tool:a, call, r.attrs.clearance < 3, deny\n", nil, `attribute "clearance" is not declared`},
		{"declared attribute", "abac", "p, *, tool:a, call, true, allow\np, *, tool:a, call, r.attrs.clearance < 3, deny\n", clearance, ""},
		{"built-in attributes", "abac", "p, *, tool:a, call, r.attrs.iss == 'x' && r.attrs.request.k == 1 && 'pwd' in r.attrs.amr, allow\n", nil, ""},
		{"tenant_rbac", "tenant_rbac", "p, *, t1, tool:a, call, allow\np, *, *, tool:a, call, deny\n", nil, ""},
		{"machine bad effect", "machine", "p, user, *, tool:a, call, alow\n", nil, `effect "alow"`},
		{"scopes p2", "scopes", "p, *, tool:a, call, allow\np2, mcp:a, tool:a, call\n", nil, ""},
		{"scopes p2 object", "scopes", "p, *, tool:a, call, allow\np2, mcp:a, tools:a, call\n", nil, "unknown object prefix"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			model := mustModel(t, c.model)
			var lintErrs []string
			for _, f := range LintWith(model, []byte(c.policy), LintOptions{Attributes: c.attrs}) {
				if f.Severity == SeverityError {
					lintErrs = append(lintErrs, f.Message)
				}
			}
			_, newErr := New(Config{Model: model, Source: StringSource(c.policy), Attributes: c.attrs})
			if (len(lintErrs) > 0) != (newErr != nil) {
				t.Fatalf("lint errors %q but New error %v: they must agree", lintErrs, newErr)
			}
			if c.wantErr == "" {
				if newErr != nil {
					t.Fatalf("New: %v", newErr)
				}
				return
			}
			if newErr == nil || !errors.Is(newErr, ErrPolicy) || !strings.Contains(newErr.Error(), c.wantErr) {
				t.Fatalf("New error = %v, want ErrPolicy containing %q", newErr, c.wantErr)
			}
			if !strings.Contains(strings.Join(lintErrs, "\n"), c.wantErr) {
				t.Fatalf("lint errors %q, want one containing %q", lintErrs, c.wantErr)
			}
			// Reload: the last good policy stays.
			path := filepath.Join(t.TempDir(), "p.csv")
			good := map[string]string{"abac": "p, *, tool:a, call, true, allow\n", "tenant_rbac": "p, *, *, tool:a, call, allow\n", "machine": "p, *, *, tool:a, call, allow\n"}[c.model]
			if good == "" {
				good = "p, *, tool:a, call, allow\n"
			}
			writeFile(t, path, good)
			a, err := New(Config{Model: model, Source: FileSource{Paths: []string{path}}, Attributes: c.attrs})
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, path, c.policy)
			if err := a.Reload(context.Background()); !errors.Is(err, ErrReload) {
				t.Fatalf("Reload = %v, want ErrReload", err)
			}
			if a.Version() != 1 {
				t.Fatalf("version %d after a refused reload", a.Version())
			}
		})
	}
}

// TestAttributeSchema: a token without a declared attribute is evaluated
// with the default, so a deny rule whose condition uses the missing
// attribute still matches (no 503, no allow); a wrongly typed attribute is
// denied, not an outage.
func TestAttributeSchema(t *testing.T) {
	t.Parallel()
	policy := `p, *, tool:secret, call, true, allow
p, *, tool:secret, call, r.attrs.clearance < 3, deny
p, *, tool:rm, call, true, allow
p, *, tool:rm, call, !('mfa' in r.attrs.amr), deny
p, *, tool:ship, call, true, allow
p, *, tool:ship, call, r.attrs.on_call != true, deny
`
	a, err := New(Config{Model: mustModel(t, "abac"), Source: StringSource(policy), Attributes: []core.AttributeSpec{
		{Name: "clearance", Type: core.AttrNumber},
		{Name: "on_call", Type: core.AttrBool, Default: false},
	}})
	if err != nil {
		t.Fatal(err)
	}
	with := func(attrs map[string]any) *core.Principal {
		p := user("u")
		p.Attributes = attrs
		return p
	}
	cases := []struct {
		name   string
		p      *core.Principal
		tool   string
		allow  bool
		reason string
	}{
		{"clearance missing: deny rule matches", with(nil), "secret", false, ReasonDenied},
		{"clearance low", with(map[string]any{"clearance": json.Number("2")}), "secret", false, ReasonDenied},
		{"clearance high", with(map[string]any{"clearance": json.Number("5")}), "secret", true, ReasonAllowed},
		{"clearance wrong type", with(map[string]any{"clearance": "5"}), "secret", false, ReasonBadAttribute},
		{"amr missing: MFA deny matches", with(nil), "rm", false, ReasonDenied},
		{"amr without mfa", with(map[string]any{"amr": []string{"pwd"}}), "rm", false, ReasonDenied},
		{"amr with mfa", with(map[string]any{"amr": []string{"pwd", "mfa"}}), "rm", true, ReasonAllowed},
		{"amr wrong type", with(map[string]any{"amr": "mfa"}), "rm", false, ReasonBadAttribute},
		{"on_call missing", with(nil), "ship", false, ReasonDenied},
		{"on_call true", with(map[string]any{"on_call": true}), "ship", true, ReasonAllowed},
	}
	for _, c := range cases {
		d, err := a.Authorize(context.Background(), c.p, tool(c.tool))
		if err != nil {
			t.Fatalf("%s: error %v (a missing attribute must not look like an outage)", c.name, err)
		}
		if d.Allow != c.allow || d.Reason != c.reason {
			t.Errorf("%s: got allow=%t reason=%q, want %t %q", c.name, d.Allow, d.Reason, c.allow, c.reason)
		}
	}
	if _, err := New(Config{Model: mustModel(t, "abac"), Source: StringSource(policy)}); !errors.Is(err, ErrPolicy) {
		t.Fatalf("undeclared attributes: New = %v, want ErrPolicy", err)
	}
	for _, bad := range [][]core.AttributeSpec{
		{{Name: "x", Type: "int"}},
		{{Name: "x y", Type: core.AttrString}},
		{{Name: "iss", Type: core.AttrString}},
		{{Name: "x", Type: core.AttrBool, Default: "yes"}},
	} {
		if _, err := New(Config{Model: mustModel(t, "abac"), Source: StringSource("p, *, tool:a, call, true, allow\n"), Attributes: bad}); !errors.Is(err, ErrModel) {
			t.Errorf("Attributes %v: New = %v, want ErrModel", bad, err)
		}
	}
}

// TestCoreNewChecksAttributes: core.New refuses a policy attribute that the
// configured mapper does not declare, or declares with another type.
func TestCoreNewChecksAttributes(t *testing.T) {
	t.Parallel()
	pol := StringSource("p, *, tool:a, call, r.attrs.clearance >= 3, allow\n")
	v, err := verifier.New(context.Background(), verifier.Config{Issuers: []verifier.IssuerConfig{{Issuer: issX}}, Audience: []string{"https://mcp.example.com/mcp"}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		claims map[string]string
		specs  []core.AttributeSpec
		ok     bool
	}{
		{"declared by the mapper", map[string]string{"clearance": "clearance"}, []core.AttributeSpec{{Name: "clearance", Type: core.AttrNumber}}, true},
		{"mapper does not produce it", nil, nil, false},
		{"type differs", map[string]string{"clearance": "clearance"}, nil, false},
	}
	for _, c := range cases {
		m, err := mapper.Standard(mapper.Config{AttributeClaims: c.claims, AttributeSpecs: c.specs})
		if err != nil {
			t.Fatal(err)
		}
		a, err := New(Config{Model: mustModel(t, "abac"), Source: pol, Attributes: []core.AttributeSpec{{Name: "clearance", Type: core.AttrNumber}}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = core.New(core.Config{
			Resource: "https://mcp.example.com/mcp", Verifier: v, Mapper: m, Authorizer: a,
			Metadata: core.ProtectedResourceMetadata{AuthorizationServers: []string{issX}},
		})
		if (err == nil) != c.ok {
			t.Errorf("%s: core.New = %v, want ok=%t", c.name, err, c.ok)
		}
	}
}
