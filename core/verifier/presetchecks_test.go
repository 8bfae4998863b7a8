package verifier

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/mapper"
)

// TestPresetChecksRunInVerify: the Go API path. A caller that replaces a
// preset entry's Mapper, or maps with a core.Config.Mapper of its own and
// never calls Verifier.Mapper, still gets every check of the preset,
// because Verify runs them. Before, the checks lived in the preset's mapper
// (Keycloak's in a wrapper around it), so both paths dropped them.
func TestPresetChecksRunInVerify(t *testing.T) {
	presets := testPresets(t)
	tokens := map[string]goldenToken{}
	for _, g := range loadGoldenTokens(t) {
		tokens[g.file] = g
	}
	custom, err := mapper.Standard(mapper.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		preset, token, check string
		edit                 func(c map[string]any)
	}{
		{"keycloak", "keycloak", "keycloak.bearer_typ", func(c map[string]any) { c["typ"] = "ID" }},
		{"keycloak", "keycloak", "keycloak.bearer_typ", func(c map[string]any) { delete(c, "typ") }},
		{"entra", "entra", "entra.group_overage", func(c map[string]any) { c["hasgroups"] = true }},
		{"google", "google", "google.verified_email", func(c map[string]any) { c["sub"], c["email"] = "1", "alice@example.com"; c["email_verified"] = false }},
		{"okta", "okta", "okta.token_shape", func(c map[string]any) { delete(c, "uid") }},
	} {
		t.Run(tc.check, func(t *testing.T) {
			g := tokens[tc.token]
			c := cloneMap(g.Claims)
			tc.edit(c)
			tok := signGolden(t, g.idp, cloneMap(g.Header), c)
			p := presets[tc.preset]
			p.Issuers = append([]IssuerConfig(nil), p.Issuers...)
			for i := range p.Issuers {
				p.Issuers[i].Mapper = custom
			}
			v := presetVerifier(t, p, nil)
			_, err := v.Verify(context.Background(), tok)
			if !errors.Is(err, core.ErrMapping) || !strings.Contains(err.Error(), "check "+tc.check) {
				t.Fatalf("Verify: got %v, want a refusal by %s", err, tc.check)
			}
			for i := range p.Issuers {
				p.Issuers[i].DisableChecks = []string{tc.check}
			}
			cl, err := presetVerifier(t, p, nil).Verify(context.Background(), tok)
			if err != nil {
				t.Fatalf("with DisableChecks [%s]: %v", tc.check, err)
			}
			if _, err := custom.MapClaims(context.Background(), cl); err != nil {
				t.Fatalf("the custom mapper refuses the token itself: %v", err)
			}
		})
	}
}

// TestPresetMapperRunsEachCheckOnce: a preset entry's Mapper is the preset
// mapper without its checks (Verify runs them), and the checks are exactly
// those of the mapper preset plus Keycloak's payload typ.
func TestPresetMapperRunsEachCheckOnce(t *testing.T) {
	want := map[string][]string{
		"okta":     {"okta.token_shape"},
		"entra":    {"entra.access_token", "entra.tenant", "entra.issuer_tenant", "entra.group_overage"},
		"keycloak": {"keycloak.bearer_typ"},
		"auth0":    nil,
		"google":   {"google.verified_email"}, // testPresets allows service accounts
	}
	for name, p := range testPresets(t) {
		for _, e := range p.Issuers {
			var got []string
			for _, ch := range e.Checks {
				got = append(got, ch.Name)
			}
			if strings.Join(got, ",") != strings.Join(want[name], ",") {
				t.Errorf("%s: checks %v, want %v", name, got, want[name])
			}
			if m, ok := e.Mapper.(*mapper.Mapper); !ok || len(m.Checks()) != 0 {
				t.Errorf("%s: Mapper %T runs checks itself", name, e.Mapper)
			}
		}
	}
}
