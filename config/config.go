package config

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/casbin/casbin/v2/persist"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/casbin/casbin/v2/model"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
	"github.com/mcpauthz/mcpauthz/core/inspect"
	"github.com/mcpauthz/mcpauthz/core/mapper"
	"github.com/mcpauthz/mcpauthz/core/verifier"
	"github.com/mcpauthz/mcpauthz/internal/strictyaml"
)

// MaxFileBytes caps the configuration file size.
const MaxFileBytes = 1 << 20

// ErrInvalid is wrapped by every error about the file's content.
var ErrInvalid = errors.New("config: invalid configuration")

// PolicySourceFactory builds a policy source named by policy.source, from
// policy.options. It is how database sources plug in without this package
// importing their drivers.
type PolicySourceFactory func(ctx context.Context, options map[string]any) (casbinauthz.Source, error)

// StoreFactory applies the store named by stores.sessions, built from
// stores.options, to cfg (typically by setting cfg.Sessions to a shared
// core.SessionBindings). It returns what must be closed when the Guard is
// retired (nil if nothing). The Redis module provides one.
type StoreFactory func(ctx context.Context, options map[string]any, cfg *core.Config) (io.Closer, error)

// WatcherFactory builds the policy watcher named by policy.watcher.kind,
// from policy.watcher.options. The watcher is given to the Authorizer
// (SetWatcher) and closed by Built.Close. A backend that cannot be reached
// at start should not fail it: the watcher connects when it can (the
// policy poll covers the meantime). The Redis module provides one.
type WatcherFactory func(ctx context.Context, options map[string]any, log *slog.Logger) (persist.Watcher, error)

// Options are what the file cannot say: process resources and the
// registries of pluggable sources. The zero value is ready to use.
type Options struct {
	// Logger receives the Guard's, verifier's and policy's logs, and the
	// audit records when audit.log is set. OPTIONAL; nil discards.
	Logger *slog.Logger
	// HTTPClient fetches discovery documents and key sets. OPTIONAL.
	HTTPClient *http.Client
	// LookupEnv expands ${NAME} in values. OPTIONAL; default os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// PolicySources registers policy.source names besides "file".
	// OPTIONAL.
	PolicySources map[string]PolicySourceFactory
	// Stores registers stores.sessions names besides "memory". OPTIONAL.
	Stores map[string]StoreFactory
	// Watchers registers policy.watcher.kind names. OPTIONAL.
	Watchers map[string]WatcherFactory
	// Now is the clock of the verifier and the Guard. OPTIONAL.
	Now func() time.Time
	// TracerProvider and MeterProvider receive the Guard's, verifier's and
	// policy's spans and metrics, as far as the file's telemetry section
	// lets them (telemetry.traces, telemetry.metrics). OPTIONAL; nil records
	// nothing. Must be nil with telemetry.providers: global.
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	// GlobalTracerProvider and GlobalMeterProvider are how
	// telemetry.providers: global reaches OpenTelemetry's global providers:
	// set them to otel.GetTracerProvider and otel.GetMeterProvider. The
	// library does not import go.opentelemetry.io/otel itself (its global
	// state pulls go-logr and the auto-instrumentation SDK into every
	// user's build), so with both nil, providers: global is an error.
	// OPTIONAL; read once by Build.
	GlobalTracerProvider func() trace.TracerProvider
	GlobalMeterProvider  func() metric.MeterProvider
}

// Load reads and parses the file at path (see [Parse]).
func Load(path string, opts Options) (*File, string, error) {
	data, err := strictyaml.ReadFile(path, MaxFileBytes)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	file, err := Parse(data, opts)
	return file, filepath.Dir(path), err
}

// Parse decodes a configuration document strictly (internal/strictyaml:
// unknown and duplicate keys, anchors and several documents are errors
// naming the field) after expanding ${NAME} from Options.LookupEnv, and
// checks what can be checked without building.
func Parse(data []byte, opts Options) (*File, error) {
	lookup := opts.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	var f File
	if err := strictyaml.Decode(data, &f, strictyaml.Options{LookupEnv: lookup}); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if len(f.Stores.Options) > 0 || f.Policy.Watcher != nil {
		// A store's password comes from the environment, never the file.
		var raw File
		if err := strictyaml.Decode(data, &raw, strictyaml.Options{}); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		const msg = "holds a password: write the password, or the whole URL, as exactly ${NAME} (an environment variable); a secret is never written in the file"
		if k, found := strictyaml.LiteralURLPassword(raw.Stores.Options); found {
			return nil, invalid("stores.options."+k, msg)
		}
		if w := raw.Policy.Watcher; w != nil {
			if k, found := strictyaml.LiteralURLPassword(w.Options); found {
				return nil, invalid("policy.watcher.options."+k, msg)
			}
		}
	}
	if f.Resource == "" {
		return nil, invalid("resource", "is required")
	}
	if len(f.Issuers) == 0 {
		return nil, invalid("issuers", "at least one issuer is required")
	}
	if w := f.Policy.Watcher; w != nil && w.Kind == "" {
		return nil, invalid("policy.watcher.kind", "is required (a registered watcher, e.g. redis in the mcpauthz-redis binary)")
	}
	if f.AuthenticateOnly {
		if f.Model != "" || len(f.Policy.Files) > 0 || f.Policy.Source != "" || f.Policy.Watcher != nil {
			return nil, invalid("authenticate_only", "cannot be combined with model or policy")
		}
	} else if f.Model == "" {
		return nil, invalid("model", "is required (a shipped model name or a .conf file), or set authenticate_only")
	}
	switch f.Telemetry.Providers {
	case "", "options", "global":
	default:
		return nil, invalid("telemetry.providers", fmt.Sprintf("unknown value %q (options or global)", f.Telemetry.Providers))
	}
	if n := f.MaxTokenBytes; n < 0 || n > core.MaxTokenBytes || n > 0 && n < 1024 {
		return nil, invalid("max_token_bytes", fmt.Sprintf("%d: between 1024 and %d", n, core.MaxTokenBytes))
	}
	if n := f.Telemetry.ObjectNameBytes; n > core.MaxSpanObjectNameBytes || n > 0 && n < core.MinSpanObjectNameBytes {
		return nil, invalid("telemetry.object_name_bytes", fmt.Sprintf("%d bytes: between %d and %d, or negative to leave the name out", n, core.MinSpanObjectNameBytes, core.MaxSpanObjectNameBytes))
	}
	return &f, nil
}

// providers resolves the telemetry section against opts: the providers the
// Guard, verifier and policy receive (nil: that signal is off).
func (t *FileTelemetry) providers(opts Options) (trace.TracerProvider, metric.MeterProvider, error) {
	tp, mp := opts.TracerProvider, opts.MeterProvider
	if t.Providers == "global" {
		if tp != nil || mp != nil {
			return nil, nil, invalid("telemetry.providers", "global, but Options carries providers too: use one or the other")
		}
		if opts.GlobalTracerProvider == nil || opts.GlobalMeterProvider == nil {
			return nil, nil, invalid("telemetry.providers", "global, but this program passes no global providers "+
				"(config.Options.GlobalTracerProvider = otel.GetTracerProvider and GlobalMeterProvider = otel.GetMeterProvider); "+
				"the mcpauthz binary exports no telemetry: remove the setting")
		}
		tp, mp = opts.GlobalTracerProvider(), opts.GlobalMeterProvider()
	}
	if t.Traces != nil && !*t.Traces {
		tp = nil
	}
	if t.Metrics != nil && !*t.Metrics {
		mp = nil
	}
	return tp, mp, nil
}

func invalid(path, msg string) error { return fmt.Errorf("%w: %s: %s", ErrInvalid, path, msg) }

// Built is everything a file builds. Config is ready for core.New; the
// other fields are its parts, for callers that need them (the CLI maps
// claims with Mapper and decides with Authorizer).
type Built struct {
	Config     core.Config
	Verifier   *verifier.Verifier
	Mapper     core.ClaimMapper
	Authorizer *casbinauthz.Authorizer // nil with authenticate_only
	// Attributes is the attribute schema of all mappers in use (presets'
	// included): what a policy of a model with an attrs token may read.
	Attributes []core.AttributeSpec
	closers    []io.Closer
}

// Close releases the stores built by registered factories.
func (b *Built) Close() error {
	var errs []error
	for _, c := range b.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// Build turns f into a Guard configuration. baseDir resolves relative
// file paths (model, policy files). It performs no network I/O (issuer keys
// are fetched lazily) but loads the policy; with policy.watch it starts the
// policy watcher, which stops when ctx is done.
func (f *File) Build(ctx context.Context, baseDir string, opts Options) (*Built, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Built{}
	tp, mp, err := f.Telemetry.providers(opts)
	if err != nil {
		return nil, err
	}
	vcfg := verifier.Config{
		Audience: f.Audience, NormalizeAudience: f.NormalizeAudience, Leeway: f.Leeway, MaxTokenBytes: f.MaxTokenBytes,
		Now: opts.Now, HTTPClient: opts.HTTPClient, Logger: log, MeterProvider: mp,
		Cache: verifier.CacheConfig{MaxEntries: f.TokenCache.MaxEntries, TTL: f.TokenCache.TTL},
	}
	if len(vcfg.Audience) == 0 {
		vcfg.Audience = []string{f.Resource}
	}
	var defaultMapper core.ClaimMapper
	if f.Mapper != nil {
		m, err := f.Mapper.build()
		if err != nil {
			return nil, invalid("mapper", err.Error())
		}
		defaultMapper = m
	}
	var asURLs []string
	var policyIssuers []casbinauthz.Issuer
	for i := range f.Issuers {
		entries, err := f.Issuers[i].build(vcfg.Audience, defaultMapper)
		if err != nil {
			return nil, invalid(fmt.Sprintf("issuers[%d]", i), err.Error())
		}
		// The first entry is the IdP's authorization server (Entra's v1
		// issuer is not one clients can discover).
		if e := entries[0]; !strings.Contains(e.Issuer, verifier.TenantPlaceholder) {
			asURLs = append(asURLs, e.Issuer)
		}
		vcfg.Issuers = append(vcfg.Issuers, entries...)
		if fi := &f.Issuers[i]; fi.Alias != "" {
			for j, e := range entries {
				alias := fi.Alias
				if j > 0 { // Entra's v1 issuer
					alias += "-v1"
				}
				policyIssuers = append(policyIssuers, casbinauthz.Issuer{Issuer: e.Issuer, Alias: alias, AssertsTenant: fi.AssertsTenant})
			}
		} else if f.Issuers[i].AssertsTenant {
			return nil, invalid(fmt.Sprintf("issuers[%d].asserts_tenant", i), "needs an alias")
		}
	}
	if len(policyIssuers) > 0 && len(policyIssuers) != len(vcfg.Issuers) {
		return nil, invalid("issuers", "either every issuer has an alias or none has")
	}
	attrs, err := attributeSchema(vcfg.Issuers)
	if err != nil {
		return nil, err
	}
	b.Attributes = attrs
	v, err := verifier.New(ctx, vcfg)
	if err != nil {
		return nil, fmt.Errorf("%w: issuers: %w", ErrInvalid, err)
	}
	b.Verifier, b.Mapper = v, v.Mapper()
	md := core.ProtectedResourceMetadata{
		AuthorizationServers:  f.Metadata.AuthorizationServers,
		ScopesSupported:       f.Metadata.ScopesSupported,
		ResourceName:          f.Metadata.ResourceName,
		ResourceDocumentation: f.Metadata.ResourceDocumentation,
		MCPExtensions:         f.Metadata.MCPExtensions,
	}
	if len(md.AuthorizationServers) == 0 {
		md.AuthorizationServers = asURLs
	}
	g := f.Guard
	b.Config = core.Config{
		Resource: f.Resource, Verifier: v, Mapper: b.Mapper, AuthenticateOnly: f.AuthenticateOnly, Metadata: md,
		MaxBodyBytes: g.MaxBodyBytes, DenyCode: g.DenyCode, ChallengeScopes: g.ChallengeScopes,
		AllowedOrigins: g.AllowedOrigins, AllowEventReplay: g.AllowEventReplay,
		DisableSessionBinding: g.DisableSessionBinding, SessionTTL: g.SessionTTL, MaxSessions: g.MaxSessions,
		MaxSessionsPerPrincipal: g.MaxSessionsPerPrincipal, MaxSessionBytes: g.MaxSessionBytes,
		RetryAfter: g.RetryAfter, Logger: opts.Logger, Now: opts.Now,
		TracerProvider: tp, MeterProvider: mp, SpanObjectNameBytes: f.Telemetry.ObjectNameBytes,
	}
	if f.Audit.Log {
		b.Config.Audit = core.SlogAudit(log)
	}
	args, err := ArgDecls(f.Arguments)
	if err != nil {
		return nil, invalid("arguments", err.Error())
	}
	b.Config.Inspect.Args = args
	if !f.AuthenticateOnly {
		a, err := f.buildAuthorizer(ctx, baseDir, opts, authorizerParts{log: log, issuers: policyIssuers, attrs: attrs, mp: mp, args: args})
		if err != nil {
			return nil, err
		}
		b.Authorizer, b.Config.Authorizer = a, a
		if err := f.Policy.startWatcher(ctx, a, opts, log, b); err != nil {
			return nil, err
		}
	}
	switch s := f.Stores.Sessions; s {
	case "", "memory":
		if len(f.Stores.Options) > 0 {
			_ = b.Close()
			return nil, invalid("stores.options", "the memory store takes no options")
		}
	default:
		factory := opts.Stores[s]
		if factory == nil {
			_ = b.Close()
			return nil, invalid("stores.sessions", fmt.Sprintf("unknown store %q (registered: memory%s)", s, names(opts.Stores)))
		}
		c, err := factory(ctx, f.Stores.Options, &b.Config)
		if err != nil {
			_ = b.Close() // the policy watcher
			return nil, fmt.Errorf("%w: stores.sessions %q: %w", ErrInvalid, s, err)
		}
		if c != nil {
			b.closers = append(b.closers, c)
		}
	}
	return b, nil
}

// startWatcher builds policy.watcher, if any, with its registered factory
// and gives it to a; Built.Close closes it.
func (p *FilePolicy) startWatcher(ctx context.Context, a *casbinauthz.Authorizer, opts Options, log *slog.Logger, b *Built) error {
	if p.Watcher == nil {
		return nil
	}
	k := p.Watcher.Kind
	factory := opts.Watchers[k]
	if factory == nil {
		reg := names(opts.Watchers)
		if reg == "" {
			reg = ", none"
		}
		return invalid("policy.watcher.kind", fmt.Sprintf("unknown watcher %q (registered%s; the mcpauthz-redis binary registers redis)", k, strings.Replace(reg, ", ", ": ", 1)))
	}
	w, err := factory(ctx, p.Watcher.Options, log)
	if err != nil {
		return fmt.Errorf("%w: policy.watcher %q: %w", ErrInvalid, k, err)
	}
	if err := a.SetWatcher(w); err != nil {
		w.Close()
		return fmt.Errorf("%w: policy.watcher %q: %w", ErrInvalid, k, err)
	}
	b.closers = append(b.closers, watcherCloser{w})
	return nil
}

// watcherCloser adapts persist.Watcher's Close to io.Closer.
type watcherCloser struct{ persist.Watcher }

func (w watcherCloser) Close() error { w.Watcher.Close(); return nil }

func names[V any](m map[string]V) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	if len(out) == 0 {
		return ""
	}
	return ", " + strings.Join(out, ", ")
}

// NewGuard is the one-call constructor: it loads the file at path, builds
// it and returns the Guard. The Guard's stores built by registered
// factories live as long as the process; use [Load] and [File.Build] to
// close them.
func NewGuard(ctx context.Context, path string, opts Options) (*core.Guard, error) {
	f, dir, err := Load(path, opts)
	if err != nil {
		return nil, err
	}
	b, err := f.Build(ctx, dir, opts)
	if err != nil {
		return nil, err
	}
	g, err := core.New(b.Config)
	if err != nil {
		_ = b.Close()
		return nil, err
	}
	return g, nil
}

// ModelText resolves model: a shipped name or a file (relative to baseDir).
func ModelText(model, baseDir string) (string, error) {
	if !strings.HasSuffix(model, ".conf") && !strings.ContainsAny(model, `/\`) {
		text, err := casbinmodels.Model(model)
		if err != nil {
			return "", fmt.Errorf("unknown shipped model %q (shipped: %s; a file needs a .conf suffix)", model, strings.Join(casbinmodels.Names(), ", "))
		}
		return text, nil
	}
	data, err := os.ReadFile(resolve(baseDir, model))
	if err != nil {
		return "", err
	}
	return string(data), nil
}

func resolve(baseDir, p string) string {
	if filepath.IsAbs(p) || baseDir == "" {
		return p
	}
	return filepath.Join(baseDir, p)
}

// authorizerParts are what Build derived for the authorizer.
type authorizerParts struct {
	log     *slog.Logger
	issuers []casbinauthz.Issuer
	attrs   []core.AttributeSpec
	mp      metric.MeterProvider
	args    *inspect.ArgDecls // the arguments section
}

func (f *File) buildAuthorizer(ctx context.Context, baseDir string, opts Options, parts authorizerParts) (*casbinauthz.Authorizer, error) {
	model, err := ModelText(f.Model, baseDir)
	if err != nil {
		return nil, invalid("model", err.Error())
	}
	if !modelHasAttrs(model) {
		parts.attrs = nil // the policy cannot reference attributes
	}
	var src casbinauthz.Source
	switch s := f.Policy.Source; s {
	case "", "file":
		if len(f.Policy.Files) == 0 {
			return nil, invalid("policy.files", "is required for the file source")
		}
		if len(f.Policy.Options) > 0 {
			return nil, invalid("policy.options", "the file source takes no options")
		}
		fs := casbinauthz.FileSource{}
		for _, p := range f.Policy.Files {
			fs.Paths = append(fs.Paths, resolve(baseDir, p))
		}
		src = fs
	default:
		factory := opts.PolicySources[s]
		if factory == nil {
			return nil, invalid("policy.source", fmt.Sprintf("unknown source %q (registered: file%s)", s, names(opts.PolicySources)))
		}
		if len(f.Policy.Files) > 0 {
			return nil, invalid("policy.files", "only for the file source")
		}
		if src, err = factory(ctx, f.Policy.Options); err != nil {
			return nil, fmt.Errorf("%w: policy.source %q: %w", ErrInvalid, s, err)
		}
	}
	a, err := casbinauthz.New(casbinauthz.Config{
		Model: model, Source: src, Logger: parts.log, CacheSize: f.Policy.CacheSize,
		PollInterval: f.Policy.PollInterval, AllowEmptyPolicy: f.Policy.AllowEmpty, Issuers: parts.issuers,
		Attributes: parts.attrs, MeterProvider: parts.mp, Args: parts.args,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: policy: %w", ErrInvalid, err)
	}
	if f.Policy.Watch {
		go func() { _ = a.Watch(ctx) }()
	}
	return a, nil
}

// build returns the verifier entries of one file issuer.
func (fi *FileIssuer) build(audience []string, defaultMapper core.ClaimMapper) ([]verifier.IssuerConfig, error) {
	aud := fi.Audience
	if aud == nil {
		aud = audience
	}
	var entries []verifier.IssuerConfig
	presetOnly := map[string]bool{}
	set := func(name string, isSet bool) {
		if isSet {
			presetOnly[name] = true
		}
	}
	set("domain", fi.Domain != "")
	set("authorization_server", fi.AuthorizationServer != "")
	set("tenant_ids", len(fi.TenantIDs) > 0)
	set("allow_any_tenant", fi.AllowAnyTenant)
	set("client_id", fi.ClientID != "")
	set("app_id_uri", fi.AppIDURI != "")
	set("accept_v1", fi.AcceptV1)
	set("allow_group_overage", fi.AllowGroupOverage)
	set("url", fi.URL != "")
	set("realm", fi.Realm != "")
	set("client_roles", len(fi.ClientRoles) > 0)
	set("namespace", fi.Namespace != "")
	set("hosted_domains", len(fi.HostedDomains) > 0)
	set("allow_service_accounts", fi.AllowServiceAccounts)
	allowed := map[string][]string{
		"okta":     {"domain", "authorization_server"},
		"entra":    {"tenant_ids", "allow_any_tenant", "client_id", "app_id_uri", "accept_v1", "allow_group_overage"},
		"keycloak": {"url", "realm", "client_roles"},
		"auth0":    {"domain", "namespace"},
		"google":   {"hosted_domains", "allow_service_accounts"},
		"":         nil,
	}
	ok, known := allowed[fi.Preset]
	if !known {
		return nil, fmt.Errorf("preset: unknown preset %q (okta, entra, keycloak, auth0, google, or empty for a generic issuer)", fi.Preset)
	}
	for name := range presetOnly {
		if !slices.Contains(ok, name) {
			p := fi.Preset
			if p == "" {
				p = "a generic issuer"
			}
			return nil, fmt.Errorf("%s: not a field of %s", name, p)
		}
	}
	var err error
	var p verifier.Preset
	switch fi.Preset {
	case "okta":
		p, err = verifier.Okta(verifier.OktaConfig{Domain: fi.Domain, AuthorizationServer: fi.AuthorizationServer, Audience: aud})
	case "entra":
		if fi.Audience != nil {
			return nil, errors.New("audience: Entra's audience is client_id (and app_id_uri); do not set it")
		}
		p, err = verifier.Entra(verifier.EntraConfig{TenantIDs: fi.TenantIDs, AllowAnyTenant: fi.AllowAnyTenant, ClientID: fi.ClientID, AppIDURI: fi.AppIDURI, AcceptV1: fi.AcceptV1, AllowGroupOverage: fi.AllowGroupOverage})
	case "keycloak":
		p, err = verifier.Keycloak(verifier.KeycloakConfig{URL: fi.URL, Realm: fi.Realm, Audience: aud, ClientRoles: fi.ClientRoles})
	case "auth0":
		p, err = verifier.Auth0(verifier.Auth0Config{Domain: fi.Domain, Audience: aud, Namespace: fi.Namespace})
	case "google":
		p, err = verifier.Google(verifier.GoogleConfig{Audience: aud, HostedDomains: fi.HostedDomains, AllowServiceAccounts: fi.AllowServiceAccounts})
	case "":
		if fi.Issuer == "" {
			return nil, errors.New("issuer: is required for a generic issuer (or set preset)")
		}
		p.Issuers = []verifier.IssuerConfig{{Issuer: fi.Issuer, Audience: aud, Mapper: defaultMapper}}
	}
	if err != nil {
		return nil, err
	}
	jwks, err := strictyaml.InlineJSON(fi.JWKS)
	if err != nil {
		return nil, fmt.Errorf("jwks: %v", err)
	}
	var m core.ClaimMapper
	if fi.Mapper != nil {
		if m, err = fi.Mapper.build(); err != nil {
			return nil, fmt.Errorf("mapper: %v", err)
		}
	}
	for _, e := range p.Issuers {
		if fi.Preset != "" && fi.Issuer != "" {
			return nil, fmt.Errorf("issuer: the %s preset sets it (%s)", fi.Preset, e.Issuer)
		}
		if fi.JWKSURI != "" || fi.DiscoveryURL != "" || jwks != nil {
			e.JWKSURL, e.DiscoveryURL, e.JWKS = fi.JWKSURI, fi.DiscoveryURL, jwks
		}
		if fi.AllowedTenants != nil {
			e.AllowedTenants = fi.AllowedTenants
		}
		if fi.Types != nil {
			e.Types = fi.Types
		}
		e.Algorithms, e.RequiredClaims, e.RefreshInterval = fi.Algorithms, fi.RequiredClaims, fi.RefreshInterval
		if m != nil {
			e.Mapper = m // e.Checks, the preset's, stay
		}
		e.DisableChecks = fi.DisableChecks
		if len(entries) == 0 { // the IdP's main issuer (not Entra's v1 one)
			e.EquivalentIssuers = fi.EquivalentIssuers
		}
		entries = append(entries, e)
	}
	return entries, nil
}

func (fm *FileMapper) build() (core.ClaimMapper, error) {
	cfg := mapper.Config{
		SubjectClaim: fm.Subject, ClientIDClaims: fm.ClientID, ScopeClaims: fm.Scopes, GroupClaims: fm.Groups,
		RoleClaims: fm.Roles, TenantClaims: fm.Tenant, AttributeClaims: fm.Attributes, ClientClaims: fm.ClientClaims,
		IgnoreSubjectEqualsClientID: fm.IgnoreSubjectEqualsClientID,
	}
	for _, name := range slices.Sorted(maps.Keys(fm.AttributeSchema)) {
		a := fm.AttributeSchema[name]
		switch t := core.AttributeType(a.Type); t {
		case core.AttrString, core.AttrStrings, core.AttrBool, core.AttrNumber:
		case "":
			return nil, fmt.Errorf("attribute_schema.%s.type: is required (string, strings, bool or number)", name)
		default:
			return nil, fmt.Errorf("attribute_schema.%s.type: unknown type %q (string, strings, bool or number)", name, t)
		}
		if _, ok := fm.Attributes[name]; !ok {
			return nil, fmt.Errorf("attribute_schema.%s: not a key of attributes (the claim it is read from)", name)
		}
		spec, err := core.AttributeSpec{Name: name, Type: core.AttributeType(a.Type), Default: a.Default}.Normalize()
		if err != nil {
			return nil, fmt.Errorf("attribute_schema.%s.default: %v", name, err)
		}
		cfg.AttributeSpecs = append(cfg.AttributeSpecs, spec)
	}
	if len(fm.Require) > 0 {
		rules := slices.Clone(fm.Require)
		for i, r := range rules {
			if err := core.ValidateClaimPath(r.Claim); err != nil {
				return nil, fmt.Errorf("require[%d].claim: %v", i, err)
			}
		}
		cfg.Refine = func(c *core.Claims, _ *core.Principal) error { return checkRequire(c, rules) }
	}
	return mapper.Standard(cfg)
}

// modelHasAttrs reports whether the model's request has an attrs token,
// the only way a policy sees attributes. A model that does not parse is
// reported by casbinauthz.New.
func modelHasAttrs(text string) bool {
	m, err := model.NewModelFromString(text)
	if err != nil {
		return false
	}
	r := m["r"]["r"]
	return r != nil && slices.Contains(r.Tokens, "r_attrs")
}

// attributeSchema is what the policy may reference: the union of the
// attribute schemas of every issuer's mapper. An attribute declared by two
// mappers with another type or default is an error.
func attributeSchema(entries []verifier.IssuerConfig) ([]core.AttributeSpec, error) {
	seen := map[string]core.AttributeSpec{}
	from := map[string]string{}
	for _, e := range entries {
		s, ok := e.Mapper.(core.AttributeSchemer)
		if !ok {
			continue
		}
		for _, spec := range s.AttributeSchema() {
			if prev, dup := seen[spec.Name]; dup && (prev.Type != spec.Type || fmt.Sprint(prev.Default) != fmt.Sprint(spec.Default)) {
				return nil, invalid("mapper", fmt.Sprintf("attribute %q is %s (default %v) for issuer %s but %s (default %v) for issuer %s: declare it alike in attribute_schema",
					spec.Name, prev.Type, prev.Default, from[spec.Name], spec.Type, spec.Default, e.Issuer))
			}
			seen[spec.Name], from[spec.Name] = spec, e.Issuer
		}
	}
	out := make([]core.AttributeSpec, 0, len(seen))
	for _, n := range slices.Sorted(maps.Keys(seen)) {
		out = append(out, seen[n])
	}
	return out, nil
}

// checkRequire applies FileMapper.Require.
func checkRequire(c *core.Claims, rules []FileRequire) error {
	for _, r := range rules {
		v, ok := c.Lookup(r.Claim)
		text, scalar := scalarText(v)
		if !ok || v == nil || (scalar && text == "") {
			return fmt.Errorf("%w: required claim %s is missing", core.ErrMapping, r.Claim)
		}
		if len(r.OneOf) > 0 && (!scalar || !slices.Contains(r.OneOf, text)) {
			return fmt.Errorf("%w: claim %s has a value outside require.one_of", core.ErrMapping, r.Claim)
		}
	}
	return nil
}

func scalarText(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case bool:
		return fmt.Sprint(t), true
	case json.Number:
		return t.String(), true
	case float64:
		return fmt.Sprint(t), true
	}
	return "", false
}
