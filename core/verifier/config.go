package verifier

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/mapper"
	"go.opentelemetry.io/otel/metric"

	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// Defaults and limits.
const (
	DefaultLeeway        = 30 * time.Second
	MaxLeeway            = 5 * time.Minute
	DefaultCacheEntries  = 10000
	DefaultCacheTTL      = 5 * time.Minute
	DefaultCacheBytes    = 64 << 20
	DefaultMaxTokenBytes = jose.DefaultMaxLength
	// DefaultRefreshInterval is how old a fetched key set may get before a
	// lookup starts a background refresh (IssuerConfig.RefreshInterval).
	DefaultRefreshInterval = 15 * time.Minute
	// TenantPlaceholder marks the tenant segment of a multi-tenant issuer
	// template (Microsoft Entra ID).
	TenantPlaceholder = "{tenantid}"
)

// RFC9068Claims returns (a new slice each call) the claims RFC 9068 §2.2 requires besides iss, exp and
// aud; use it as IssuerConfig.RequiredClaims for strict RFC 9068 issuers.
func RFC9068Claims() []string { return []string{"sub", "client_id", "iat", "jti"} }

// Config configures [New].
type Config struct {
	// Issuers are the trusted token issuers. REQUIRED, at least one. Each
	// token is verified with the keys of the issuer its "iss" names, and no
	// other.
	Issuers []IssuerConfig
	// Audience lists the accepted "aud" values: the MCP server's canonical
	// resource identifier(s) (RFC 8707, RFC 9728 "resource"). REQUIRED, no
	// empty entries, unless every issuer sets its own IssuerConfig.Audience
	// (as the IdP presets do). Compared exactly unless NormalizeAudience.
	Audience []string
	// NormalizeAudience, OPTIONAL (default false = exact match), compares
	// absolute http(s) URLs after lowercasing scheme and host, dropping the
	// default port (:443, :80) and treating an empty path as "/" (so
	// "https://h" matches "https://h/"). Other paths, query and values that
	// are not http(s) URLs are still compared exactly.
	NormalizeAudience bool
	// MaxTokenBytes caps the raw token length. OPTIONAL; zero means 8192.
	MaxTokenBytes int
	// Leeway is the clock skew allowed for exp, nbf and iat. OPTIONAL; zero
	// means 30 s; at most 5 min. IssuerConfig.Leeway overrides it.
	Leeway time.Duration
	// Now is the clock. OPTIONAL; nil means time.Now. Also used by the key
	// sets (cooldowns, staleness).
	Now func() time.Time
	// HTTPClient fetches discovery documents and key sets. OPTIONAL; nil
	// means a new client with timeouts (never http.DefaultClient). It is
	// copied, and its redirect policy is replaced by one that stays on the
	// same host and never downgrades to http.
	HTTPClient *http.Client
	// Logger receives key-set fetch results, and, at Warn, the reason a
	// token was refused for its iss, aud or typ: the expected values and
	// the token's (truncated) value, at most once per minute per distinct
	// cause. OPTIONAL; nil discards. Tokens are never logged.
	Logger *slog.Logger
	// Cache configures the verified-token cache. OPTIONAL; the zero value
	// enables it with the defaults.
	Cache CacheConfig
	// EagerDiscovery makes New fetch every issuer's discovery document and
	// key set (Verifier.Ready) and fail when one cannot be obtained, for
	// deployments that prefer failing at start-up to starting unready.
	// OPTIONAL; default false: New does no I/O, keys are fetched on first
	// use, and Ready reports an unreachable IdP.
	EagerDiscovery bool
	// MeterProvider receives mcpauthz.jwks.fetches (per issuer, success or
	// failure) and the verification cache's mcpauthz.cache.lookups
	// (docs/operations.md). OPTIONAL; nil or a no-op provider records
	// nothing at no cost.
	MeterProvider metric.MeterProvider
}

// CacheConfig configures the verified-token cache.
type CacheConfig struct {
	// MaxEntries bounds the cache. OPTIONAL; zero means 10,000; negative
	// disables the cache. When full, an arbitrary entry is evicted.
	MaxEntries int
	// MaxBytes bounds the memory the cache accounts for: per entry the
	// token, its claims as validated JSON text with their member index
	// (core.RawClaims.Size; claims are decoded on demand and nothing
	// decoded is kept), 512 bytes of fixed overhead, and what the Guard and
	// the Authorizer derive from the token and keep with it (the mapped
	// principal, the subject list: charged through core.NewTokenMemo when
	// they are kept, evicting other entries). OPTIONAL; zero or negative
	// means 64 MiB. A token whose entry would exceed an eighth of MaxBytes
	// is verified but not cached, and derived state that would make it so
	// is derived per request instead.
	MaxBytes int
	// TTL bounds how long a verified token is served from the cache, even if
	// it expires later. OPTIONAL; zero means 5 min. Independently of TTL, a
	// hit is served only while the key that verified the token is still in
	// its issuer's current key set (for JWKSURL and discovery issuers; an
	// injected KeySet without a Contains method is bounded by TTL alone), so
	// a key removed by the IdP stops being honoured once a refresh (see
	// IssuerConfig.RefreshInterval) has dropped it.
	TTL time.Duration
}

// IssuerConfig is one trusted issuer.
type IssuerConfig struct {
	// Issuer is the exact "iss" value. REQUIRED. No normalization: a
	// trailing slash, case or port difference is a different issuer. It may
	// contain "{tenantid}" once (Microsoft Entra multi-tenant): the token's
	// "tid" claim must then fill the template exactly.
	Issuer string
	// AllowedTenants, for a "{tenantid}" issuer, lists the accepted "tid"
	// values. OPTIONAL; empty accepts any tenant (the audience check still
	// applies).
	AllowedTenants []string
	// EquivalentIssuers are further exact "iss" values of this same issuer:
	// one IdP with one key set, reachable under two names (a custom domain
	// and the vendor's, an old and a new hostname). A token carrying one of
	// them is verified like one carrying Issuer (keys, audience, types,
	// checks, mapper) and its Claims.Issuer is Issuer, so policies,
	// session bindings and audit records see one issuer. Each value is
	// exact, like Issuer: no normalization, no wildcard, no "{tenantid}";
	// none may be another issuer's. Not with a "{tenantid}" Issuer. Never
	// list an issuer with keys of its own here: configure it as an issuer.
	// OPTIONAL.
	EquivalentIssuers []string

	// Key source: exactly one of KeySet, JWKS, JWKSURL or discovery.
	//
	// KeySet is a key set the caller manages (see [KeySet]: one method,
	// VerifySignature).
	KeySet KeySet
	// JWKS is a static JWK Set document. It must yield at least one usable
	// key after the hygiene rules of jose.ParseJWKS.
	JWKS []byte
	// JWKSURL is fetched lazily, refreshed on unknown kids (at most once
	// per MinRefreshInterval; 30 s after a failed fetch) and every
	// RefreshInterval, kept through outages for 24 h.
	JWKSURL string
	// DiscoveryURL is the metadata document to read "jwks_uri" from.
	// OPTIONAL; when KeySet, JWKS and JWKSURL are all empty it defaults to
	// Issuer + "/.well-known/openid-configuration", then the RFC 8414
	// path-inserted "/.well-known/oauth-authorization-server" URL ("{tenantid}"
	// replaced by "common"). The document's "issuer" must equal Issuer
	// exactly. Discovery is lazy and retried after the cooldown.
	DiscoveryURL string

	// Algorithms is the alg allow-list. OPTIONAL; default RS256, PS256,
	// ES256, EdDSA. RS384, RS512, PS384, PS512, ES384 and ES512 may be added.
	// "none" and HS* are refused by New.
	Algorithms []string
	// Types lists the accepted JOSE "typ" values, compared case-insensitively
	// with an optional "application/" prefix. OPTIONAL; default ["at+jwt"]
	// (RFC 9068). Many IdPs send "JWT": list it explicitly. An entry "" accepts
	// tokens without "typ". "oauth-id-jag+jwt" is refused by New; tokens with
	// nonce or at_hash (ID tokens) are always refused.
	Types []string
	// RequiredClaims must be present (strings non-empty). OPTIONAL; default
	// ["sub"]. Use RFC9068Claims() for strict RFC 9068 issuers.
	RequiredClaims []string
	// Audience, when set, replaces Config.Audience for the tokens of this
	// issuer: "aud" must contain one of these values (normalized when
	// Config.NormalizeAudience). OPTIONAL; nil uses Config.Audience. The IdP
	// presets set it, so that an audience convention of one IdP (Entra's
	// client-id GUID) is never accepted from another.
	Audience []string
	// Mapper maps the claims of this issuer's tokens to a principal; the
	// Verifier's [Verifier.Mapper] dispatches to it. OPTIONAL; nil means
	// core.DefaultMapper(). The IdP presets set the matching core/mapper
	// preset.
	Mapper core.ClaimMapper
	// Checks are security checks that Verify runs on every token of this
	// issuer after its signature and registered claims: a refusal is a
	// token error (401 invalid_token). They run whatever maps the claims:
	// replacing Mapper, or giving core.Config.Mapper a mapper other than
	// [Verifier.Mapper], never removes them. The IdP presets set theirs
	// (the names are listed at mapper.Check) and give Mapper a copy of the
	// preset mapper without them, so each runs once. OPTIONAL.
	Checks []mapper.Check
	// DisableChecks names entries of Checks not to run: the only way to
	// turn a preset's check off. Each name must be one of Checks (New fails
	// otherwise), and New logs a Warn line for each. OPTIONAL, default
	// none.
	DisableChecks []string
	// Leeway overrides Config.Leeway for this issuer. OPTIONAL.
	Leeway *time.Duration
	// RefreshInterval, for JWKSURL and discovery issuers, is how old the
	// fetched key set may get before a lookup (a verification or a cache
	// hit) starts a background refresh, still at most once per 30 s
	// cooldown. This is what makes a key the IdP removed (for example
	// because it was compromised) stop verifying without waiting for a
	// token with an unknown kid: at most RefreshInterval plus one fetch
	// after the removal, provided tokens keep arriving. OPTIONAL; zero means
	// 15 min; negative disables periodic refresh (keys then change only on
	// an unknown kid). Ignored for KeySet and JWKS.
	RefreshInterval time.Duration
	// MinRefreshInterval, for JWKSURL and discovery issuers, is the
	// minimum time between two key-set fetches caused by tokens with an
	// unknown kid: a flood of unknown kids costs the IdP at most one fetch
	// per interval, and a key the IdP publishes validates at most this long
	// (plus one fetch) later. A kid already found absent from the current
	// set is refused without waiting (negative cache, 1024 kids). OPTIONAL;
	// zero means 4 s. Ignored for KeySet and JWKS.
	MinRefreshInterval time.Duration
}
