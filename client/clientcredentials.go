package client

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const grantClientCredentials = "client_credentials"

// ClientCredentialsConfig configures [NewClientCredentials].
type ClientCredentialsConfig struct {
	// Credentials at the authorization server: REQUIRED. Supported methods:
	// client_secret_basic (default with a secret), client_secret_post and
	// private_key_jwt (default with a key).
	Credentials Credentials
	// HTTPClient is OPTIONAL: used for token requests. Default: a client
	// with DefaultHTTPTimeout that does not follow redirects. It must not be
	// a client whose transport injects this package's bearer tokens.
	HTTPClient *http.Client
	// MaxResponseBytes is OPTIONAL. Default DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// Now is OPTIONAL (tests). Default time.Now.
	Now func() time.Time
	// Logger is OPTIONAL. Default: discard. Secrets and assertions are never
	// logged; client_id, iss and assertion jti are.
	Logger *slog.Logger
}

// ClientCredentials is the OAuth client credentials grant (RFC 6749 §4.4)
// with the MCP oauth-client-credentials extension rules: "resource" is
// always sent, private_key_jwt assertions have aud = the issuer.
type ClientCredentials struct {
	creds   Credentials
	hc      *http.Client
	maxBody int64
	now     func() time.Time
	log     *slog.Logger
	binding *issuerBinding
}

// NewClientCredentials validates cfg and returns the grant.
func NewClientCredentials(cfg ClientCredentialsConfig) (*ClientCredentials, error) {
	if err := cfg.Credentials.validate("client credentials"); err != nil {
		return nil, err
	}
	if cfg.Credentials.method() == AuthNone {
		return nil, fmt.Errorf("%w: client credentials need a secret or a key", ErrConfig)
	}
	g := &ClientCredentials{
		creds:   cfg.Credentials,
		hc:      cfg.HTTPClient,
		maxBody: cfg.MaxResponseBytes,
		now:     cfg.Now,
		log:     loggerOrDiscard(cfg.Logger),
		binding: newIssuerBinding(cfg.Credentials.Issuer),
	}
	if g.hc == nil {
		g.hc = defaultHTTPClient()
	}
	if g.maxBody <= 0 {
		g.maxBody = DefaultMaxResponseBytes
	}
	if g.now == nil {
		g.now = time.Now
	}
	return g, nil
}

// BoundIssuer implements [Grant].
func (g *ClientCredentials) BoundIssuer() string { return g.binding.get() }

// FetchToken implements [Grant]: one client_credentials request to the
// token endpoint of req.AuthServer, with "resource" and, when req.Scopes is
// non-empty, "scope". Errors: *OAuthError for RFC 6749 error responses
// (invalid_client, invalid_scope, ...), ErrIssuerBinding, ErrUnsupported,
// ErrTokenResponse.
func (g *ClientCredentials) FetchToken(ctx context.Context, req *TokenRequest) (*Token, error) {
	as := req.AuthServer
	if as == nil || req.Resource == "" {
		return nil, fmt.Errorf("%w: token request needs AuthServer and Resource", ErrConfig)
	}
	if err := g.binding.bind(as.Issuer); err != nil {
		return nil, err
	}
	if !as.supportsGrant(grantClientCredentials) {
		return nil, fmt.Errorf("%w: %s does not list the client_credentials grant", ErrUnsupported, as.Issuer)
	}
	form := url.Values{}
	form.Set("grant_type", grantClientCredentials)
	form.Set("resource", req.Resource)
	if len(req.Scopes) > 0 {
		form.Set("scope", strings.Join(req.Scopes, " "))
	}
	now := g.now()
	var jti string
	tr, err := postForm(ctx, g.hc, as.TokenEndpoint, "token", form, g.maxBody, func(r *http.Request, f url.Values) error {
		var err error
		jti, err = g.creds.authenticate(r, f, as.Issuer, as, now)
		return err
	})
	attrs := []slog.Attr{slog.String("client_id", g.creds.ClientID), slog.String("iss", as.Issuer),
		slog.String("method", string(g.creds.method()))}
	if jti != "" {
		attrs = append(attrs, slog.String("jti", jti))
	}
	if err != nil {
		g.log.LogAttrs(ctx, slog.LevelWarn, "mcpauthz client: client_credentials failed", append(attrs, slog.String("error", err.Error()))...)
		return nil, err
	}
	t, err := tr.toToken("token", req.Scopes, now)
	if err != nil {
		return nil, err
	}
	g.log.LogAttrs(ctx, slog.LevelDebug, "mcpauthz client: client_credentials token issued", attrs...)
	return t, nil
}

func loggerOrDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
