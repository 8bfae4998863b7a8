package config_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/config"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// TestEquivalentIssuersFromFile: issuers[].equivalent_issuers lets an IdP
// reachable under two names (here an Okta org behind a custom domain) be
// one issuer: a token carrying either name is accepted with the IdP's keys
// and reported with the configured issuer (so policy subjects and session
// owners do not depend on the hostname); other names stay refused, and a
// "{tenantid}" issuer cannot have equivalents.
func TestEquivalentIssuersFromFile(t *testing.T) {
	t.Parallel()
	idp := coretest.NewIdP(t)
	const aud = "https://mcp.example.com/mcp"
	y := "resource: " + aud + "\nauthenticate_only: true\nissuers:\n  - preset: okta\n    domain: login.acme.example\n" +
		"    equivalent_issuers: [\"https://acme.okta.com/oauth2/default\"]\n    jwks_uri: " + idp.JWKSURL() + "\n"
	b, _ := buildYAML(t, idp, y)
	ctx := context.Background()
	for _, tc := range []struct{ iss, want string }{
		{"https://login.acme.example/oauth2/default", "https://login.acme.example/oauth2/default"},
		{"https://acme.okta.com/oauth2/default", "https://login.acme.example/oauth2/default"},
		{"https://acme.okta.com/oauth2/other", ""},
		{"https://evil.okta.com/oauth2/default", ""},
	} {
		tok := idp.Mint(map[string]any{"iss": tc.iss, "aud": aud, "sub": "alice@acme.example", "uid": "00u1", "cid": "app"}, coretest.WithTyp("JWT"))
		c, err := b.Config.Verifier.Verify(ctx, tok)
		if tc.want == "" {
			if err == nil {
				t.Errorf("%s: accepted", tc.iss)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.iss, err)
		}
		p, err := b.Config.Mapper.MapClaims(ctx, c)
		if err != nil {
			t.Fatalf("%s: %v", tc.iss, err)
		}
		if c.Issuer != tc.want || p.Issuer != tc.want {
			t.Errorf("%s: claims issuer %q, principal issuer %q, want %q", tc.iss, c.Issuer, p.Issuer, tc.want)
		}
	}
	tmpl := "resource: " + aud + "\nauthenticate_only: true\nissuers:\n  - issuer: \"https://login.microsoftonline.com/{tenantid}/v2.0\"\n" +
		"    equivalent_issuers: [\"https://sts.windows.net/x/\"]\n    jwks_uri: " + idp.JWKSURL() + "\n"
	f, err := config.Parse([]byte(tmpl), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Build(ctx, "", config.Options{HTTPClient: idp.HTTPClient()}); err == nil || !strings.Contains(err.Error(), "EquivalentIssuers needs an exact issuer") {
		t.Fatalf("template with equivalents: %v", err)
	}
}
