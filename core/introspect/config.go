package introspect

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/mcpauthz/mcpauthz/internal/httpx"
)

// AuthStyle selects how the verifier authenticates to the introspection
// endpoint.
type AuthStyle int

const (
	// AuthStyleBasic is client_secret_basic: HTTP Basic with the client id
	// and secret each form-urlencoded first (RFC 6749 §2.3.1). The default.
	AuthStyleBasic AuthStyle = iota
	// AuthStylePost is client_secret_post: client_id and client_secret in the
	// form body.
	AuthStylePost
	// AuthStyleNone sends no client credentials, for endpoints authenticated
	// another way (mTLS through Config.HTTPClient, a network policy).
	AuthStyleNone
)

// Defaults and limits.
const (
	DefaultPositiveTTL      = 30 * time.Second
	DefaultNegativeTTL      = 10 * time.Second
	DefaultMaxEntries       = 10000
	DefaultMaxBytes         = 32 << 20
	DefaultTimeout          = 5 * time.Second
	DefaultBackoffInitial   = 1 * time.Second
	DefaultBackoffMax       = 30 * time.Second
	DefaultMaxResponseBytes = 64 << 10
	DefaultMaxTokenBytes    = 8 << 10
	DefaultLeeway           = 30 * time.Second
	MaxLeeway               = 60 * time.Second
	DefaultMaxConcurrent    = 64
)

// Config configures a [Verifier].
type Config struct {
	// Endpoint is the introspection endpoint URL. REQUIRED; https, or http
	// for a loopback host (localhost, 127.0.0.0/8, ::1) only.
	Endpoint string

	// ClientID and ClientSecret authenticate the resource server to the
	// endpoint. REQUIRED unless AuthStyle is AuthStyleNone.
	ClientID, ClientSecret string
	// AuthStyle selects client_secret_basic (default) or client_secret_post.
	// OPTIONAL.
	AuthStyle AuthStyle

	// Issuer is the expected "iss" of the response; checked when the
	// response carries "iss". REQUIRED.
	Issuer string
	// Audience lists the accepted resource identifiers; the response's "aud"
	// must contain one of them exactly. REQUIRED (non-empty, no empty
	// strings).
	Audience []string
	// AllowMissingAudience accepts responses without "aud" (some
	// authorization servers omit it). OPTIONAL, default false: MCP requires
	// the resource server to check that the token was issued for it, which
	// is impossible without "aud".
	AllowMissingAudience bool
	// Leeway is the clock skew tolerated for exp/nbf/iat. OPTIONAL, default
	// 30s, at most 60s; a negative value means no leeway.
	Leeway time.Duration

	// PositiveTTL is how long an active answer is reused, capped by the
	// token's "exp". OPTIONAL, default 30s; negative disables positive
	// caching.
	PositiveTTL time.Duration
	// NegativeTTL is how long a token rejection is reused. OPTIONAL, default
	// 10s; negative disables negative caching.
	NegativeTTL time.Duration
	// MaxEntries bounds the cache (least recently used entries are evicted
	// first). OPTIONAL, default 10000.
	MaxEntries int
	// MaxBytes bounds the cache in bytes: each answer is charged its
	// claims (JSON text, index and decoded strings) or, for a rejection,
	// its error text (at most a few hundred bytes) plus 512 B, and the
	// least recently used answers are evicted beyond the bound. Answers
	// can be up to MaxResponseBytes each, so MaxEntries alone allowed
	// 10,000 × 64 KiB. OPTIONAL, default 32 MiB.
	MaxBytes int64

	// HTTPClient sends the requests. OPTIONAL; the default client uses
	// http.DefaultTransport. Redirects are never followed, with a caller's
	// client too (New uses a copy whose CheckRedirect refuses them): a 3xx
	// is core.ErrUnavailable.
	HTTPClient *http.Client
	// Timeout bounds one introspection round trip. OPTIONAL, default 5s.
	Timeout time.Duration
	// BackoffInitial and BackoffMax shape the backoff while the endpoint
	// fails (transport error, non-200, malformed answer): after the n-th
	// consecutive failure, requests that the cache cannot answer are
	// refused (core.ErrUnavailable, fail closed) without contacting the
	// endpoint for a step of min(BackoffInitial·2^(n-1), BackoffMax) with
	// jitter (a uniform draw in [step/2, step]); then exactly one request
	// probes it. Live positive cache entries keep being served. OPTIONAL,
	// defaults 1s and 30s; a negative BackoffInitial disables the backoff.
	BackoffInitial, BackoffMax time.Duration
	// MaxResponseBytes caps the response body. OPTIONAL, default 64 KiB.
	MaxResponseBytes int64
	// MaxTokenBytes caps the presented token; longer tokens are rejected as
	// malformed without a request. OPTIONAL, default 8 KiB.
	MaxTokenBytes int
	// MaxConcurrent bounds the introspection requests in flight. Every
	// token the cache cannot answer costs one request, which outlives its
	// caller (see Verify), so without a bound a flood of random tokens
	// leaves that many requests, connections and goroutines behind for up
	// to Timeout and hammers the endpoint. Beyond the bound a token is
	// refused at once with core.ErrUnavailable (503), without contacting
	// the endpoint and without starting the failure backoff. OPTIONAL,
	// default 64; negative means no bound.
	MaxConcurrent int
	// Now is the clock. OPTIONAL, default time.Now.
	Now func() time.Time
	// Logger receives debug and warning records (never token material).
	// OPTIONAL, nil discards.
	Logger *slog.Logger
	// MeterProvider receives the introspection cache's
	// mcpauthz.cache.lookups (docs/operations.md). OPTIONAL; nil or a no-op
	// provider records nothing at no cost.
	MeterProvider metric.MeterProvider
}

// withDefaults validates cfg and returns a copy with defaults applied.
func (cfg Config) withDefaults() (Config, error) {
	c := cfg
	if err := checkEndpoint(c.Endpoint); err != nil {
		return Config{}, err
	}
	switch c.AuthStyle {
	case AuthStyleBasic, AuthStylePost:
		if c.ClientID == "" {
			return Config{}, errors.New("introspect: ClientID is required (or set AuthStyle to AuthStyleNone)")
		}
	case AuthStyleNone:
	default:
		return Config{}, fmt.Errorf("introspect: unknown AuthStyle %d", c.AuthStyle)
	}
	if c.Issuer == "" {
		return Config{}, errors.New("introspect: Issuer is required")
	}
	if len(c.Audience) == 0 || slices.Contains(c.Audience, "") {
		return Config{}, errors.New("introspect: Audience is required and must not contain empty strings")
	}
	c.Audience = slices.Clone(c.Audience)
	switch {
	case c.Leeway == 0:
		c.Leeway = DefaultLeeway
	case c.Leeway < 0:
		c.Leeway = 0
	case c.Leeway > MaxLeeway:
		return Config{}, fmt.Errorf("introspect: Leeway %v exceeds %v", c.Leeway, MaxLeeway)
	}
	if c.PositiveTTL == 0 {
		c.PositiveTTL = DefaultPositiveTTL
	}
	if c.NegativeTTL == 0 {
		c.NegativeTTL = DefaultNegativeTTL
	}
	if c.MaxEntries <= 0 {
		c.MaxEntries = DefaultMaxEntries
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	// A copy of the caller's client, too: a followed 307/308 would
	// re-send the form (token, client_secret_post) to the Location.
	c.HTTPClient = httpx.NoRedirects(c.HTTPClient, 0)
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.BackoffInitial == 0 {
		c.BackoffInitial = DefaultBackoffInitial
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = DefaultBackoffMax
	}
	if c.BackoffInitial > c.BackoffMax {
		return Config{}, fmt.Errorf("introspect: BackoffInitial %v exceeds BackoffMax %v", c.BackoffInitial, c.BackoffMax)
	}
	if c.MaxResponseBytes <= 0 {
		c.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if c.MaxTokenBytes <= 0 {
		c.MaxTokenBytes = DefaultMaxTokenBytes
	}
	if c.MaxConcurrent == 0 {
		c.MaxConcurrent = DefaultMaxConcurrent
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

func checkEndpoint(raw string) error {
	if _, err := httpx.CheckURL(raw, false); err != nil {
		return fmt.Errorf("introspect: Endpoint %q: %w", raw, err)
	}
	return nil
}
