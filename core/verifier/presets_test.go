package verifier

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
)

var updateGolden = flag.Bool("update", false, "rewrite golden files in testdata/idp")

const (
	entraTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	entraClient = "6e74172b-be56-4843-9ff4-e66a39bb12e3"
)

// goldenToken is one testdata/idp/*.json file: a token shaped exactly like
// an IdP's real access token.
type goldenToken struct {
	file   string
	idp    string
	Header map[string]any `json:"header"`
	Claims map[string]any `json:"claims"`
}

func loadGoldenTokens(t *testing.T) []goldenToken {
	t.Helper()
	files, err := filepath.Glob("testdata/idp/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden tokens: %v", err)
	}
	var out []goldenToken
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var g goldenToken
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&g); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		g.file = strings.TrimSuffix(filepath.Base(f), ".json")
		g.idp, _, _ = strings.Cut(g.file, "-")
		out = append(out, g)
	}
	return out
}

// testPresets builds every preset for the golden tokens, with a static
// JWKS of a per-IdP test key instead of the IdP's key URL.
func testPresets(t *testing.T) map[string]Preset {
	t.Helper()
	out := map[string]Preset{}
	add := func(p Preset, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		for i := range p.Issuers {
			p.Issuers[i].JWKSURL, p.Issuers[i].DiscoveryURL = "", ""
			p.Issuers[i].JWKS = jwksOf(t, key(t, "RS256", p.Name), goldenKid(p.Name), "RS256")
		}
		out[p.Name] = p
	}
	add(Okta(OktaConfig{Domain: "acme.okta.com", Audience: []string{testAud}}))
	add(Entra(EntraConfig{TenantIDs: []string{entraTenant}, ClientID: entraClient, AppIDURI: "api://mcp-server", AcceptV1: true}))
	add(Keycloak(KeycloakConfig{URL: "https://sso.example.com", Realm: "acme", Audience: []string{testAud}, ClientRoles: []string{"mcp.server"}}))
	add(Auth0(Auth0Config{Domain: "acme.us.auth0.com", Audience: []string{testAud}, Namespace: "https://corp.example/"}))
	add(Google(GoogleConfig{Audience: []string{testAud}, AllowServiceAccounts: true}))
	return out
}

func goldenKid(idp string) string {
	return map[string]string{"okta": "okta-kid-1", "entra": "entra-kid-1", "keycloak": "kc-kid-1", "auth0": "auth0-kid-1", "google": "google-kid-1"}[idp]
}

func presetVerifier(t *testing.T, p Preset, log *slog.Logger) *Verifier {
	t.Helper()
	v, err := New(context.Background(), Config{Issuers: p.Issuers, Now: func() time.Time { return t0.Add(30 * time.Second) }, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// signGolden signs header and claims with the test key of idp.
func signGolden(t *testing.T, idp string, header, claims map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	return mint(t, key(t, "RS256", idp), "RS256", string(h), string(c))
}

// principalJSON renders a principal for the golden files.
func principalJSON(p *core.Principal) string {
	b, _ := json.MarshalIndent(map[string]any{
		"kind": p.Kind, "id": p.ID(), "issuer": p.Issuer, "subject": p.Subject, "client_id": p.ClientID,
		"tenant": p.Tenant, "scopes": p.Scopes, "groups": p.Groups, "roles": p.Roles, "attributes": p.Attributes,
	}, "", "  ")
	return string(b) + "\n"
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *updateGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestPresetsAcceptTheirIdP verifies each golden token with its IdP's
// preset and pins the principal the preset's mapper builds.
func TestPresetsAcceptTheirIdP(t *testing.T) {
	presets := testPresets(t)
	for _, g := range loadGoldenTokens(t) {
		t.Run(g.file, func(t *testing.T) {
			p, ok := presets[g.idp]
			if !ok {
				t.Fatalf("no preset for %s", g.idp)
			}
			v := presetVerifier(t, p, nil)
			c, err := v.Verify(context.Background(), signGolden(t, g.idp, g.Header, g.Claims))
			if err != nil {
				t.Fatalf("preset %s refused its own token shape: %v", g.idp, err)
			}
			pr, err := v.Mapper().MapClaims(context.Background(), c)
			if err != nil {
				t.Fatalf("preset %s mapper: %v", g.idp, err)
			}
			checkGolden(t, filepath.Join("testdata", "idp", g.file+".principal.golden"), principalJSON(pr))
		})
	}
}

// errClass names the core sentinel an error wraps.
func errClass(err error) string {
	if err == nil {
		return "ok"
	}
	for _, s := range []struct {
		name string
		err  error
	}{
		{"ErrIssuer", core.ErrIssuer}, {"ErrAudience", core.ErrAudience}, {"ErrTokenType", core.ErrTokenType},
		{"ErrMapping", core.ErrMapping}, {"ErrInvalidClaims", core.ErrInvalidClaims}, {"ErrExpired", core.ErrExpired},
		{"ErrUnknownKey", core.ErrUnknownKey}, {"ErrSignature", core.ErrSignature},
	} {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	return "other: " + err.Error()
}

// TestPresetsRefuseOtherIdPs runs every golden token against every other
// IdP's preset twice: as issued (refused: wrong issuer), and transplanted
// (iss, aud and kid rewritten to the preset's, signed with its key, the
// header and the rest of the claim layout kept), which shows where the
// shapes must differ: typ (Okta sends none), the mapper's markers (Okta
// uid/cid, Entra tid/oid, Keycloak typ=Bearer, Google verified e-mail).
// The outcomes are pinned in testdata/idp/matrix.golden.
func TestPresetsRefuseOtherIdPs(t *testing.T) {
	presets := testPresets(t)
	tokens := loadGoldenTokens(t)
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("# preset / token: as issued; transplanted (iss, aud, kid of the preset)\n")
	for _, pn := range names {
		p := presets[pn]
		v := presetVerifier(t, p, nil)
		for _, g := range tokens {
			if g.idp == pn {
				continue
			}
			check := func(tok string) string {
				c, err := v.Verify(context.Background(), tok)
				if err == nil {
					_, err = v.Mapper().MapClaims(context.Background(), c)
				}
				return errClass(err)
			}
			asIssued := check(signGolden(t, g.idp, g.Header, g.Claims))
			if asIssued != "ErrIssuer" {
				t.Errorf("preset %s accepted or misclassified %s as issued: %s", pn, g.file, asIssued)
			}
			h, c := cloneMap(g.Header), cloneMap(g.Claims)
			h["kid"] = goldenKid(pn)
			c["iss"] = p.Issuers[0].Issuer
			c["aud"] = p.Issuers[0].Audience[0]
			moved := check(signGolden(t, pn, h, c))
			fmt.Fprintf(&b, "%-8s / %-10s: %s; %s\n", pn, g.file, asIssued, moved)
			// Where the shapes must differ, the preset must refuse.
			if _, hasTyp := g.Header["typ"]; !hasTyp && !slices.Contains(p.Issuers[0].Types, "") && moved != "ErrTokenType" {
				t.Errorf("preset %s accepted a token without typ (%s): %s", pn, g.file, moved)
			}
			// Okta (uid/cid), Entra (tid bound to iss, oid) and Keycloak
			// (typ Bearer) need markers no other IdP sends; Google needs a
			// verified e-mail. Auth0's layout is plain RFC 9068/OIDC.
			_, verified := g.Claims["email_verified"]
			if (pn == "okta" || pn == "entra" || pn == "keycloak" || (pn == "google" && !verified)) && moved == "ok" {
				t.Errorf("preset %s accepted the claim layout of %s", pn, g.file)
			}
		}
	}
	checkGolden(t, filepath.Join("testdata", "idp", "matrix.golden"), b.String())
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestPresetTraps pins the IdP-specific refusals the guides warn about.
func TestPresetTraps(t *testing.T) {
	presets := testPresets(t)
	tokens := map[string]goldenToken{}
	for _, g := range loadGoldenTokens(t) {
		tokens[g.file] = g
	}
	entraV2Only, err := Entra(EntraConfig{TenantIDs: []string{entraTenant}, ClientID: entraClient})
	if err != nil {
		t.Fatal(err)
	}
	for i := range entraV2Only.Issuers {
		entraV2Only.Issuers[i].JWKSURL = ""
		entraV2Only.Issuers[i].JWKS = jwksOf(t, key(t, "RS256", "entra"), "entra-kid-1", "RS256")
	}
	tests := []struct {
		name   string
		preset Preset
		token  string
		edit   func(h, c map[string]any)
		want   string
	}{
		{"entra v1 token without AcceptV1", entraV2Only, "entra-v1", nil, "ErrIssuer"},
		{"entra App ID URI audience without AppIDURI", entraV2Only, "entra", func(_, c map[string]any) { c["aud"] = "api://mcp-server" }, "ErrAudience"},
		{"entra MCP URL audience (v2 always sends the GUID)", presets["entra"], "entra", func(_, c map[string]any) { c["aud"] = testAud }, "ErrAudience"},
		{"entra tid of another tenant", presets["entra"], "entra", func(_, c map[string]any) { c["tid"] = "9188040d-6c67-4c5b-b112-36a304b66dad" }, "ErrMapping"},
		{"entra at+jwt", presets["entra"], "entra", func(h, _ map[string]any) { h["typ"] = "at+jwt" }, "ErrTokenType"},
		{"entra group overage (refused unless AllowGroupOverage)", presets["entra"], "entra", func(_, c map[string]any) {
			delete(c, "groups")
			c["_claim_names"] = map[string]any{"groups": "src1"}
		}, "ErrMapping"},
		{"keycloak without audience mapper", presets["keycloak"], "keycloak", func(_, c map[string]any) { c["aud"] = "account" }, "ErrAudience"},
		{"keycloak ID token (typ ID)", presets["keycloak"], "keycloak", func(_, c map[string]any) { c["typ"] = "ID" }, "ErrMapping"},
		{"keycloak pre-17 /auth issuer", presets["keycloak"], "keycloak", func(_, c map[string]any) { c["iss"] = "https://sso.example.com/auth/realms/acme" }, "ErrIssuer"},
		{"okta org authorization server", presets["okta"], "okta", func(h, c map[string]any) {
			c["iss"] = "https://acme.okta.com"
			h["typ"] = "application/okta-internal-at+jwt"
		}, "ErrIssuer"},
		{"okta org typ under the custom issuer", presets["okta"], "okta", func(h, _ map[string]any) { h["typ"] = "application/okta-internal-at+jwt" }, "ErrTokenType"},
		{"auth0 issuer without trailing slash", presets["auth0"], "auth0", func(_, c map[string]any) { c["iss"] = "https://acme.us.auth0.com" }, "ErrIssuer"},
		{"auth0 RFC 9068 profile", presets["auth0"], "auth0", func(h, c map[string]any) { h["typ"] = "at+jwt"; c["client_id"] = c["azp"] }, "ok"},
		{"auth0 userinfo-only audience", presets["auth0"], "auth0", func(_, c map[string]any) { c["aud"] = "https://acme.us.auth0.com/userinfo" }, "ErrAudience"},
		{"google user ID token with at_hash", presets["google"], "google", func(_, c map[string]any) { c["at_hash"] = "x" }, "ErrTokenType"},
		{"google unverified e-mail", presets["google"], "google", func(_, c map[string]any) {
			c["sub"], c["email"] = "1", "alice@example.com" // a person: not a service account's address
			c["email_verified"] = false
		}, "ErrMapping"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := tokens[tc.token]
			h, c := cloneMap(g.Header), cloneMap(g.Claims)
			if tc.edit != nil {
				tc.edit(h, c)
			}
			v := presetVerifier(t, tc.preset, nil)
			cl, err := v.Verify(context.Background(), signGolden(t, g.idp, h, c))
			if err == nil {
				_, err = v.Mapper().MapClaims(context.Background(), cl)
			}
			if got := errClass(err); got != tc.want {
				t.Fatalf("got %s (%v), want %s", got, err, tc.want)
			}
		})
	}
}

func TestPresetConfigErrors(t *testing.T) {
	for name, err := range map[string]error{
		"okta no domain":      second(Okta(OktaConfig{Audience: []string{testAud}})),
		"okta no audience":    second(Okta(OktaConfig{Domain: "acme.okta.com"})),
		"okta http domain":    second(Okta(OktaConfig{Domain: "http://acme.okta.com", Audience: []string{testAud}})),
		"okta path":           second(Okta(OktaConfig{Domain: "acme.okta.com/oauth2", Audience: []string{testAud}})),
		"okta bad server id":  second(Okta(OktaConfig{Domain: "acme.okta.com", AuthorizationServer: "a/b", Audience: []string{testAud}})),
		"entra client id":     second(Entra(EntraConfig{TenantIDs: []string{entraTenant}, ClientID: "api://mcp"})),
		"entra no tenant":     second(Entra(EntraConfig{ClientID: entraClient})),
		"entra bad tenant":    second(Entra(EntraConfig{TenantIDs: []string{"contoso"}, ClientID: entraClient})),
		"keycloak no realm":   second(Keycloak(KeycloakConfig{URL: "https://sso.example.com", Audience: []string{testAud}})),
		"keycloak no url":     second(Keycloak(KeycloakConfig{Realm: "acme", Audience: []string{testAud}})),
		"auth0 empty aud":     second(Auth0(Auth0Config{Domain: "a.auth0.com", Audience: []string{" "}})),
		"google no audience":  second(Google(GoogleConfig{})),
		"google empty domain": second(Google(GoogleConfig{Audience: []string{testAud}, HostedDomains: []string{""}})),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func second(_ Preset, err error) error { return err }

// TestEntraMultiTenant: several tenants use the issuer template, with tid
// bound to iss and the tenant list enforced.
func TestEntraMultiTenant(t *testing.T) {
	other := "9188040d-6c67-4c5b-b112-36a304b66dad"
	p, err := Entra(EntraConfig{TenantIDs: []string{entraTenant, other}, ClientID: entraClient})
	if err != nil {
		t.Fatal(err)
	}
	if p.Issuers[0].Issuer != "https://login.microsoftonline.com/{tenantid}/v2.0" || p.Issuers[0].JWKSURL != "https://login.microsoftonline.com/common/discovery/v2.0/keys" {
		t.Fatalf("multi-tenant issuer entry: %+v", p.Issuers[0])
	}
	p.Issuers[0].JWKSURL = ""
	p.Issuers[0].JWKS = jwksOf(t, key(t, "RS256", "entra"), "entra-kid-1", "RS256")
	v := presetVerifier(t, p, nil)
	var g goldenToken
	for _, x := range loadGoldenTokens(t) {
		if x.file == "entra" {
			g = x
		}
	}
	for tid, want := range map[string]string{entraTenant: "ok", other: "ok", "0e0e0e0e-0000-4000-8000-000000000000": "ErrIssuer"} {
		c := cloneMap(g.Claims)
		c["tid"], c["iss"] = tid, "https://login.microsoftonline.com/"+tid+"/v2.0"
		cl, err := v.Verify(context.Background(), signGolden(t, "entra", g.Header, c))
		if err == nil {
			_, err = v.Mapper().MapClaims(context.Background(), cl)
		}
		if got := errClass(err); got != want {
			t.Errorf("tid %s: %s (%v), want %s", tid, got, err, want)
		}
	}
}

// TestEntraUpperCaseIDs: tenant and client ids configured in upper case
// (as some portals and scripts print them) still accept Entra's lower-case
// tokens, single- and multi-tenant.
func TestEntraUpperCaseIDs(t *testing.T) {
	other := "9188040d-6c67-4c5b-b112-36a304b66dad"
	var g goldenToken
	for _, x := range loadGoldenTokens(t) {
		if x.file == "entra" {
			g = x
		}
	}
	for _, tc := range []struct {
		name    string
		tenants []string
	}{
		{"single tenant", []string{strings.ToUpper(entraTenant)}},
		{"multi tenant", []string{strings.ToUpper(entraTenant), strings.ToUpper(other)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Entra(EntraConfig{TenantIDs: tc.tenants, ClientID: strings.ToUpper(entraClient)})
			if err != nil {
				t.Fatal(err)
			}
			p.Issuers[0].JWKSURL = ""
			p.Issuers[0].JWKS = jwksOf(t, key(t, "RS256", "entra"), "entra-kid-1", "RS256")
			v := presetVerifier(t, p, nil)
			cl, err := v.Verify(context.Background(), signGolden(t, "entra", g.Header, cloneMap(g.Claims)))
			if err == nil {
				_, err = v.Mapper().MapClaims(context.Background(), cl)
			}
			if err != nil {
				t.Fatalf("lower-case token refused: %v", err)
			}
		})
	}
}

// TestRefusalDiagnostics: a refused token logs expected vs got for iss,
// aud and typ at Warn, once per distinct cause, and never the token.
func TestRefusalDiagnostics(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	p := testPresets(t)["keycloak"]
	v := presetVerifier(t, p, log)
	var g goldenToken
	for _, x := range loadGoldenTokens(t) {
		if x.file == "keycloak" {
			g = x
		}
	}
	variants := []func(h, c map[string]any){
		func(_, c map[string]any) { c["aud"] = "account" },
		func(_, c map[string]any) { c["iss"] = "https://sso.example.com/realms/other" },
		func(h, _ map[string]any) { h["typ"] = "dpop+jwt" },
	}
	var toks []string
	for _, edit := range variants {
		h, c := cloneMap(g.Header), cloneMap(g.Claims)
		edit(h, c)
		tok := signGolden(t, "keycloak", h, c)
		toks = append(toks, tok)
		for range 3 { // repeated: logged once
			if _, err := v.Verify(context.Background(), tok); err == nil {
				t.Fatal("accepted")
			}
		}
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 Warn lines (one per cause), got %d:\n%s", len(lines), buf.String())
	}
	for i, want := range []string{
		`"claim":"aud","expected":["https://mcp.example.com/mcp"],"got":["account"]`,
		`"claim":"iss","expected":["https://sso.example.com/realms/acme"],"got":["https://sso.example.com/realms/other"]`,
		`"claim":"typ","expected":["at+jwt","jwt"],"got":["dpop+jwt"]`,
	} {
		if !strings.Contains(lines[i], want) || !strings.Contains(lines[i], `"level":"WARN"`) {
			t.Errorf("line %d = %s, want it to contain %s", i, lines[i], want)
		}
	}
	for _, tok := range toks {
		sig := tok[strings.LastIndexByte(tok, '.')+1:]
		if strings.Contains(buf.String(), sig) || strings.Contains(buf.String(), tok[:40]) {
			t.Fatal("a token reached the log")
		}
	}
	var me *MismatchError
	_, err := v.Verify(context.Background(), toks[0])
	if !errors.As(err, &me) || !errors.Is(err, core.ErrAudience) || me.Claim != "aud" {
		t.Fatalf("err %v: want a *MismatchError wrapping ErrAudience", err)
	}
}

// TestRefusalDiagnosticsBounded: a flood of distinct causes logs at most
// diagSourcePerMin lines a minute per source and diagMaxPerMin in all, plus
// one summary; a flood of forged tokens (random issuers, source "") never
// hides a real issuer's audience mismatch.
func TestRefusalDiagnosticsBounded(t *testing.T) {
	forged := func(i int) *MismatchError {
		return &MismatchError{Claim: "iss", Got: []string{fmt.Sprint("https://evil/", i, strings.Repeat("x", 100))}, err: core.ErrIssuer}
	}
	realAud := func(src string, i int) *MismatchError {
		return &MismatchError{Claim: "aud", Got: []string{fmt.Sprint("account", i)}, source: src, err: core.ErrAudience}
	}
	for _, tc := range []struct {
		name      string
		flood     func(i int) *MismatchError
		floodN    int
		after     *MismatchError // reported after the flood, same minute
		wantLines int            // Warn lines in the first minute
		wantAfter bool           // the line of after is among them
		summary   string
	}{
		{"forged flood keeps its own budget", forged, 5000, realAud("https://sso.example.com/realms/acme", -1),
			diagSourcePerMin + 1, true, "count=4995"},
		{"one issuer's flood does not silence another", func(i int) *MismatchError { return realAud("https://a.example", i) }, 5000,
			realAud("https://b.example", -1), diagSourcePerMin + 1, true, "count=4995"},
		{"global cap over many sources", func(i int) *MismatchError { return realAud(fmt.Sprint("https://", i%100, ".example"), i) }, 5000,
			realAud("https://late.example", -1), diagMaxPerMin, false, "count=4981"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&buf, nil))
			clk := newClock()
			d := newDiagnostics(log, clk.Now)
			for i := range tc.floodN {
				d.report(tc.flood(i))
			}
			d.report(tc.after)
			first := buf.String()
			if n := strings.Count(first, "\n"); n != tc.wantLines {
				t.Fatalf("%d lines in the first minute, want %d", n, tc.wantLines)
			}
			if got := strings.Contains(first, tc.after.Got[0]); got != tc.wantAfter {
				t.Fatalf("line of the later cause logged = %v, want %v:\n%s", got, tc.wantAfter, first)
			}
			clk.Add(time.Minute)
			d.report(forged(-1))
			if !strings.Contains(buf.String(), "suppressed") || !strings.Contains(buf.String(), tc.summary) {
				t.Fatalf("no suppression summary with %s:\n%s", tc.summary, buf.String())
			}
			if len(d.last) > diagMaxCauses || d.lastBytes > diagMaxBytes || len(d.perSource) > diagMaxSources+1 {
				t.Fatalf("%d causes (%d bytes), %d sources kept", len(d.last), d.lastBytes, len(d.perSource))
			}
		})
	}
}
