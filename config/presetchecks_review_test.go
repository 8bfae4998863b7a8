package config_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/config"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// TestDisableChecksScopedAndExact: disable_checks turns a check off for
// its own issuer only (a second realm of the same preset keeps it), and a
// name that matches a check only by case, or is empty, fails the build.
func TestDisableChecksScopedAndExact(t *testing.T) {
	t.Parallel()
	idp := coretest.NewIdP(t)
	const aud = "https://mcp.example.com/mcp"
	realm := func(name, extra string) string {
		return "  - preset: keycloak\n    url: " + idp.Issuer() + "\n    realm: " + name + "\n    jwks_uri: " + idp.JWKSURL() + "\n" + extra
	}
	head := "resource: " + aud + "\nauthenticate_only: true\nissuers:\n"
	b, _ := buildYAML(t, idp, head+realm("a", "    disable_checks: [keycloak.bearer_typ, keycloak.bearer_typ]\n")+realm("b", ""))
	idToken := func(r string) string {
		return idp.Mint(map[string]any{"iss": idp.Issuer() + "/realms/" + r, "aud": aud, "sub": "alice", "azp": "app", "typ": "ID"}, coretest.WithTyp("JWT"))
	}
	if err := authenticate(b, idToken("a")); err != nil {
		t.Fatalf("realm a, check disabled: %v", err)
	}
	if err := authenticate(b, idToken("b")); !errors.Is(err, core.ErrMapping) || !strings.Contains(err.Error(), "keycloak.bearer_typ") {
		t.Fatalf("realm b kept its check: got %v", err)
	}
	for _, name := range []string{"Keycloak.Bearer_Typ", `""`, `"keycloak.bearer_typ "`} {
		f, err := config.Parse([]byte(head+realm("a", "    disable_checks: ["+name+"]\n")), config.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Build(context.Background(), t.TempDir(), config.Options{HTTPClient: idp.HTTPClient()}); err == nil || !strings.Contains(err.Error(), "no check") {
			t.Fatalf("disable_checks [%s]: got %v, want an unknown-check error", name, err)
		}
	}
}
