package client

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/clip"
)

// Defaults of Config.
const (
	DefaultMaxStepUps = 2
	DefaultExpirySkew = 30 * time.Second
)

// Config configures [New].
type Config struct {
	// ServerURL is the MCP endpoint URL: REQUIRED. The protected resource
	// metadata must name exactly this string as its resource (no
	// normalization: scheme/host case, default port and trailing slash
	// matter), and bearer tokens are only attached to requests for this
	// URL's origin.
	ServerURL string
	// Grant obtains access tokens: REQUIRED ([*ClientCredentials],
	// [*EnterpriseManaged]).
	Grant Grant
	// Scopes is OPTIONAL: when set, the scopes requested for the first
	// token, instead of the MCP scope selection (challenge scope, else PRM
	// scopes_supported, else none).
	Scopes []string
	// MaxStepUps is OPTIONAL: how many 403 insufficient_scope step-ups one
	// request may trigger. 0 means DefaultMaxStepUps; negative disables
	// step-up.
	MaxStepUps int
	// ExpirySkew is OPTIONAL: a token expiring within it is renewed before
	// use; a token whose lifetime (from its fetch to its expiry) is under
	// 2×ExpirySkew is renewed when half of it has passed instead, so that a
	// short-lived token is not fetched again for every request. Default
	// DefaultExpirySkew.
	ExpirySkew time.Duration
	// AllowRootResourceSameOrigin is OPTIONAL (default false): accept a
	// root well-known PRM (/.well-known/oauth-protected-resource, tried only
	// when the path-suffixed one is absent) whose resource is the server's
	// origin or a path prefix of the server URL. RFC 9728 §3.3 demands exact
	// identity; this tolerance exists for servers that publish only the
	// root document.
	AllowRootResourceSameOrigin bool
	// AllowInsecureHTTP is OPTIONAL (default false): accept plain-http
	// metadata and token endpoints on non-loopback hosts. Tests only.
	AllowInsecureHTTP bool
	// AllowLocalDiscovery is OPTIONAL (default false): follow discovery
	// URLs (resource_metadata, authorization server, token endpoint) that
	// are closer to the client than the MCP server, such as an
	// authorization server on the client's loopback or on a private
	// address literal while the server has a public name. Off, such a URL
	// fails with ErrDiscovery, so a hostile server cannot aim the client at
	// its own machine or network.
	AllowLocalDiscovery bool
	// HTTPClient is OPTIONAL: used for discovery. Default: a client with
	// DefaultHTTPTimeout that does not follow redirects. It must not be a
	// client that uses this Authorizer's Transport.
	HTTPClient *http.Client
	// MaxResponseBytes is OPTIONAL: bound for metadata bodies. Default
	// DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// Now is OPTIONAL (tests). Default time.Now.
	Now func() time.Time
	// Logger is OPTIONAL. Default: discard. Tokens are never logged.
	Logger *slog.Logger
}

// Authorizer keeps the discovery state and the current access token for one
// MCP server, and reacts to 401 and 403 challenges. It is safe for
// concurrent use; token acquisition is serialized (one request to the
// authorization server at a time).
type Authorizer struct {
	cfg    Config
	origin string
	disc   *discoverer
	sem    chan struct{}

	mu     sync.Mutex
	d      *Discovery
	scopes []string
	tok    *Token
	tokAt  time.Time // when tok was fetched
}

// New validates cfg and returns an Authorizer. It does no I/O.
func New(cfg Config) (*Authorizer, error) {
	if cfg.Grant == nil {
		return nil, fmt.Errorf("%w: Grant is required", ErrConfig)
	}
	su, err := checkURL(cfg.ServerURL, cfg.AllowInsecureHTTP)
	if err != nil {
		return nil, fmt.Errorf("ServerURL: %w", err)
	}
	if cfg.MaxStepUps == 0 {
		cfg.MaxStepUps = DefaultMaxStepUps
	}
	if cfg.ExpirySkew <= 0 {
		cfg.ExpirySkew = DefaultExpirySkew
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	cfg.Logger = loggerOrDiscard(cfg.Logger)
	hc := cfg.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient()
	}
	a := &Authorizer{cfg: cfg, origin: origin(su), sem: make(chan struct{}, 1)}
	a.disc = &discoverer{
		hc: hc, allowHTTP: cfg.AllowInsecureHTTP, allowLocal: cfg.AllowLocalDiscovery, rootSameOrigin: cfg.AllowRootResourceSameOrigin,
		maxBody: cfg.MaxResponseBytes, preferredIssuer: cfg.Grant.BoundIssuer, log: cfg.Logger,
	}
	return a, nil
}

// Discovery returns the current discovery result, or nil before the first
// successful discovery.
func (a *Authorizer) Discovery() *Discovery {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.d
}

func (a *Authorizer) lock(ctx context.Context) error {
	select {
	case a.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (a *Authorizer) unlock() { <-a.sem }

// valid reports whether t, fetched at at, is still to be used: it has no
// expiry, or expires after min(ExpirySkew, half its lifetime) from now.
func (a *Authorizer) valid(t *Token, at time.Time) bool {
	if t == nil {
		return false
	}
	if t.Expiry.IsZero() {
		return true
	}
	skew := min(a.cfg.ExpirySkew, t.Expiry.Sub(at)/2)
	return a.cfg.Now().Add(skew).Before(t.Expiry)
}

// Token returns the current access token, renewing it through the Grant
// when it expires within ExpirySkew, or within half its lifetime when that
// is shorter (for EMA that means a fresh ID-JAG).
// Before any discovery it returns an error wrapping ErrNotAuthorized.
func (a *Authorizer) Token(ctx context.Context) (*Token, error) {
	a.mu.Lock()
	t, at, d := a.tok, a.tokAt, a.d
	a.mu.Unlock()
	if a.valid(t, at) {
		return t, nil
	}
	if d == nil {
		return nil, ErrNotAuthorized
	}
	if err := a.lock(ctx); err != nil {
		return nil, err
	}
	defer a.unlock()
	a.mu.Lock()
	t, at, d, scopes := a.tok, a.tokAt, a.d, a.scopes
	a.mu.Unlock()
	if a.valid(t, at) {
		return t, nil
	}
	return a.fetch(ctx, d, scopes)
}

// fetch gets a token from the Grant and stores it. Callers hold the sem.
func (a *Authorizer) fetch(ctx context.Context, d *Discovery, scopes []string) (*Token, error) {
	at := a.cfg.Now()
	t, err := a.cfg.Grant.FetchToken(ctx, &TokenRequest{AuthServer: d.AuthServer, Resource: d.Resource, Scopes: scopes})
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.d, a.scopes, a.tok, a.tokAt = d, scopes, t, at
	a.mu.Unlock()
	return t, nil
}

// Authorize discovers the server without a challenge (well-known PRM
// locations) and obtains a token, so that the first request already carries
// one. Calling it is optional; the Transport and the OAuthHandler discover
// on the first 401.
func (a *Authorizer) Authorize(ctx context.Context) error {
	return a.HandleUnauthorized(ctx, http.Header{}, "")
}

// HandleUnauthorized reacts to a 401 response with header h for a request
// that carried failedToken ("" for none): it parses the Bearer challenge,
// discovers the PRM (resource_metadata, else the well-known locations) and
// the authorization server, and obtains a new token. When the current token
// already differs from failedToken (another request renewed it), it returns
// nil at once.
func (a *Authorizer) HandleUnauthorized(ctx context.Context, h http.Header, failedToken string) error {
	bc, err := ParseBearerChallenge(h)
	if err != nil {
		return err
	}
	if err := a.lock(ctx); err != nil {
		return err
	}
	defer a.unlock()
	a.mu.Lock()
	cur, at := a.tok, a.tokAt
	a.mu.Unlock()
	if cur != nil && cur.AccessToken != failedToken && a.valid(cur, at) {
		return nil
	}
	d, err := a.disc.discover(ctx, a.cfg.ServerURL, bc)
	if err != nil {
		return err
	}
	scopes := a.cfg.Scopes
	if len(scopes) == 0 {
		switch {
		case bc != nil && len(bc.Scope) > 0:
			scopes = bc.Scope
		case len(d.PRM.ScopesSupported) > 0:
			scopes = d.PRM.ScopesSupported
		}
	}
	_, err = a.fetch(ctx, d, scopes)
	return err
}

// HandleInsufficientScope reacts to a 403 response with header h for a
// request that carried failedToken. With an insufficient_scope challenge it
// requests a token for the union of the current and the challenged scopes.
// It fails with ErrForbidden when the 403 has no insufficient_scope
// challenge, and with ErrInsufficientScope when the union adds nothing (a
// new token would not help). When the current token already differs from
// failedToken it returns nil at once.
func (a *Authorizer) HandleInsufficientScope(ctx context.Context, h http.Header, failedToken string) error {
	bc, err := ParseBearerChallenge(h)
	if err != nil {
		return err
	}
	if bc == nil || bc.Error != "insufficient_scope" {
		return ErrForbidden
	}
	if err := a.lock(ctx); err != nil {
		return err
	}
	defer a.unlock()
	a.mu.Lock()
	cur, at, d, scopes := a.tok, a.tokAt, a.d, a.scopes
	a.mu.Unlock()
	if cur != nil && cur.AccessToken != failedToken && a.valid(cur, at) {
		return nil
	}
	if d == nil {
		if d, err = a.disc.discover(ctx, a.cfg.ServerURL, bc); err != nil {
			return err
		}
	}
	union := unionScopes(scopes, bc.Scope)
	if len(union) == len(scopes) {
		return fmt.Errorf("%w: challenge asks for no scope beyond %s", ErrInsufficientScope, clip.Quote(strings.Join(scopes, " "), core.MaxLogField))
	}
	a.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "mcpauthz client: step-up",
		slog.String("scopes", bounded(strings.Join(union, " "))), slog.String("iss", bounded(d.AuthServer.Issuer)))
	_, err = a.fetch(ctx, d, union)
	return err
}

// sameOrigin reports whether u is on the server's origin.
func (a *Authorizer) sameOrigin(u *url.URL) bool {
	return u != nil && u.User == nil && u.Scheme+"://"+u.Host == a.origin
}
