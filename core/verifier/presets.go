package verifier

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/mapper"
	"github.com/mcpauthz/mcpauthz/internal/clip"
	"github.com/mcpauthz/mcpauthz/internal/guid"
)

// Preset is what trusting one identity provider takes: its issuer entries
// (issuer or issuer template, key source, the JOSE "typ" values its access
// tokens really carry, the audience convention), the core/mapper preset for
// its claim layout, set as each entry's IssuerConfig.Mapper, and the
// preset's security checks, set as IssuerConfig.Checks (see mapper.Check
// for their names). Replacing an entry's Mapper, or mapping with a
// core.Config.Mapper of your own, changes how claims are mapped and keeps
// every check; IssuerConfig.DisableChecks is the one way to turn a check
// off, by name, and New logs it.
//
// Use the constructors [Okta], [Entra], [Keycloak], [Auth0] and [Google],
// then pass Issuers to [Config] (several presets may be combined: append
// their Issuers) and [Verifier.Mapper] to core.Config.Mapper:
//
//	okta, err := verifier.Okta(verifier.OktaConfig{Domain: "acme.okta.com", Audience: []string{resource}})
//	v, err := verifier.New(ctx, verifier.Config{Issuers: okta.Issuers})
//	g, err := core.New(core.Config{Resource: resource, Verifier: v, Mapper: v.Mapper(), ...})
//
// The entries may be adjusted before New (a static JWKS for tests, a
// different RefreshInterval).
type Preset struct {
	// Name is the IdP: "okta", "entra", "keycloak", "auth0" or "google".
	Name string
	// Issuers are the issuer entries, each with its Audience and Mapper set.
	Issuers []IssuerConfig
}

// Accepted JOSE "typ" values of the presets. "" means the header has no typ.
var (
	// Okta custom authorization servers send no typ ("kid" and "alg" only).
	// The org authorization server's "application/okta-internal-at+jwt" is
	// not accepted: those tokens are for Okta's own APIs.
	oktaTypes = []string{"", "JWT"}
	// Entra ID (v1 and v2 access tokens) sends "JWT".
	entraTypes = []string{"JWT"}
	// Keycloak sends "JWT", or "at+jwt" for clients with "Use at+jwt as
	// access token header type" (RFC 9068, Keycloak 26.2+); either way its
	// payload "typ" claim says "Bearer".
	keycloakTypes = []string{"JWT", "at+jwt"}
	// Auth0 sends "JWT", or "at+jwt" for APIs with the RFC 9068 token
	// profile.
	auth0Types = []string{"JWT", "at+jwt"}
	// Google-signed ID tokens minted for an audience send "JWT".
	googleTypes = []string{"JWT"}
)

// OktaConfig configures [Okta].
type OktaConfig struct {
	// Domain is the Okta org host ("acme.okta.com", or a custom domain such
	// as "login.acme.com"). REQUIRED. It is written into the issuer in
	// lower case and without the default port, as Okta writes "iss".
	Domain string
	// AuthorizationServer is the id of the custom authorization server.
	// OPTIONAL; default "default". The issuer is
	// https://<Domain>/oauth2/<AuthorizationServer>. Okta's org
	// authorization server (issuer https://<Domain>) only issues tokens for
	// Okta's own APIs and cannot protect an MCP server.
	AuthorizationServer string
	// Audience is the authorization server's audience setting: the MCP
	// endpoint URL (core.Config.Resource). REQUIRED.
	Audience []string
}

// Okta returns the preset for an Okta custom authorization server: typ
// absent or "JWT", issuer https://<Domain>/oauth2/<id>, keys from its
// discovery document, [mapper.Okta] (subject "uid", client "cid", scopes
// "scp").
func Okta(cfg OktaConfig) (Preset, error) {
	origin, err := presetHost("okta", cfg.Domain)
	if err != nil {
		return Preset{}, err
	}
	as := cfg.AuthorizationServer
	if as == "" {
		as = "default"
	}
	if strings.ContainsAny(as, "/?#") {
		return Preset{}, fmt.Errorf("verifier: okta: invalid authorization server id %q", as)
	}
	if err := presetAudience("okta", cfg.Audience); err != nil {
		return Preset{}, err
	}
	m, err := mapper.Okta()
	if err != nil {
		return Preset{}, err
	}
	return Preset{Name: "okta", Issuers: []IssuerConfig{{
		Issuer: origin + "/oauth2/" + as, Types: oktaTypes, Audience: cfg.Audience, Mapper: m.WithoutChecks(), Checks: m.Checks(),
	}}}, nil
}

// EntraConfig configures [Entra].
type EntraConfig struct {
	// TenantIDs are the directory (tenant) GUIDs whose tokens are
	// accepted. REQUIRED, at least one, unless AllowAnyTenant. One tenant
	// gives exact issuers; several (or AllowAnyTenant) give the
	// "{tenantid}" issuer templates, with the token's tid bound to its iss.
	TenantIDs []string
	// AllowAnyTenant accepts every Entra tenant (multi-tenant apps whose
	// policy restricts tenants itself). OPTIONAL; default false.
	AllowAnyTenant bool
	// ClientID is the application (client) id GUID of the MCP server's app
	// registration. REQUIRED. Entra v2 access tokens always carry it as
	// "aud", whatever the client asked for: this is the "GUID audience".
	ClientID string
	// AppIDURI is the app's Application ID URI ("api://mcp" or the MCP
	// URL), the "aud" of v1 tokens requested with it. OPTIONAL.
	AppIDURI string
	// AcceptV1 also trusts v1 tokens (issuer https://sts.windows.net/<tid>/),
	// which Entra issues when the app manifest's accessTokenAcceptedVersion
	// (requestedAccessTokenVersion) is null or 1. OPTIONAL; default false:
	// set the manifest to 2.
	AcceptV1 bool
	// AllowGroupOverage accepts user tokens whose groups did not fit
	// (mapper.EntraConfig.AllowGroupOverage). OPTIONAL; default false: they
	// are refused with a message saying so.
	AllowGroupOverage bool
}

// Entra returns the preset for Microsoft Entra ID: typ "JWT", issuer
// https://login.microsoftonline.com/<tid>/v2.0 (and, with AcceptV1,
// https://sts.windows.net/<tid>/), keys from the tenant's v2 key set,
// audience ClientID (and AppIDURI), [mapper.Entra] (subject "oid", tenant
// "tid" bound to the issuer, app tokens by idtyp, group overage refused
// unless AllowGroupOverage).
func Entra(cfg EntraConfig) (Preset, error) {
	if !guid.Is(cfg.ClientID) {
		return Preset{}, fmt.Errorf("verifier: entra: ClientID %q is not a GUID (the app registration's Application (client) ID)", cfg.ClientID)
	}
	if len(cfg.TenantIDs) == 0 && !cfg.AllowAnyTenant {
		return Preset{}, errors.New("verifier: entra: TenantIDs is empty and AllowAnyTenant is not set")
	}
	// GUIDs are case-insensitive in Entra and its tokens carry them in
	// lower case; an ID pasted in upper case must not make every token
	// fail the exact issuer, tenant and audience comparisons.
	cfg.ClientID = strings.ToLower(cfg.ClientID)
	cfg.TenantIDs = slices.Clone(cfg.TenantIDs)
	for i, t := range cfg.TenantIDs {
		if guid.Is(t) {
			cfg.TenantIDs[i] = strings.ToLower(t)
		}
	}
	aud := []string{cfg.ClientID}
	if cfg.AppIDURI != "" {
		aud = append(aud, cfg.AppIDURI)
	}
	m, err := mapper.Entra(mapper.EntraConfig{AllowedTenants: cfg.TenantIDs, AllowAnyTenant: cfg.AllowAnyTenant, AllowGroupOverage: cfg.AllowGroupOverage})
	if err != nil {
		return Preset{}, fmt.Errorf("verifier: %w", err)
	}
	tenant, keyTenant := TenantPlaceholder, "common"
	var allowed []string
	if len(cfg.TenantIDs) == 1 && !cfg.AllowAnyTenant {
		tenant, keyTenant = cfg.TenantIDs[0], cfg.TenantIDs[0]
	} else if !cfg.AllowAnyTenant {
		allowed = cfg.TenantIDs
	}
	keys := "https://login.microsoftonline.com/" + keyTenant + "/discovery/v2.0/keys"
	p := Preset{Name: "entra", Issuers: []IssuerConfig{{
		Issuer: "https://login.microsoftonline.com/" + tenant + "/v2.0", AllowedTenants: allowed,
		JWKSURL: keys, Types: entraTypes, Audience: aud, Mapper: m.WithoutChecks(), Checks: m.Checks(),
	}}}
	if cfg.AcceptV1 {
		p.Issuers = append(p.Issuers, IssuerConfig{
			Issuer: "https://sts.windows.net/" + tenant + "/", AllowedTenants: allowed,
			JWKSURL: keys, Types: entraTypes, Audience: aud, Mapper: m.WithoutChecks(), Checks: m.Checks(),
		})
	}
	return p, nil
}

// KeycloakConfig configures [Keycloak].
type KeycloakConfig struct {
	// URL is the server's base URL ("https://sso.example.com", or
	// "https://sso.example.com/auth" for servers before Keycloak 17).
	// REQUIRED.
	URL string
	// Realm is the realm name. REQUIRED. The issuer is
	// <URL>/realms/<Realm>.
	Realm string
	// Audience is the value the realm's Audience mapper adds to "aud": the
	// MCP endpoint URL. REQUIRED. Without that mapper Keycloak's tokens
	// carry only "account" and are refused.
	Audience []string
	// ClientRoles lists client ids whose client roles become
	// "<client>:<role>" roles (mapper.KeycloakConfig.ClientRoles). OPTIONAL.
	ClientRoles []string
}

// Keycloak returns the preset for a Keycloak realm: typ "JWT" or "at+jwt",
// issuer <URL>/realms/<Realm>, keys from its discovery document,
// [mapper.Keycloak].
func Keycloak(cfg KeycloakConfig) (Preset, error) {
	base := strings.TrimSuffix(cfg.URL, "/")
	if _, err := presetHost("keycloak", base); err != nil {
		return Preset{}, err
	}
	if cfg.Realm == "" || strings.ContainsAny(cfg.Realm, "/?#") {
		return Preset{}, fmt.Errorf("verifier: keycloak: invalid realm %q", cfg.Realm)
	}
	if err := presetAudience("keycloak", cfg.Audience); err != nil {
		return Preset{}, err
	}
	m, err := mapper.Keycloak(mapper.KeycloakConfig{ClientRoles: cfg.ClientRoles})
	if err != nil {
		return Preset{}, fmt.Errorf("verifier: %w", err)
	}
	if !strings.Contains(base, "://") {
		base = "https://" + base
	}
	return Preset{Name: "keycloak", Issuers: []IssuerConfig{{
		Issuer: base + "/realms/" + cfg.Realm, Types: keycloakTypes, Audience: cfg.Audience, Mapper: m.WithoutChecks(),
		Checks: append(m.Checks(), keycloakBearer),
	}}}, nil
}

// keycloakBearer refuses Keycloak tokens whose payload "typ" is not
// "Bearer" (ID tokens say "ID", refresh tokens "Refresh"): the JOSE header
// typ is "JWT" for all of them, so without it an ID token of the realm
// whose audience is the MCP server would pass for an access token.
var keycloakBearer = mapper.Check{Name: "keycloak.bearer_typ", Fn: func(c *core.Claims) error {
	if t, _ := c.String("typ"); t != "Bearer" {
		return fmt.Errorf("%w: keycloak: token typ claim %s is not Bearer", core.ErrMapping, clip.Quote(t, 64))
	}
	return nil
}}

// Auth0Config configures [Auth0].
type Auth0Config struct {
	// Domain is the tenant domain ("acme.us.auth0.com") or the custom
	// domain tokens are issued under. REQUIRED. The issuer is
	// https://<Domain>/ (with the trailing slash Auth0 puts in "iss").
	Domain string
	// Audience is the API's Identifier: the MCP endpoint URL. REQUIRED.
	// Auth0 adds https://<Domain>/userinfo to "aud" when openid was
	// requested; that is fine, one match is enough.
	Audience []string
	// Namespace is the prefix of the custom claims set by an Action
	// ("https://corp.example/"). OPTIONAL; with it, <Namespace>roles and
	// <Namespace>groups are mapped (mapper.Auth0Config.Namespace).
	Namespace string
}

// Auth0 returns the preset for an Auth0 tenant: typ "JWT" or "at+jwt",
// issuer https://<Domain>/, keys from its discovery document,
// [mapper.Auth0] (client-credentials tokens by gty, "permissions" as
// scopes).
func Auth0(cfg Auth0Config) (Preset, error) {
	origin, err := presetHost("auth0", cfg.Domain)
	if err != nil {
		return Preset{}, err
	}
	if err := presetAudience("auth0", cfg.Audience); err != nil {
		return Preset{}, err
	}
	m, err := mapper.Auth0(mapper.Auth0Config{Namespace: cfg.Namespace})
	if err != nil {
		return Preset{}, fmt.Errorf("verifier: %w", err)
	}
	return Preset{Name: "auth0", Issuers: []IssuerConfig{{
		Issuer: origin + "/", Types: auth0Types, Audience: cfg.Audience, Mapper: m.WithoutChecks(), Checks: m.Checks(),
	}}}, nil
}

// GoogleConfig configures [Google].
type GoogleConfig struct {
	// Audience is the audience the tokens are minted for: the MCP endpoint
	// URL. REQUIRED. Google's OAuth access tokens are opaque; what this
	// preset verifies are Google-signed ID tokens minted for that audience
	// (service accounts: generateIdToken / the metadata server's identity
	// endpoint; users: ID tokens whose aud is this value).
	Audience []string
	// HostedDomains restricts user tokens to Google Workspace domains
	// ("hd"). OPTIONAL; empty allows any verified e-mail.
	HostedDomains []string
	// AllowServiceAccounts accepts service-account tokens (sub == azp) as
	// client principals. OPTIONAL; default false.
	AllowServiceAccounts bool
}

// Google returns the preset for Google-signed tokens: typ "JWT", issuer
// https://accounts.google.com, keys from its discovery document,
// [mapper.Google] (verified e-mail, hosted domain).
//
// Google documents "accounts.google.com" (no scheme) as a second "iss" of
// its ID tokens (older user sign-in flows). The tokens this preset is for,
// ID tokens minted for an audience (metadata server, generateIdToken),
// carry https://accounts.google.com, so the scheme-less form is not
// trusted: it is refused with core.ErrIssuer and a Warn line naming both
// values. A second issuer entry would also make core.New require issuer
// aliases for a single IdP.
func Google(cfg GoogleConfig) (Preset, error) {
	if err := presetAudience("google", cfg.Audience); err != nil {
		return Preset{}, err
	}
	m, err := mapper.Google(mapper.GoogleConfig{HostedDomains: cfg.HostedDomains, AllowServiceAccounts: cfg.AllowServiceAccounts})
	if err != nil {
		return Preset{}, fmt.Errorf("verifier: %w", err)
	}
	return Preset{Name: "google", Issuers: []IssuerConfig{{
		Issuer: "https://accounts.google.com", Types: googleTypes, Audience: cfg.Audience, Mapper: m.WithoutChecks(), Checks: m.Checks(),
	}}}, nil
}

// presetHost returns the origin ("https://host", or "http://…" for a
// loopback test IdP) of a domain given as "host" or "https://host", with
// the host in lower case and no default port; a path is refused (except
// for keycloak, whose caller keeps its own URL).
func presetHost(idp, domain string) (string, error) {
	d := strings.TrimSuffix(domain, "/")
	if d == "" {
		return "", fmt.Errorf("verifier: %s: domain is required", idp)
	}
	if !strings.Contains(d, "://") {
		d = "https://" + d
	}
	u, err := url.Parse(d)
	if err != nil || u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname())) || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" || (idp != "keycloak" && u.Path != "") {
		return "", fmt.Errorf("verifier: %s: %q is not an https host", idp, domain)
	}
	// The origin as the IdP writes it in "iss": a lower-case host, no
	// default port (a domain typed "ACME.okta.com" or "…:443" otherwise
	// names an issuer no token carries, and every token is refused).
	host := strings.ToLower(u.Host)
	if u.Scheme == "https" {
		host = strings.TrimSuffix(host, ":443")
	} else {
		host = strings.TrimSuffix(host, ":80")
	}
	return u.Scheme + "://" + host, nil
}

func isLoopbackHost(h string) bool {
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
}

func presetAudience(idp string, aud []string) error {
	if len(aud) == 0 {
		return fmt.Errorf("verifier: %s: Audience is required (the MCP endpoint URL, as configured in the IdP)", idp)
	}
	for _, a := range aud {
		if strings.TrimSpace(a) == "" {
			return fmt.Errorf("verifier: %s: empty audience", idp)
		}
	}
	return nil
}

// Mapper returns a core.ClaimMapper that maps each token with the Mapper of
// the issuer entry that verified it (IssuerConfig.Mapper), or with
// core.DefaultMapper() for entries without one. Claims whose issuer is not
// configured are refused with core.ErrMapping.
func (v *Verifier) Mapper() core.ClaimMapper { return issuerMapper{v} }

type issuerMapper struct{ v *Verifier }

func (im issuerMapper) MapClaims(ctx context.Context, c *core.Claims) (*core.Principal, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: no claims", core.ErrMapping)
	}
	is := im.v.issuerFor(c.Issuer)
	if is == nil {
		return nil, fmt.Errorf("%w: no issuer entry for %s", core.ErrMapping, clip.Quote(c.Issuer, 128))
	}
	if is.mapper == nil {
		return core.DefaultMapper().MapClaims(ctx, c)
	}
	return is.mapper.MapClaims(ctx, c)
}

// issuerFor finds the entry of a verified issuer (exact, then templates).
func (v *Verifier) issuerFor(iss string) *issuer {
	if is := v.exact[iss]; is != nil {
		return is
	}
	for _, is := range v.templates {
		if len(iss) > len(is.prefix)+len(is.suffix) && strings.HasPrefix(iss, is.prefix) && strings.HasSuffix(iss, is.suffix) {
			return is
		}
	}
	return nil
}

// entraV1Hint is appended to the refusal of an untrusted issuer that is
// Entra ID's v1.0 issuer when the Verifier trusts Entra's v2.0 issuer: the
// usual cause is the API's app registration, which has Entra issue v1.0
// access tokens, not an attack. It only reads configuration.
func (v *Verifier) entraV1Hint(iss string) string {
	const v1, v2 = "https://sts.windows.net/", "https://login.microsoftonline.com/"
	const hint = " (an Entra ID v1.0 access token: set requestedAccessTokenVersion (legacy manifest: accessTokenAcceptedVersion) to 2 in the API's app manifest, or accept v1.0 tokens with accept_v1 / EntraConfig.AcceptV1)"
	if !strings.HasPrefix(iss, v1) {
		return ""
	}
	for name := range v.exact {
		if strings.HasPrefix(name, v2) {
			return hint
		}
	}
	for _, t := range v.templates {
		if strings.HasPrefix(t.prefix, v2) {
			return hint
		}
	}
	return ""
}
