package verifier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/mapper"
	"github.com/mcpauthz/mcpauthz/internal/jose"
	"github.com/mcpauthz/mcpauthz/internal/otelx"
)

// Verifier verifies JWT access tokens. It implements core.TokenVerifier and
// is safe for concurrent use.
type Verifier struct {
	exact     map[string]*issuer
	templates []*issuer
	audience  map[string]bool
	normalize bool
	maxLen    int
	allAlgs   []string
	now       func() time.Time
	clock     *coarseClock // cache hits' clock; nil with Config.Now
	cache     *tokenCache
	diag      *diagnostics
	audList   []string // Config.Audience as configured, for diagnostics
	lookups   otelx.CacheLookups
	// headers remembers the few protected headers of verified tokens (8
	// entries of at most 512 bytes), so that a new token from a known
	// issuer and key does not parse its header again.
	headers jose.HeaderCache
}

var _ core.TokenVerifier = (*Verifier)(nil)

// issuer is a validated IssuerConfig.
type issuer struct {
	name           string
	template       bool
	prefix, suffix string
	tenants        map[string]bool
	keys           jose.KeySet // nil when custom is set
	custom         KeySet      // IssuerConfig.KeySet
	algs           []string
	types          map[string]bool
	required       []string
	leeway         time.Duration
	audience       map[string]bool // nil: Verifier.audience
	audList        []string        // as configured, for diagnostics
	mapper         core.ClaimMapper
	checks         []mapper.Check // IssuerConfig.Checks minus DisableChecks
}

// New validates cfg and returns a verifier. Unless cfg.EagerDiscovery, it
// does no network I/O: discovery and key sets are fetched lazily on first
// use, so New succeeds while the IdP is down (tokens then fail with
// core.ErrUnavailable and Ready reports the outage until it is back). With
// EagerDiscovery, New fetches them within ctx and fails when it cannot.
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	if len(cfg.Issuers) == 0 {
		return nil, errors.New("verifier: at least one issuer is required")
	}
	if len(cfg.Audience) == 0 && slices.ContainsFunc(cfg.Issuers, func(c IssuerConfig) bool { return len(c.Audience) == 0 }) {
		return nil, errors.New("verifier: at least one audience (the MCP server's resource identifier) is required")
	}
	leeway, err := checkLeeway(cfg.Leeway, DefaultLeeway)
	if err != nil {
		return nil, err
	}
	v := &Verifier{
		exact:     make(map[string]*issuer, len(cfg.Issuers)),
		audience:  make(map[string]bool, len(cfg.Audience)),
		normalize: cfg.NormalizeAudience,
		maxLen:    cfg.MaxTokenBytes,
		now:       cfg.Now,
	}
	if v.maxLen <= 0 {
		v.maxLen = DefaultMaxTokenBytes
	}
	if v.now == nil {
		v.now = time.Now
		v.clock = newCoarseClock()
	}
	if err := v.addAudiences(v.audience, cfg.Audience); err != nil {
		return nil, err
	}
	v.audList = slices.Clone(cfg.Audience)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	v.diag = newDiagnostics(log, v.now)
	client := jose.SafeHTTPClient(cfg.HTTPClient, 10*time.Second)
	meter := otelx.Meter(cfg.MeterProvider)
	if v.lookups, err = otelx.NewCacheLookups(meter, "verification"); err != nil {
		return nil, fmt.Errorf("verifier: telemetry: %w", err)
	}
	fetches, err := newFetchCounter(meter)
	if err != nil {
		return nil, fmt.Errorf("verifier: telemetry: %w", err)
	}
	for i := range cfg.Issuers {
		is, err := newIssuer(&cfg.Issuers[i], leeway, client, v.now, log, fetches)
		if err != nil {
			return nil, err
		}
		if err := v.issuerAudience(is, &cfg.Issuers[i]); err != nil {
			return nil, err
		}
		if _, dup := v.exact[is.name]; dup || slices.ContainsFunc(v.templates, func(o *issuer) bool { return o.name == is.name }) {
			return nil, fmt.Errorf("verifier: issuer %q configured twice", is.name)
		}
		if is.template {
			v.templates = append(v.templates, is)
		} else {
			v.exact[is.name] = is
		}
		if err := v.addEquivalents(is, cfg.Issuers[i].EquivalentIssuers); err != nil {
			return nil, err
		}
		for _, a := range is.algs {
			if !slices.Contains(v.allAlgs, a) {
				v.allAlgs = append(v.allAlgs, a)
			}
		}
	}
	if cfg.Cache.MaxEntries >= 0 {
		v.cache = newTokenCache(cfg.Cache, v.clock)
	}
	if cfg.EagerDiscovery {
		if err := v.Ready(ctx); err != nil {
			return nil, fmt.Errorf("verifier: eager discovery: %w", err)
		}
	}
	return v, nil
}

// addEquivalents makes each of names select is (IssuerConfig.EquivalentIssuers).
func (v *Verifier) addEquivalents(is *issuer, names []string) error {
	for _, n := range names {
		switch {
		case is.template:
			return fmt.Errorf("verifier: issuer %q: EquivalentIssuers needs an exact issuer, not a %s template", is.name, TenantPlaceholder)
		case n == "" || strings.Contains(n, TenantPlaceholder) || strings.ContainsAny(n, "*?"):
			return fmt.Errorf("verifier: issuer %q: equivalent issuer %q must be an exact iss value (no wildcard, no %s)", is.name, n, TenantPlaceholder)
		case v.exact[n] != nil || slices.ContainsFunc(v.templates, func(o *issuer) bool { return o.name == n }):
			return fmt.Errorf("verifier: issuer %q configured twice (equivalent issuer of %q)", n, is.name)
		}
		v.exact[n] = is
	}
	return nil
}

// NewFromIssuerURL is New for one issuer discovered from its metadata
// (OpenID Connect discovery, then RFC 8414), with the default algorithms and
// typ "at+jwt", accepting the given audiences.
func NewFromIssuerURL(ctx context.Context, issuerURL string, audience ...string) (*Verifier, error) {
	return New(ctx, Config{Issuers: []IssuerConfig{{Issuer: issuerURL}}, Audience: audience})
}

func checkLeeway(d, def time.Duration) (time.Duration, error) {
	switch {
	case d < 0:
		return 0, fmt.Errorf("verifier: negative leeway %v", d)
	case d == 0:
		return def, nil
	case d > MaxLeeway:
		return 0, fmt.Errorf("verifier: leeway %v exceeds %v", d, MaxLeeway)
	}
	return d, nil
}

func newIssuer(c *IssuerConfig, leeway time.Duration, client *http.Client, now func() time.Time, log *slog.Logger, fetches fetchCounter) (*issuer, error) {
	if c.Issuer == "" {
		return nil, errors.New("verifier: empty issuer")
	}
	is := &issuer{name: c.Issuer, leeway: leeway, algs: c.Algorithms, required: c.RequiredClaims}
	if c.Leeway != nil {
		l, err := checkLeeway(*c.Leeway, leeway)
		if err != nil {
			return nil, fmt.Errorf("verifier: issuer %q: %w", c.Issuer, err)
		}
		if *c.Leeway == 0 {
			l = 0
		}
		is.leeway = l
	}
	if n := strings.Count(c.Issuer, TenantPlaceholder); n > 1 {
		return nil, fmt.Errorf("verifier: issuer %q has more than one %s", c.Issuer, TenantPlaceholder)
	} else if n == 1 {
		is.template = true
		is.prefix, is.suffix, _ = strings.Cut(c.Issuer, TenantPlaceholder)
		if len(c.AllowedTenants) > 0 {
			is.tenants = make(map[string]bool, len(c.AllowedTenants))
			for _, t := range c.AllowedTenants {
				if t == "" {
					return nil, fmt.Errorf("verifier: issuer %q: empty allowed tenant", c.Issuer)
				}
				is.tenants[strings.ToLower(t)] = true // tenant ids are GUIDs: case-insensitive
			}
		}
	} else if len(c.AllowedTenants) > 0 {
		return nil, fmt.Errorf("verifier: issuer %q: AllowedTenants needs a %s issuer", c.Issuer, TenantPlaceholder)
	}
	if len(is.algs) == 0 {
		is.algs = jose.DefaultAlgorithms()
	}
	if err := jose.ValidateAlgorithms(is.algs); err != nil {
		return nil, fmt.Errorf("verifier: issuer %q: %w", c.Issuer, err)
	}
	is.algs = slices.Clone(is.algs)
	if is.required == nil {
		is.required = []string{"sub"}
	}
	types := c.Types
	if len(types) == 0 {
		types = []string{"at+jwt"}
	}
	is.types = make(map[string]bool, len(types))
	for _, t := range types {
		n := normalizeType(t)
		if n == "oauth-id-jag+jwt" {
			return nil, fmt.Errorf("verifier: issuer %q: typ %q is an ID-JAG, never an access token", c.Issuer, t)
		}
		is.types[n] = true
	}
	if err := mapper.ValidateChecks(c.Checks); err != nil {
		return nil, fmt.Errorf("verifier: issuer %q: %w", c.Issuer, err)
	}
	for _, name := range c.DisableChecks {
		if !slices.ContainsFunc(c.Checks, func(ch mapper.Check) bool { return ch.Name == name }) {
			names := make([]string, len(c.Checks))
			for i, ch := range c.Checks {
				names[i] = ch.Name
			}
			return nil, fmt.Errorf("verifier: issuer %q: DisableChecks: no check %q (the issuer's checks: %q)", c.Issuer, name, names)
		}
	}
	for _, ch := range c.Checks {
		if slices.Contains(c.DisableChecks, ch.Name) {
			log.Warn("verifier: security check disabled by configuration", "issuer", c.Issuer, "check", ch.Name)
			continue
		}
		is.checks = append(is.checks, ch)
	}
	keys, err := keySource(c, is, client, now, log, fetches)
	if err != nil {
		return nil, fmt.Errorf("verifier: issuer %q: %w", c.Issuer, err)
	}
	is.keys = keys
	return is, nil
}

func keySource(c *IssuerConfig, is *issuer, client *http.Client, now func() time.Time, log *slog.Logger, fetches fetchCounter) (jose.KeySet, error) {
	n := 0
	for _, set := range []bool{c.KeySet != nil, len(c.JWKS) > 0, c.JWKSURL != "", c.DiscoveryURL != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		return nil, errors.New("set only one of KeySet, JWKS, JWKSURL and DiscoveryURL")
	}
	refresh := c.RefreshInterval
	switch {
	case refresh == 0:
		refresh = DefaultRefreshInterval
	case refresh < 0:
		refresh = 0 // jose: zero disables
	}
	if c.MinRefreshInterval < 0 {
		return nil, errors.New("negative MinRefreshInterval")
	}
	remote := jose.RemoteKeySetConfig{HTTPClient: client, Algorithms: is.algs, Now: now, Logger: log,
		RefreshInterval: refresh, MinRefreshInterval: c.MinRefreshInterval,
		OnFetch: fetches.forIssuer(c.Issuer)}
	switch {
	case c.KeySet != nil:
		is.custom = c.KeySet
		return nil, nil
	case len(c.JWKS) > 0:
		keys, err := jose.ParseJWKS(c.JWKS, jose.KeySetOptions{Algorithms: is.algs, Logger: log})
		if err != nil {
			return nil, err
		}
		if len(keys) == 0 {
			return nil, errors.New("static JWKS has no usable key")
		}
		return jose.NewStaticKeySet(keys...), nil
	case c.JWKSURL != "":
		remote.URL = c.JWKSURL
		return jose.NewRemoteKeySet(remote)
	}
	urls := []string{c.DiscoveryURL}
	if c.DiscoveryURL == "" {
		var err error
		if urls, err = discoveryURLs(c.Issuer); err != nil {
			return nil, err
		}
	}
	for _, u := range urls {
		if _, err := jose.CheckFetchURL(u); err != nil {
			return nil, err
		}
	}
	return newDiscoveryKeySet(c.Issuer, urls, client, remote), nil
}
