package config_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/config"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// TestMapperOverrideKeepsPresetChecks: a per-issuer `mapper:` changes how a
// preset's claims are mapped and never drops the preset's security checks.
// Each token below is refused by a check of its preset and is accepted by
// the override mapper on its own (the "accepted with disable_checks" column
// shows that the check, and only the check, refuses it). Before the checks
// were kept apart from the mapper, every one of them was accepted.
func TestMapperOverrideKeepsPresetChecks(t *testing.T) {
	t.Parallel()
	idp := coretest.NewIdP(t)
	const aud = "https://mcp.example.com/mcp"
	const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	const otherTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"
	const entraApp = "6e74172b-be56-4843-9ff4-e66a39bb12e3"
	override := "    mapper: {subject: sub, client_id: [azp, client_id, cid], groups: [groups]}\n"
	kcIss := idp.Issuer() + "/realms/acme"
	entraIss := "https://login.microsoftonline.com/" + tenant + "/v2.0"
	for _, tc := range []struct {
		name, issuer, check string
		claims              map[string]any
		alsoDisable         string // another check the token fails
	}{
		{"keycloak ID token (payload typ ID)", "preset: keycloak, url: " + idp.Issuer() + ", realm: acme", "keycloak.bearer_typ",
			map[string]any{"iss": kcIss, "aud": aud, "sub": "alice", "azp": "app", "typ": "ID"}, ""},
		{"keycloak refresh token", "preset: keycloak, url: " + idp.Issuer() + ", realm: acme", "keycloak.bearer_typ",
			map[string]any{"iss": kcIss, "aud": aud, "sub": "alice", "azp": "app", "typ": "Refresh"}, ""},
		{"google service account", "preset: google", "google.service_account",
			map[string]any{"iss": "https://accounts.google.com", "aud": aud, "sub": "1234", "azp": "1234", "email": "sa@p.iam.gserviceaccount.com", "email_verified": true}, ""},
		{"google unverified e-mail", "preset: google", "google.verified_email",
			map[string]any{"iss": "https://accounts.google.com", "aud": aud, "sub": "u1", "azp": "cli", "email": "a@gmail.com", "email_verified": false}, ""},
		{"google other hosted domain", "preset: google, hosted_domains: [acme.example]", "google.hosted_domain",
			map[string]any{"iss": "https://accounts.google.com", "aud": aud, "sub": "u1", "azp": "cli", "email": "a@evil.example", "email_verified": true, "hd": "evil.example"}, ""},
		{"entra tid of another tenant", "preset: entra, tenant_ids: [" + tenant + "], client_id: " + entraApp, "entra.tenant",
			map[string]any{"iss": entraIss, "aud": entraApp, "sub": "u", "oid": "u", "azp": "cli", "tid": otherTenant}, ", entra.issuer_tenant"},
		{"entra ID token of the app", "preset: entra, tenant_ids: [" + tenant + "], client_id: " + entraApp, "entra.access_token",
			map[string]any{"iss": entraIss, "aud": entraApp, "sub": "u", "oid": "o", "tid": tenant, "roles": []string{"Admin"}}, ""},
		{"entra group overage", "preset: entra, tenant_ids: [" + tenant + "], client_id: " + entraApp, "entra.group_overage",
			map[string]any{"iss": entraIss, "aud": entraApp, "sub": "u", "azp": "cli", "tid": tenant, "_claim_names": map[string]any{"groups": "src1"}}, ""},
		{"okta token of neither shape", "preset: okta, domain: acme.okta.com", "okta.token_shape",
			map[string]any{"iss": "https://acme.okta.com/oauth2/default", "aud": aud, "sub": "alice@acme.example", "cid": "app"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok := idp.Mint(tc.claims, coretest.WithTyp("JWT"))
			head := "resource: " + aud + "\nauthenticate_only: true\nissuers:\n  - " + strings.ReplaceAll(tc.issuer, ", ", "\n    ") + "\n    jwks_uri: " + idp.JWKSURL() + "\n"
			b, _ := buildYAML(t, idp, head+override)
			if err := authenticate(b, tok); !errors.Is(err, core.ErrMapping) || !strings.Contains(err.Error(), tc.check) {
				t.Fatalf("with a mapper override: got %v, want a refusal by %s", err, tc.check)
			}
			if err := authenticate(mustBuild(t, idp, head), tok); !errors.Is(err, core.ErrMapping) {
				t.Fatalf("preset mapper: got %v, want ErrMapping", err)
			}
			b, logs := buildYAML(t, idp, head+override+"    disable_checks: ["+tc.check+tc.alsoDisable+"]\n")
			if err := authenticate(b, tok); err != nil {
				t.Fatalf("override with disable_checks [%s]: %v (the check is not the only refusal)", tc.check, err)
			}
			if !strings.Contains(logs.String(), "security check disabled") || !strings.Contains(logs.String(), tc.check) {
				t.Fatalf("disabling %s was not logged: %s", tc.check, logs)
			}
		})
	}
}

// TestDisableChecksUnknownName: an opt-out must name a check of the issuer.
func TestDisableChecksUnknownName(t *testing.T) {
	t.Parallel()
	idp := coretest.NewIdP(t)
	for _, issuer := range []string{
		"preset: keycloak, url: " + idp.Issuer() + ", realm: acme",
		"issuer: " + idp.Issuer(),
	} {
		y := "resource: https://mcp.example.com/mcp\nauthenticate_only: true\nissuers:\n  - " + strings.ReplaceAll(issuer, ", ", "\n    ") + "\n    jwks_uri: " + idp.JWKSURL() +
			"\n    disable_checks: [keycloak.bearer_type]\n"
		f, err := config.Parse([]byte(y), config.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Build(context.Background(), t.TempDir(), config.Options{HTTPClient: idp.HTTPClient()}); err == nil ||
			!strings.Contains(err.Error(), `no check "keycloak.bearer_type"`) {
			t.Fatalf("%s: got %v, want an unknown-check error", issuer, err)
		}
	}
}

func buildYAML(t *testing.T, idp *coretest.IdP, y string) (*config.Built, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	f, err := config.Parse([]byte(y), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.Build(context.Background(), t.TempDir(), config.Options{HTTPClient: idp.HTTPClient(), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	return b, &logs
}

func mustBuild(t *testing.T, idp *coretest.IdP, y string) *config.Built {
	b, _ := buildYAML(t, idp, y)
	return b
}

// authenticate verifies tok and maps its claims as the Guard does.
func authenticate(b *config.Built, tok string) error {
	ctx := context.Background()
	c, err := b.Config.Verifier.Verify(ctx, tok)
	if err != nil {
		return err
	}
	_, err = b.Config.Mapper.MapClaims(ctx, c)
	return err
}
