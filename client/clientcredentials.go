package client

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
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
	grantCore
	creds Credentials
}

// NewClientCredentials validates cfg and returns the grant.
func NewClientCredentials(cfg ClientCredentialsConfig) (*ClientCredentials, error) {
	if err := cfg.Credentials.validate("client credentials"); err != nil {
		return nil, err
	}
	if cfg.Credentials.method() == AuthNone {
		return nil, fmt.Errorf("%w: client credentials need a secret or a key", ErrConfig)
	}
	return &ClientCredentials{
		grantCore: newGrantCore(cfg.HTTPClient, cfg.MaxResponseBytes, cfg.Now, cfg.Logger, cfg.Credentials.Issuer),
		creds:     cfg.Credentials,
	}, nil
}

// FetchToken implements [Grant]: one client_credentials request to the
// token endpoint of req.AuthServer, with "resource" and, when req.Scopes is
// non-empty, "scope". Errors: *OAuthError for RFC 6749 error responses
// (invalid_client, invalid_scope, ...), ErrIssuerBinding, ErrUnsupported,
// ErrTokenResponse.
func (g *ClientCredentials) FetchToken(ctx context.Context, req *TokenRequest) (*Token, error) {
	if err := g.start(req, grantClientCredentials, "client_credentials"); err != nil {
		return nil, err
	}
	as := req.AuthServer
	form := url.Values{"grant_type": {grantClientCredentials}, "resource": {req.Resource}}
	scopeForm(form, req.Scopes)
	return g.token(ctx, tokenLeg{
		name: "token", endpoint: as.TokenEndpoint, form: form, creds: &g.creds, issuer: as.Issuer, meta: as,
		attrs: []slog.Attr{slog.String("client_id", g.creds.ClientID), slog.String("iss", as.Issuer),
			slog.String("method", string(g.creds.method()))},
		failed: "mcpauthz client: client_credentials failed",
		done:   "mcpauthz client: client_credentials token issued",
	}, req.Scopes)
}
