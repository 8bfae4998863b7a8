package config

import "time"

// File is the documented file format (docs/configuration.md). Keys are
// snake_case; unknown keys are errors. Every field is OPTIONAL unless
// marked REQUIRED; the zero value selects the default named in its comment.
type File struct {
	// Resource is the canonical MCP endpoint URL (core.Config.Resource).
	// REQUIRED.
	Resource string `yaml:"resource"`
	// Metadata is the RFC 9728 document. authorization_servers defaults to
	// each issuer's URL (templates and Entra's v1 issuer excluded).
	Metadata FileMetadata `yaml:"metadata"`
	// Issuers are the trusted token issuers. REQUIRED, at least one.
	Issuers []FileIssuer `yaml:"issuers"`
	// Audience is the default "aud" list of issuers without their own.
	// Default [resource].
	Audience []string `yaml:"audience"`
	// NormalizeAudience compares http(s) audiences after normalization.
	// Default false (exact).
	NormalizeAudience bool `yaml:"normalize_audience"`
	// Leeway is the clock skew for exp/nbf/iat. Default 30s, at most 5m.
	Leeway time.Duration `yaml:"leeway"`
	// MaxTokenBytes caps the length of a bearer token
	// (verifier.Config.MaxTokenBytes). Default 8192; at most 16384
	// (core.MaxTokenBytes). An Entra ID token carrying 200 groups is about
	// 12 KiB. "mcpauthz proxy" sizes its header budget from it.
	MaxTokenBytes int `yaml:"max_token_bytes"`
	// TokenCache configures the verified-token cache.
	TokenCache FileTokenCache `yaml:"token_cache"`
	// Mapper maps the claims of issuers without a preset (and of presets
	// whose mapper it overrides, see FileIssuer.Mapper). Default:
	// core.DefaultMapper (sub, client_id/azp, scope/scp).
	Mapper *FileMapper `yaml:"mapper"`
	// Model is the Casbin model: a shipped name (casbinmodels.Names) or,
	// with a ".conf" suffix or a path separator, a file. REQUIRED unless
	// authenticate_only.
	Model string `yaml:"model"`
	// Policy is the policy source. REQUIRED unless authenticate_only.
	Policy FilePolicy `yaml:"policy"`
	// AuthenticateOnly lets every authenticated, well-formed request
	// through without a policy. Default false.
	AuthenticateOnly bool `yaml:"authenticate_only"`
	// Stores selects where shared state lives.
	Stores FileStores `yaml:"stores"`
	// Audit configures decision records.
	Audit FileAudit `yaml:"audit"`
	// Telemetry selects the OpenTelemetry signals (docs/operations.md).
	Telemetry FileTelemetry `yaml:"telemetry"`
	// Guard holds the remaining core.Config knobs.
	Guard FileGuard `yaml:"guard"`
	// Proxy configures "mcpauthz proxy" (see FileProxy).
	Proxy FileProxy `yaml:"proxy"`
	// Arguments declares the tool arguments the policy may read (r.args,
	// model abac_args). Default none.
	Arguments []FileToolArgs `yaml:"arguments"`
}

// FileMetadata is the RFC 9728 document (core.ProtectedResourceMetadata).
type FileMetadata struct {
	AuthorizationServers  []string `yaml:"authorization_servers"`
	ScopesSupported       []string `yaml:"scopes_supported"`
	ResourceName          string   `yaml:"resource_name"`
	ResourceDocumentation string   `yaml:"resource_documentation"`
	// MCPExtensions becomes the "mcp_extensions" member. Default none.
	MCPExtensions map[string]any `yaml:"mcp_extensions"`
}

// FileIssuer is one trusted issuer: an IdP preset, or a generic issuer.
type FileIssuer struct {
	// Preset is "okta", "entra", "keycloak", "auth0", "google", or empty
	// for a generic issuer (issuer REQUIRED).
	Preset string `yaml:"preset"`

	// Okta and Auth0: the org or tenant domain. REQUIRED for them.
	Domain string `yaml:"domain"`
	// Okta: the custom authorization server id. Default "default".
	AuthorizationServer string `yaml:"authorization_server"`
	// Entra: tenant GUIDs (REQUIRED unless allow_any_tenant), the app's
	// client id (REQUIRED), its Application ID URI, v1 tokens.
	TenantIDs      []string `yaml:"tenant_ids"`
	AllowAnyTenant bool     `yaml:"allow_any_tenant"`
	ClientID       string   `yaml:"client_id"`
	AppIDURI       string   `yaml:"app_id_uri"`
	AcceptV1       bool     `yaml:"accept_v1"`
	// Entra: accept user tokens whose groups did not fit (groups
	// overage). Default false: refused.
	AllowGroupOverage bool `yaml:"allow_group_overage"`
	// Keycloak: base URL and realm (REQUIRED for it), client ids whose
	// client roles are mapped.
	URL         string   `yaml:"url"`
	Realm       string   `yaml:"realm"`
	ClientRoles []string `yaml:"client_roles"`
	// Auth0: custom-claim namespace.
	Namespace string `yaml:"namespace"`
	// Google: Workspace domains; service accounts as clients.
	HostedDomains        []string `yaml:"hosted_domains"`
	AllowServiceAccounts bool     `yaml:"allow_service_accounts"`

	// Generic issuers (and overrides for presets):
	// Issuer is the exact "iss" (may contain "{tenantid}").
	Issuer         string   `yaml:"issuer"`
	AllowedTenants []string `yaml:"allowed_tenants"`
	// EquivalentIssuers are further exact "iss" values of this issuer (its
	// own, or a preset's): one IdP with one key set under two names, such
	// as a custom domain. Tokens carrying one are this issuer's, reported
	// with its iss (verifier.IssuerConfig.EquivalentIssuers). Exact strings
	// only: no wildcard, not with a "{tenantid}" issuer. Default none.
	EquivalentIssuers []string `yaml:"equivalent_issuers"`
	// Key source: at most one of jwks_uri, discovery_url, jwks (inline JWK
	// Set object or JSON string). Default: discovery from the issuer.
	JWKSURI      string `yaml:"jwks_uri"`
	DiscoveryURL string `yaml:"discovery_url"`
	JWKS         any    `yaml:"jwks"`
	// Types are the accepted JOSE typ values ("" = absent). Default
	// [at+jwt] for generic issuers, the IdP's for presets.
	Types []string `yaml:"types"`
	// Algorithms: default RS256, PS256, ES256, EdDSA.
	Algorithms []string `yaml:"algorithms"`
	// RequiredClaims: default [sub].
	RequiredClaims []string `yaml:"required_claims"`
	// Audience replaces the top-level audience for this issuer. Default:
	// the top-level audience (presets: the top-level audience too, except
	// Entra, whose audience is its client id and app_id_uri).
	Audience []string `yaml:"audience"`
	// RefreshInterval of the key set. Default 15m; negative disables.
	RefreshInterval time.Duration `yaml:"refresh_interval"`
	// Mapper replaces the issuer's claim layout (the preset's, or the
	// top-level mapper for generic issuers). For a preset it changes how
	// claims are mapped only: the preset's security checks (Keycloak's
	// payload typ, Entra's tenant, Google's service accounts, ...; see
	// docs/security.md) still run on every token.
	Mapper *FileMapper `yaml:"mapper"`
	// DisableChecks turns off security checks of the preset by name
	// ("keycloak.bearer_typ", "entra.group_overage", ...;
	// verifier.IssuerConfig.DisableChecks). Each name must be a check of
	// this issuer, and each one disabled is logged at start. Default none.
	DisableChecks []string `yaml:"disable_checks"`
	// Alias names the issuer in policy (casbinauthz.Issuer.Alias: subjects
	// "<alias>/group:eng"). REQUIRED when the file trusts several issuers
	// or a "{tenantid}" issuer (core.New refuses shared subjects); then
	// every issuer needs one. Entra's v1 issuer (accept_v1) is "<alias>-v1".
	// Default none (single issuer, plain subjects).
	Alias string `yaml:"alias"`
	// AssertsTenant trusts this issuer's tenant claim for the policy
	// domain (casbinauthz.Issuer.AssertsTenant). Default false.
	AssertsTenant bool `yaml:"asserts_tenant"`
}

// FileMapper is a claim layout (core/mapper.Config). Claim paths follow
// core.Claims.Lookup: a top-level name, a dotted path into objects, and
// double-quoted segments for names with dots or URLs
// ('"https://corp.example/claims".teams').
type FileMapper struct {
	// Subject claim. Default "sub".
	Subject string `yaml:"subject"`
	// ClientID claims, first non-empty wins. Default [client_id, azp].
	ClientID []string `yaml:"client_id"`
	// Scopes claims (space-separated strings or lists). Default [scope, scp].
	Scopes []string `yaml:"scopes"`
	// Groups claims. Default [groups].
	Groups []string `yaml:"groups"`
	// Roles claims. Default [roles].
	Roles []string `yaml:"roles"`
	// Tenant claims. Default [tid, tenant].
	Tenant []string `yaml:"tenant"`
	// Attributes maps attribute names to claim paths. Default none.
	Attributes map[string]string `yaml:"attributes"`
	// AttributeSchema types attributes and sets the value a policy sees
	// when a token does not carry one: attribute name (a key of
	// attributes) → {type, default}. Default: string with default "" for
	// every attribute, except amr (strings, []) and email_verified (bool,
	// false). The schemas of all mappers in use (presets' included) are the
	// attributes the policy may reference (casbinauthz.Config.Attributes);
	// a policy or model referencing any other r.attrs name is refused.
	AttributeSchema map[string]FileAttribute `yaml:"attribute_schema"`
	// ClientClaims marks client (machine) tokens: claim path → value.
	ClientClaims map[string]string `yaml:"client_claims"`
	// IgnoreSubjectEqualsClientID turns off "sub == client id ⇒ client".
	IgnoreSubjectEqualsClientID bool `yaml:"ignore_subject_equals_client_id"`
	// Require are refine rules applied after mapping: each claim must be
	// present (and, with one_of, equal to one of the values), or the
	// token is refused like any unmappable token (401 invalid_token).
	Require []FileRequire `yaml:"require"`
}

// FileAttribute is one entry of FileMapper.AttributeSchema
// (core.AttributeSpec).
type FileAttribute struct {
	// Type is "string", "strings" (a list of strings), "bool" or "number".
	// REQUIRED.
	Type string `yaml:"type"`
	// Default is the value of the attribute for tokens without it; it must
	// have the type (a string, a list of strings, true/false, a number).
	// Default: the zero value of the type ("", [], false, 0).
	Default any `yaml:"default"`
}

// FileRequire is one refine rule of FileMapper.Require.
type FileRequire struct {
	// Claim path. REQUIRED.
	Claim string `yaml:"claim"`
	// OneOf lists accepted values (strings; JSON true/false/numbers are
	// compared by their text). Default: any non-empty value.
	OneOf []string `yaml:"one_of"`
}

// FileTokenCache is verifier.CacheConfig.
type FileTokenCache struct {
	// MaxEntries: default 10000; negative disables.
	MaxEntries int `yaml:"max_entries"`
	// TTL: default 5m.
	TTL time.Duration `yaml:"ttl"`
}

// FilePolicy selects the policy source.
type FilePolicy struct {
	// Source is "file" (default) or a name registered in Options.PolicySources
	// (e.g. a database source).
	Source string `yaml:"source"`
	// Files are the policy CSV files of the "file" source, concatenated in
	// order; relative paths are resolved against the config file's
	// directory. REQUIRED for "file".
	Files []string `yaml:"files"`
	// Options are handed to a registered source factory as is.
	Options map[string]any `yaml:"options"`
	// Watch polls the source and reloads on change (Authorizer.Watch) for
	// as long as the context given to the constructor lives. Default false.
	Watch bool `yaml:"watch"`
	// PollInterval of Watch. Default 5s.
	PollInterval time.Duration `yaml:"poll_interval"`
	// CacheSize bounds cached decisions. Default 10000; negative disables.
	CacheSize int `yaml:"cache_size"`
	// AllowEmpty accepts a policy without rules. Default false.
	AllowEmpty bool `yaml:"allow_empty"`
	// Watcher pushes policy changes to this replica: a Casbin
	// persist.Watcher built by the factory registered in Options.Watchers
	// under Watcher.Kind (the mcpauthz-redis binary registers "redis",
	// Redis pub/sub). On each notification the Authorizer reloads from its
	// source, with the same validation as a poll. Keep watch: true as the
	// backstop (a notification sent while the watcher was disconnected is
	// lost). OPTIONAL; absent: no push.
	Watcher *FileWatcher `yaml:"watcher"`
}

// FileWatcher selects the policy watcher.
type FileWatcher struct {
	// Kind is a name registered in Options.Watchers. REQUIRED.
	Kind string `yaml:"kind"`
	// Options are handed to the watcher factory as is (passwords as
	// exactly ${NAME}, as for stores.options).
	Options map[string]any `yaml:"options"`
}

// FileStores selects shared-state stores.
type FileStores struct {
	// Sessions is "memory" (default: the Guard's in-process binding table)
	// or a name registered in Options.Stores (e.g. "redis").
	Sessions string `yaml:"sessions"`
	// Options are handed to a registered store factory as is.
	Options map[string]any `yaml:"options"`
}

// FileAudit configures decision records.
type FileAudit struct {
	// Log writes one record per decision through the Options.Logger
	// (core.SlogAudit). Default false.
	Log bool `yaml:"log"`
}

// FileTelemetry selects what the Guard, its verifier and its policy report
// through the OpenTelemetry API. The SDK and exporters belong to the
// application, which passes its providers in Options (or installs global
// ones and sets providers: global).
type FileTelemetry struct {
	// Traces turns spans on (core.Config.TracerProvider): one per check
	// with a child per step, one per filtered list. Default true: spans
	// whenever a TracerProvider is available; false drops it.
	Traces *bool `yaml:"traces"`
	// Metrics turns metrics on (the MeterProvider of the Guard, the
	// verifier and the policy). Default true; false drops it.
	Metrics *bool `yaml:"metrics"`
	// Providers is "options" (Options.TracerProvider and
	// Options.MeterProvider; nil ones record nothing) or "global" (OTel's
	// global providers, otel.GetTracerProvider and otel.GetMeterProvider,
	// read once by Build; an explicit opt-in, and Options' providers must
	// then be nil). Default "options".
	Providers string `yaml:"providers"`
	// ObjectNameBytes bounds the object name in the mcpauthz.object.name
	// span attribute (core.Config.SpanObjectNameBytes). Default 256; a
	// negative value leaves the attribute out; otherwise 64 to 8192.
	ObjectNameBytes int `yaml:"object_name_bytes"`
}

// FileGuard holds core.Config knobs.
type FileGuard struct {
	MaxBodyBytes            int64         `yaml:"max_body_bytes"`             // default 1 MiB
	DenyCode                int           `yaml:"deny_code"`                  // default -31403
	ChallengeScopes         []string      `yaml:"challenge_scopes"`           // default metadata.scopes_supported
	AllowedOrigins          []string      `yaml:"allowed_origins"`            // default: no Origin check
	AllowEventReplay        bool          `yaml:"allow_event_replay"`         // default false
	DisableSessionBinding   bool          `yaml:"disable_session_binding"`    // default false
	SessionTTL              time.Duration `yaml:"session_ttl"`                // default core.DefaultSessionTTL
	MaxSessionsPerPrincipal int           `yaml:"max_sessions_per_principal"` // default 100; negative: no cap
	MaxSessions             int           `yaml:"max_sessions"`               // default core.DefaultMaxSessions (memory store)
	MaxSessionBytes         int64         `yaml:"max_session_bytes"`          // default core.DefaultMaxSessionBytes (memory store)
	RetryAfter              time.Duration `yaml:"retry_after"`                // default 5s
}
