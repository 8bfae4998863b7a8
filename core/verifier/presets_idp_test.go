package verifier

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
)

// TestPresetsRealTokenShapes runs documented token shapes of each IdP
// (user, machine, and the variants a newcomer meets: profile switches,
// versions, tenants, overage, service accounts) through the real verifier
// and the preset's mapper, and pins the principal or the refusal with its
// message. Each token starts from a golden token and is re-signed with the
// IdP's test key.
func TestPresetsRealTokenShapes(t *testing.T) {
	const (
		guest     = "9188040d-6c67-4c5b-b112-36a304b66dad"
		oktaAS    = "aus1a2b3c4EXAMPLE697"
		kcService = "8d1f2e3c-0000-4a5b-9c8d-7e6f5a4b3c2d"
	)
	presets := testPresets(t)
	// staticPreset swaps a preset's key source for the IdP's test key.
	staticPreset := func(p Preset, err error) Preset {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		for i := range p.Issuers {
			p.Issuers[i].JWKSURL, p.Issuers[i].DiscoveryURL = "", ""
			p.Issuers[i].JWKS = jwksOf(t, key(t, "RS256", p.Name), goldenKid(p.Name), "RS256")
		}
		return p
	}
	okta := presets["okta"]
	oktaCustom := staticPreset(Okta(OktaConfig{Domain: "acme.okta.com", AuthorizationServer: oktaAS, Audience: []string{testAud}}))
	entraOverage := staticPreset(Entra(EntraConfig{TenantIDs: []string{entraTenant}, ClientID: entraClient, AllowGroupOverage: true}))
	entraAny := staticPreset(Entra(EntraConfig{AllowAnyTenant: true, ClientID: entraClient, AcceptV1: true}))
	googleUsers := staticPreset(Google(GoogleConfig{Audience: []string{testAud}, HostedDomains: []string{"acme.example"}}))

	type check func(t *testing.T, p *core.Principal)
	kind := func(k core.PrincipalKind, id string) check {
		return func(t *testing.T, p *core.Principal) {
			t.Helper()
			if p.Kind != k || p.ID() != id {
				t.Errorf("principal %s %q, want %s %q", p.Kind, p.ID(), k, id)
			}
		}
	}
	tests := []struct {
		name   string
		preset Preset
		token  string // golden file
		edit   func(h, c map[string]any)
		want   string // errClass
		msg    string // substring of the error, when refused
		check  check
	}{
		// Okta custom authorization servers.
		{name: "okta user", preset: okta, token: "okta", want: "ok",
			check: kind(core.PrincipalUser, "user:https://acme.okta.com/oauth2/default||00u9z8y7x6EXAMPLE697")},
		{name: "okta client credentials (no uid, sub == cid)", preset: okta, token: "okta", edit: func(_, c map[string]any) {
			delete(c, "uid")
			delete(c, "groups")
			c["sub"], c["scp"] = c["cid"], []any{"mcp:tools"}
		}, want: "ok", check: kind(core.PrincipalClient, "client:https://acme.okta.com/oauth2/default|0oa8f3k2j1EXAMPLE697")},
		{name: "okta custom authorization server id", preset: oktaCustom, token: "okta", edit: func(_, c map[string]any) {
			c["iss"] = "https://acme.okta.com/oauth2/" + oktaAS
		}, want: "ok"},
		{name: "okta default server's default audience api://default", preset: okta, token: "okta", edit: func(_, c map[string]any) {
			c["aud"] = "api://default"
		}, want: "ErrAudience", msg: "api://default"},
		{name: "okta org authorization server", preset: okta, token: "okta", edit: func(h, c map[string]any) {
			c["iss"], h["typ"] = "https://acme.okta.com", "application/okta-internal-at+jwt"
		}, want: "ErrIssuer"},

		// Entra ID v1 and v2.
		{name: "entra v2 user", preset: presets["entra"], token: "entra", want: "ok",
			check: kind(core.PrincipalUser, "user:https://login.microsoftonline.com/"+entraTenant+"/v2.0|"+entraTenant+"|690222be-ff1a-4d56-abd1-7e4f7d38e474")},
		{name: "entra v2 user with app roles and scp", preset: presets["entra"], token: "entra", edit: func(_, c map[string]any) {
			c["roles"] = []any{"MCP.Admin"}
		}, want: "ok", check: func(t *testing.T, p *core.Principal) {
			if p.Kind != core.PrincipalUser || !slices.Equal(p.Roles, []string{"MCP.Admin"}) || !slices.Equal(p.Scopes, []string{"mcp.tools"}) {
				t.Errorf("user roles %v scopes %v", p.Roles, p.Scopes)
			}
		}},
		{name: "entra v2 app-only with idtyp", preset: presets["entra"], token: "entra-app", want: "ok", check: func(t *testing.T, p *core.Principal) {
			if p.Kind != core.PrincipalClient || p.ClientID != "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d" || !p.HasScope("Tools.Call") {
				t.Errorf("app-only: %s %s %v", p.Kind, p.ClientID, p.Scopes)
			}
		}},
		{name: "entra v2 app-only without idtyp (sub == oid, no scp)", preset: presets["entra"], token: "entra-app", edit: func(_, c map[string]any) {
			delete(c, "idtyp")
		}, want: "ok", check: kind(core.PrincipalClient, "client:https://login.microsoftonline.com/"+entraTenant+"/v2.0|9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d")},
		{name: "entra v1 user (App ID URI audience, appid)", preset: presets["entra"], token: "entra-v1", want: "ok", check: func(t *testing.T, p *core.Principal) {
			if p.Kind != core.PrincipalUser || p.ClientID != "4f0c2a9e-1b7d-4c3e-9a55-0d1e2f3a4b5c" || p.Subject != "690222be-ff1a-4d56-abd1-7e4f7d38e474" {
				t.Errorf("v1 user: %+v", p)
			}
		}},
		{name: "entra v1 app-only with the GUID audience", preset: presets["entra"], token: "entra-v1", edit: func(_, c map[string]any) {
			for _, k := range []string{"scp", "upn", "unique_name", "name", "given_name", "family_name", "amr", "acr"} {
				delete(c, k)
			}
			c["aud"], c["sub"], c["oid"], c["roles"] = entraClient, "0c4f1e2d-3b5a-4c6d-8e7f-9a0b1c2d3e4f", "0c4f1e2d-3b5a-4c6d-8e7f-9a0b1c2d3e4f", []any{"Tools.Call"}
		}, want: "ok", check: kind(core.PrincipalClient, "client:https://sts.windows.net/"+entraTenant+"/|4f0c2a9e-1b7d-4c3e-9a55-0d1e2f3a4b5c")},
		{name: "entra v2 aud as api:// URI (v2 always sends the GUID)", preset: staticPreset(Entra(EntraConfig{TenantIDs: []string{entraTenant}, ClientID: entraClient})),
			token: "entra", edit: func(_, c map[string]any) { c["aud"] = "api://mcp-server" }, want: "ErrAudience", msg: "api://mcp-server"},
		{name: "entra v1 token without AcceptV1: the refusal names the manifest setting", preset: staticPreset(Entra(EntraConfig{TenantIDs: []string{entraTenant}, ClientID: entraClient})),
			token: "entra-v1", want: "ErrIssuer", msg: "accessTokenAcceptedVersion"},
		{name: "entra groups overage (_claim_names) refused", preset: presets["entra"], token: "entra", edit: func(_, c map[string]any) {
			delete(c, "groups")
			c["_claim_names"] = map[string]any{"groups": "src1"}
			c["_claim_sources"] = map[string]any{"src1": map[string]any{"endpoint": "https://graph.microsoft.com/v1.0/users/x/getMemberObjects"}}
		}, want: "ErrMapping", msg: "groups overage"},
		{name: "entra groups overage (hasgroups) refused", preset: presets["entra"], token: "entra", edit: func(_, c map[string]any) {
			delete(c, "groups")
			c["hasgroups"] = true
		}, want: "ErrMapping", msg: "groups overage"},
		{name: "entra groups overage with AllowGroupOverage", preset: entraOverage, token: "entra", edit: func(_, c map[string]any) {
			delete(c, "groups")
			c["_claim_names"] = map[string]any{"groups": "src1"}
		}, want: "ok", check: func(t *testing.T, p *core.Principal) {
			if len(p.Groups) != 0 || p.Attributes["groups_overage"] != true {
				t.Errorf("overage: groups %v attrs %v", p.Groups, p.Attributes)
			}
		}},
		{name: "entra any tenant: guest tenant's v2 token", preset: entraAny, token: "entra", edit: func(_, c map[string]any) {
			c["tid"], c["iss"] = guest, "https://login.microsoftonline.com/"+guest+"/v2.0"
		}, want: "ok", check: func(t *testing.T, p *core.Principal) {
			if p.Tenant != guest || p.Issuer != "https://login.microsoftonline.com/"+guest+"/v2.0" {
				t.Errorf("tenant %q issuer %q", p.Tenant, p.Issuer)
			}
		}},
		{name: "entra any tenant: v1 token of a guest tenant", preset: entraAny, token: "entra-v1", edit: func(_, c map[string]any) {
			c["tid"], c["iss"], c["aud"] = guest, "https://sts.windows.net/"+guest+"/", entraClient
		}, want: "ok"},
		{name: "entra any tenant: tid not the issuer's tenant", preset: entraAny, token: "entra", edit: func(_, c map[string]any) {
			c["iss"] = "https://login.microsoftonline.com/" + guest + "/v2.0"
		}, want: "ErrIssuer"},

		// Keycloak.
		{name: "keycloak user with realm and client roles", preset: presets["keycloak"], token: "keycloak", want: "ok", check: func(t *testing.T, p *core.Principal) {
			if p.Kind != core.PrincipalUser || p.ClientID != "mcp-client" || !slices.Contains(p.Roles, "mcp-user") || !slices.Contains(p.Roles, "mcp.server:deployer") ||
				slices.Contains(p.Roles, "manage-account") || !slices.Equal(p.Groups, []string{"/engineering", "/engineering/platform"}) {
				t.Errorf("keycloak user: %+v", p)
			}
		}},
		{name: "keycloak RFC 9068 header at+jwt", preset: presets["keycloak"], token: "keycloak", edit: func(h, c map[string]any) {
			h["typ"], c["client_id"] = "at+jwt", c["azp"]
		}, want: "ok", check: kind(core.PrincipalUser, "user:https://sso.example.com/realms/acme||f1c3a6d2-7b8e-4f90-a1b2-c3d4e5f60718")},
		{name: "keycloak service account (client credentials)", preset: presets["keycloak"], token: "keycloak", edit: func(_, c map[string]any) {
			for _, k := range []string{"sid", "auth_time", "groups", "name", "given_name", "family_name", "email"} {
				delete(c, k)
			}
			c["sub"], c["azp"], c["client_id"], c["preferred_username"] = kcService, "mcp-robot", "mcp-robot", "service-account-mcp-robot"
			c["scope"] = "profile email"
		}, want: "ok", check: kind(core.PrincipalClient, "client:https://sso.example.com/realms/acme|mcp-robot")},
		{name: "keycloak ID token (payload typ ID)", preset: presets["keycloak"], token: "keycloak", edit: func(_, c map[string]any) {
			c["typ"] = "ID"
		}, want: "ErrMapping", msg: "not Bearer"},
		{name: "keycloak DPoP-bound token", preset: presets["keycloak"], token: "keycloak", edit: func(_, c map[string]any) {
			c["typ"], c["cnf"] = "DPoP", map[string]any{"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}
		}, want: "ErrInvalidClaims", msg: "cnf"},
		{name: "keycloak default audience account", preset: presets["keycloak"], token: "keycloak", edit: func(_, c map[string]any) {
			c["aud"] = "account"
		}, want: "ErrAudience", msg: "account"},

		// Auth0.
		{name: "auth0 user", preset: presets["auth0"], token: "auth0", want: "ok",
			check: kind(core.PrincipalUser, `user:https://acme.us.auth0.com/||auth0\|65f0c0ffee0123456789abcd`)},
		{name: "auth0 client credentials (Auth0 profile, gty)", preset: presets["auth0"], token: "auth0", edit: func(_, c map[string]any) {
			c["sub"], c["gty"], c["aud"], c["scope"] = "Xy12AbCdEfGhIjKlMnOpQrStUvWx@clients", "client-credentials", testAud, "mcp:tools"
			delete(c, "https://corp.example/roles")
		}, want: "ok", check: kind(core.PrincipalClient, "client:https://acme.us.auth0.com/|Xy12AbCdEfGhIjKlMnOpQrStUvWx")},
		{name: "auth0 client credentials (RFC 9068 profile, no gty)", preset: presets["auth0"], token: "auth0", edit: func(h, c map[string]any) {
			h["typ"] = "at+jwt"
			delete(c, "azp")
			delete(c, "https://corp.example/roles")
			c["client_id"], c["sub"], c["aud"], c["scope"], c["jti"] = "Xy12AbCdEfGhIjKlMnOpQrStUvWx", "Xy12AbCdEfGhIjKlMnOpQrStUvWx@clients", testAud, "mcp:tools", "73WakrfVbNJBaAmhQtEeDv"
		}, want: "ok", check: kind(core.PrincipalClient, "client:https://acme.us.auth0.com/|Xy12AbCdEfGhIjKlMnOpQrStUvWx")},
		{name: "auth0 user whose sub only looks like another client's", preset: presets["auth0"], token: "auth0", edit: func(_, c map[string]any) {
			c["sub"] = "Other@clients"
		}, want: "ok", check: kind(core.PrincipalUser, "user:https://acme.us.auth0.com/||Other@clients")},

		// Google.
		{name: "google service account", preset: presets["google"], token: "google", want: "ok",
			check: kind(core.PrincipalClient, "client:https://accounts.google.com|112233445566778899001")},
		{name: "google service account not allowed", preset: googleUsers, token: "google", want: "ErrMapping", msg: "service account"},
		{name: "google Workspace user minted for the audience", preset: googleUsers, token: "google", edit: func(_, c map[string]any) {
			c["sub"], c["azp"], c["email"], c["hd"] = "108765432109876543210", "123-abc.apps.googleusercontent.com", "alice@acme.example", "acme.example"
		}, want: "ok", check: func(t *testing.T, p *core.Principal) {
			if p.Kind != core.PrincipalUser || p.Subject != "108765432109876543210" || p.Attributes["hd"] != "acme.example" {
				t.Errorf("google user: %+v", p)
			}
		}},
		{name: "google consumer account with hosted domains", preset: googleUsers, token: "google", edit: func(_, c map[string]any) {
			c["sub"], c["azp"], c["email"] = "108765432109876543210", "123-abc.apps.googleusercontent.com", "alice@gmail.example"
		}, want: "ErrMapping", msg: "hosted domain"},
		{name: "google unverified e-mail", preset: presets["google"], token: "google", edit: func(_, c map[string]any) {
			c["sub"], c["email"], c["email_verified"] = "108765432109876543210", "alice@example.com", false
		}, want: "ErrMapping", msg: "not verified"},
		{name: "google scheme-less issuer accounts.google.com", preset: presets["google"], token: "google", edit: func(_, c map[string]any) {
			c["iss"] = "accounts.google.com"
		}, want: "ErrIssuer", msg: "accounts.google.com"},
		{name: "google sign-in ID token with nonce", preset: presets["google"], token: "google", edit: func(_, c map[string]any) {
			c["nonce"] = "n-0S6_WzA2Mj"
		}, want: "ErrTokenType", msg: "nonce"},
	}
	golden := map[string]goldenToken{}
	for _, g := range loadGoldenTokens(t) {
		golden[g.file] = g
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, ok := golden[tc.token]
			if !ok {
				t.Fatalf("no golden token %s", tc.token)
			}
			h, c := cloneMap(g.Header), cloneMap(g.Claims)
			if tc.edit != nil {
				tc.edit(h, c)
			}
			v := presetVerifier(t, tc.preset, nil)
			cl, err := v.Verify(context.Background(), signGolden(t, g.idp, h, c))
			var p *core.Principal
			if err == nil {
				p, err = v.Mapper().MapClaims(context.Background(), cl)
			}
			if got := errClass(err); got != tc.want {
				t.Fatalf("got %s (%v), want %s", got, err, tc.want)
			}
			if err != nil {
				// The message, or for iss/aud/typ refusals the values the
				// MismatchError (and the Warn line) reports, names the cause.
				said := err.Error()
				var me *MismatchError
				if errors.As(err, &me) {
					said += " got " + strings.Join(me.Got, " ") + " expected " + strings.Join(me.Expected, " ")
				}
				if !strings.Contains(said, tc.msg) {
					t.Errorf("refusal %q does not say %q", said, tc.msg)
				}
				return
			}
			if tc.check != nil {
				tc.check(t, p)
			}
		})
	}
}
