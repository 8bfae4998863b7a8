package authserver

import (
	"crypto"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/mcpauthz/mcpauthz/authserver/replay"
)

// Grant types and client authentication methods understood by the server.
const (
	GrantClientCredentials = "client_credentials"
	GrantJWTBearer         = "urn:ietf:params:oauth:grant-type:jwt-bearer"

	AuthPrivateKeyJWT     = "private_key_jwt"
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"

	// ProfileIDJAG is advertised in authorization_grant_profiles_supported.
	ProfileIDJAG = "urn:ietf:params:oauth:grant-profile:id-jag"
)

// Defaults applied by [New] to zero Config fields.
const (
	DefaultAccessTokenLifetime  = 10 * time.Minute
	DefaultMaxAssertionLifetime = 5 * time.Minute
	DefaultLeeway               = 30 * time.Second
	DefaultReplayClockSkew      = 30 * time.Second
	DefaultMaxBodyBytes         = 64 << 10
	DefaultMaxAssertionBytes    = 16 << 10
	DefaultRatePerSecond        = 10
	DefaultRateBurst            = 20
)

// Config configures a [Server]. Slices are copied by [New]; later changes to
// them have no effect.
type Config struct {
	// Issuer is this server's issuer identifier (RFC 8414 §2). REQUIRED.
	// It must be an absolute https URL without query, fragment or trailing
	// slash; http is accepted only for loopback hosts (127.0.0.1, [::1],
	// localhost) for development. The token endpoint is Issuer+"/token", the
	// JWK Set Issuer+"/jwks.json", and the metadata is served at the
	// RFC 8414 path-inserted well-known URL (see [Server.ServeHTTP]).
	Issuer string

	// Resources are the protected resources (MCP servers) this server issues
	// tokens for. REQUIRED: at least one. Each access token's "aud" is one
	// resource identifier.
	Resources []Resource

	// DefaultResource is the audience used when a token request carries no
	// "resource" parameter (go-sdk clients omit it). OPTIONAL; empty means
	// Resources[0].ID. It must be one of Resources.
	DefaultResource string

	// Clients are the registered (confidential) clients. OPTIONAL, but a
	// server without clients refuses every request.
	Clients []Client

	// TrustedIdPs are the identity providers whose ID-JAGs are accepted on
	// the jwt-bearer grant. OPTIONAL; without any, that grant always fails.
	// An IdP's issuer must differ from Issuer.
	TrustedIdPs []TrustedIdP

	// SigningKeys sign access tokens. SigningKeys[0] is the current key;
	// the others are previous keys still published in the JWK Set so that
	// tokens they signed keep verifying until they expire. REQUIRED unless
	// DevGenerateKey is set.
	SigningKeys []SigningKey

	// DevGenerateKey, when SigningKeys is empty, generates an ephemeral
	// ES256 key at startup and logs a warning. Tokens then stop verifying at
	// every restart. OPTIONAL; development only.
	DevGenerateKey bool

	// AccessTokenLifetime is the "exp" - "iat" of issued tokens. OPTIONAL;
	// zero means DefaultAccessTokenLifetime (10 min). At most 24 h.
	AccessTokenLifetime time.Duration

	// MaxAssertionLifetime bounds ID-JAGs ("exp" - "iat") and client
	// assertions ("exp" - now, and "exp" - "iat" when "iat" is present).
	// OPTIONAL; zero means DefaultMaxAssertionLifetime (5 min). At most 1 h.
	MaxAssertionLifetime time.Duration

	// Leeway is the clock skew tolerated on "exp", "nbf" and "iat".
	// OPTIONAL; zero means DefaultLeeway (30 s). At most 5 min.
	Leeway time.Duration

	// ReplayClockSkew is the clock difference tolerated between the
	// replicas that share a replay store (and a step of one host's clock):
	// a one-time identifier (ID-JAG and client assertion jti,
	// authorization code) is remembered until its "exp" + Leeway +
	// ReplayClockSkew, so that a replica whose clock is behind the one
	// that recorded it, and that still finds it unexpired, also still
	// finds the mark. OPTIONAL; zero means DefaultReplayClockSkew (30 s).
	// At most 5 min. File option replay_clock_skew.
	ReplayClockSkew time.Duration

	// StrictScopes, when true, answers invalid_scope if a request asks for
	// any scope that cannot be granted, instead of granting the subset.
	// OPTIONAL; default false. A request whose requested scopes yield an
	// empty grant is refused with invalid_scope in both modes.
	StrictScopes bool

	// AllowTokenEndpointAudience accepts the token endpoint URL as the "aud"
	// of a private_key_jwt client assertion, as RFC 7523 §3 allowed before
	// draft-ietf-oauth-rfc7523bis. OPTIONAL; default false (only the issuer
	// identifier is accepted, which defeats the 2025 audience-injection
	// attacks).
	AllowTokenEndpointAudience bool

	// OmitAuthorizationEndpoint removes the authorization endpoint stub
	// (it cannot be combined with Broker, which serves the real endpoint).
	// OPTIONAL; default false. Without Broker, the metadata names Issuer+
	// "/authorize" as authorization_endpoint, and that endpoint answers every
	// request with 400 unsupported_response_type (it never redirects, so it
	// cannot be used as an open redirector). The server supports no response
	// type (response_types_supported stays empty) and publishes no
	// code_challenge_methods_supported. The stub exists because the official
	// TypeScript MCP SDK clients (v1 and v2) refuse authorization server
	// metadata without an authorization_endpoint member, although RFC 8414 §2
	// does not require it when no grant uses the endpoint.
	OmitAuthorizationEndpoint bool

	// ClientAssertionAlgorithms are the JWS algorithms accepted for
	// private_key_jwt client assertions and advertised in
	// token_endpoint_auth_signing_alg_values_supported. OPTIONAL; nil means
	// ES256, RS256, PS256, EdDSA. HMAC algorithms and "none" are refused.
	ClientAssertionAlgorithms []string

	// ReplayStore records the "jti" of ID-JAGs and client assertions.
	// OPTIONAL; nil means an in-memory store (replay.NewMemory with its
	// defaults), which is only correct for a single server instance.
	ReplayStore replay.Store

	// ReplayCacheMaxEntries caps the default in-memory replay store.
	// OPTIONAL; zero means replay.DefaultMaxEntries. Ignored when
	// ReplayStore is set. Each IdP and each client may hold at most a
	// quarter of them (at most replay.DefaultMaxEntriesPerPartition) and a
	// quarter of the store's replay.DefaultMaxBytes: when its share is full
	// of unexpired entries, its grants fail with 503
	// temporarily_unavailable (fail closed) and other IdPs and clients are
	// unaffected.
	ReplayCacheMaxEntries int

	// RateLimit limits token requests per client and failed client
	// authentication. OPTIONAL; the zero value means the defaults listed on
	// [RateLimit].
	RateLimit RateLimit

	// RateLimiter keeps the rate-limit buckets. OPTIONAL; nil means two
	// in-memory tables (one for grant buckets, one for failure buckets, each
	// of RateLimit.MaxKeys), which only limit a single server instance. Use
	// a shared Limiter (stores/redis) with several replicas. When it fails,
	// token requests are answered 503 temporarily_unavailable.
	RateLimiter Limiter

	// SignWhileStoring has no effect with a store that is an
	// authserver.GrantStepsSender (GrantStore with a Sender): that one
	// is written to before the token is signed and read after, on the
	// request's goroutine, whatever this says.
	//
	// SignWhileStoring signs the access token on another goroutine while a
	// GrantSteps store (ReplayStore and RateLimiter as one value, e.g.
	// stores/redis's GrantStore) answers the request's steps; the token is
	// dropped when a step is refused or the store fails, and nothing is
	// returned before the store has answered. OPTIONAL; default false:
	// sign after the store's answer. It saves at most the signing time
	// (tens of µs) per grant on a machine with idle cores. On a 2-vCPU VM
	// it cost 35 µs (quiet) to 140 µs (loaded) per grant at p50 instead:
	// the new goroutine needs a second OS thread, whose wake-up took
	// 20-110 µs there (runtime trace), longer than the signature, and that
	// thread then competes with Redis for the two vCPUs (Redis's own time
	// per grant script about doubled, INFO commandstats). Running the store
	// call on the new goroutine instead (with or without runtime.Gosched)
	// was slower too (benchstat medians 310-511 µs against 220-329 µs
	// sequential at load 21-32, docs/deployment.md). Measure before turning it on. Ignored
	// without a GrantSteps store.
	SignWhileStoring bool

	// ClientAddress returns the source address that failed authentication
	// is throttled by. OPTIONAL; nil means the host of r.RemoteAddr. Behind a
	// reverse proxy, return the address the proxy appended to
	// X-Forwarded-For (never one the client could have set itself).
	ClientAddress func(r *http.Request) string

	// MaxBodyBytes caps the token request body. OPTIONAL; zero means
	// DefaultMaxBodyBytes (64 KiB). A larger body is answered with 413
	// invalid_request.
	MaxBodyBytes int64

	// HTTPClient fetches remote JWK Sets (IdP and client jwks_uri). It is
	// copied and hardened (no cross-host or https→http redirects, bounded
	// timeouts). OPTIONAL; nil means a new client. Key sets are fetched
	// lazily on first use, refreshed on unknown kids at most once per 30 s
	// and every 15 min in the background; while the last good set is older
	// than 24 h and the URL fails, grants fail with 503.
	HTTPClient *http.Client

	// Logger receives one audit event per grant decision and operational
	// warnings. OPTIONAL; nil discards.
	Logger *slog.Logger

	// Now returns the current time. OPTIONAL; nil means time.Now.
	Now func() time.Time

	// Broker turns on the authorization code flow with login at an
	// upstream OpenID Connect provider (see [Broker]). OPTIONAL; nil keeps
	// the authorization endpoint a stub that refuses every request.
	Broker *Broker
	// Registration turns on RFC 7591 dynamic client registration behind a
	// policy (see [Registration]); it needs Broker. OPTIONAL; nil (the
	// default) means no registration endpoint.
	Registration *Registration
	// ClientMetadataDocuments turns on Client ID Metadata Documents: an
	// https client_id names the client's JSON document, fetched by this
	// server with SSRF protections (see [ClientMetadataDocuments]); it
	// needs Broker. OPTIONAL; nil means off (such client ids are unknown
	// and client_id_metadata_document_supported is not advertised).
	ClientMetadataDocuments *ClientMetadataDocuments
	// TracerProvider receives one SpanGrant span per token request.
	// OPTIONAL; nil or a no-op provider records nothing. There is no global
	// default: pass otel.GetTracerProvider() to use the global provider.
	TracerProvider trace.TracerProvider `yaml:"-"`
	// MeterProvider receives mcpauthz.as.grants, mcpauthz.as.replays_refused,
	// mcpauthz.as.rate_limited and mcpauthz.as.key_checks
	// (docs/operations.md). OPTIONAL; nil or a no-op provider records
	// nothing.
	MeterProvider metric.MeterProvider `yaml:"-"`
	// KeyCheck compares this replica's signing keys with the other
	// replicas' through a shared registry and makes Ready fail when they
	// disagree (see [KeyCheck]). OPTIONAL; nil means no check. The
	// stores/redis file stores (stores: {kind: redis}) set it.
	KeyCheck *KeyCheck `yaml:"-"`
}

// Resource is one protected resource (RFC 8707 resource indicator).
type Resource struct {
	// ID is the resource identifier, e.g. "https://mcp.example.com/mcp".
	// REQUIRED; an absolute URI without fragment. Compared exactly.
	ID string
	// Scopes are the scopes that may be granted for this resource.
	// OPTIONAL; empty means no scope is ever granted for it (tokens are
	// still issued, with no "scope").
	Scopes []string
}

// Client is a registered confidential client.
type Client struct {
	// ID is the client identifier. REQUIRED; unique; printable, no ":".
	ID string
	// SecretHash is the output of [HashSecret] for the client's secret.
	// OPTIONAL; enables client_secret_basic and client_secret_post.
	SecretHash string
	// JWKS is an inline JWK Set (JSON) with the client's public keys.
	// OPTIONAL; enables private_key_jwt. Mutually exclusive with JWKSURL.
	JWKS []byte
	// JWKSURL is the client's jwks_uri (https, or http on loopback).
	// OPTIONAL; enables private_key_jwt. Mutually exclusive with JWKS.
	JWKSURL string
	// AuthMethods restricts the authentication methods the client may use.
	// OPTIONAL; empty means every method its credentials allow
	// (client_secret_basic and client_secret_post with SecretHash,
	// private_key_jwt with JWKS or JWKSURL). ["none"] (AuthNone) makes a
	// public client, which has no credentials.
	AuthMethods []string
	// GrantTypes are the grants the client may use: GrantClientCredentials,
	// GrantJWTBearer, GrantAuthorizationCode (needs Config.Broker and
	// RedirectURIs) and GrantRefreshToken. REQUIRED; any other grant
	// answers unauthorized_client. Public clients (AuthMethods ["none"])
	// may use only GrantAuthorizationCode and GrantRefreshToken.
	GrantTypes []string
	// RedirectURIs are the client's registered redirect URIs, matched
	// exactly (for public clients, loopback http URIs match any port,
	// RFC 8252 §7.3). REQUIRED with GrantAuthorizationCode.
	RedirectURIs []string
	// Name is shown on the consent page. OPTIONAL.
	Name string
	// Scopes are the scopes the client may ever obtain. OPTIONAL; empty
	// means none.
	Scopes []string
	// Resources restricts the resources the client may obtain tokens for.
	// OPTIONAL; empty means every configured resource.
	Resources []string
}

// TrustedIdP is an identity provider whose ID-JAGs are accepted.
type TrustedIdP struct {
	// Issuer is the IdP's issuer identifier, compared exactly with the
	// ID-JAG "iss". REQUIRED; must not be the server's own issuer.
	Issuer string
	// JWKS is an inline JWK Set (JSON) of the IdP's signing keys.
	// Exactly one of JWKS and JWKSURL is REQUIRED.
	JWKS []byte
	// JWKSURL is the IdP's jwks_uri (https, or http on loopback).
	JWKSURL string
	// Algorithms is the allow-list for ID-JAG signatures. OPTIONAL; nil
	// means ES256, RS256, PS256, EdDSA.
	Algorithms []string
	// Claims copies ID-JAG claims into issued access tokens: key = ID-JAG
	// claim name, value = access token claim name (e.g. "groups": "groups").
	// OPTIONAL. Registered and provenance claims (iss, sub, aud, exp, iat,
	// nbf, jti, client_id, scope, cnf, idp_iss, tenant, acr, amr,
	// auth_time) cannot be targets.
	Claims map[string]string
}

// SigningKey is an access-token signing key.
type SigningKey struct {
	// Signer is the private key: *ecdsa.PrivateKey, *rsa.PrivateKey
	// (2048..8192 bits), ed25519.PrivateKey, or any crypto.Signer over such
	// a key (e.g. a KMS). REQUIRED.
	Signer crypto.Signer
	// KeyID is the JWK "kid". OPTIONAL; empty means the RFC 7638 SHA-256
	// thumbprint of the public key (base64url). Must be unique.
	KeyID string
	// Algorithm is the JWS algorithm. OPTIONAL; empty means ES256/ES384/
	// ES512 by curve for ECDSA, RS256 for RSA, EdDSA for Ed25519.
	Algorithm string
}

// RateLimit configures the token endpoint's rate limits. A request over a
// limit is answered 429 with error "temporarily_unavailable" and a
// Retry-After header.
//
//   - Grant limit: a token bucket per client, charged only after the client
//     has authenticated, so that knowing a client id (which is public) does
//     not let anyone use up that client's tokens.
//   - Failed authentication: a bucket per claimed client id and source
//     address (Config.ClientAddress), charged by each invalid_client answer
//     and checked before the credential is. A source that guesses a
//     client's secret is refused without affecting the same client from
//     another address. A global bucket caps failures server-wide: while it
//     is empty, every client+source pair with a recent failure is refused
//     and pairs without one still go through.
//
// Registered and unregistered client ids are treated alike: same buckets,
// same answers.
type RateLimit struct {
	// PerSecond is the sustained grant rate per client. OPTIONAL; zero
	// means DefaultRatePerSecond (10).
	PerSecond float64
	// Burst is the grant bucket size. OPTIONAL; zero means
	// DefaultRateBurst (20).
	Burst int
	// FailedAuthPerSecond is the sustained rate of failed authentications
	// per client id and source address. OPTIONAL; zero means
	// DefaultFailedAuthPerSecond (1).
	FailedAuthPerSecond float64
	// FailedAuthBurst is the failure bucket size per client id and source
	// address. OPTIONAL; zero means DefaultFailedAuthBurst (10).
	FailedAuthBurst int
	// FailedAuthGlobalPerSecond is the sustained rate of failed
	// authentications for the whole server. OPTIONAL; zero means
	// DefaultFailedAuthGlobalPerSecond (100).
	FailedAuthGlobalPerSecond float64
	// FailedAuthGlobalBurst is the global failure bucket size. OPTIONAL;
	// zero means DefaultFailedAuthGlobalBurst (200).
	FailedAuthGlobalBurst int
	// MaxKeys caps each in-memory bucket table (see MemoryLimiterConfig).
	// OPTIONAL; zero means DefaultLimiterMaxKeys (10,000). With
	// Config.RateLimiter it only caps, when that store implements
	// GrantSteps, the per-process table of client+source pairs that failed
	// lately (checked before their credential; about 1.3 KiB per entry at
	// most).
	MaxKeys int
	// Disabled turns rate limiting off. OPTIONAL; default false.
	Disabled bool
	// SourcePrefixIPv4 and SourcePrefixIPv6 are the prefix lengths that
	// key a source address (Config.ClientAddress) in every per-source
	// limit: failed client authentication, a public client's grant bucket,
	// /authorize, registration (Registration.PerSource) and document
	// fetches (ClientMetadataDocuments.FetchLimitPerSource), even with
	// Disabled. OPTIONAL; zero means DefaultSourcePrefixIPv4 (32: one
	// address) and DefaultSourcePrefixIPv6 (64: one /64, since one host
	// often holds a whole /64 and could otherwise take a fresh bucket per
	// request); at least 8 and 16. A shorter prefix puts more clients in
	// one bucket (a carrier-grade NAT already does so for IPv4).
	SourcePrefixIPv4 int
	SourcePrefixIPv6 int
}
