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

// Grant and token type URNs used by Enterprise-Managed Authorization.
const (
	GrantTypeTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	GrantTypeJWTBearer     = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	TokenTypeIDJAG         = "urn:ietf:params:oauth:token-type:id-jag"
	TokenTypeIDToken       = "urn:ietf:params:oauth:token-type:id_token"
)

// ScopeMode selects the "scope" parameter of the jwt-bearer request (OQ-6).
type ScopeMode int

const (
	// ScopeInherit sends the scopes of the token request (the same scopes
	// asked for in the token exchange). The default.
	ScopeInherit ScopeMode = iota
	// ScopeOmit sends no scope (the authorization server uses the ID-JAG's).
	ScopeOmit
	// ScopeExplicit sends EnterpriseManagedConfig.AccessTokenScopes.
	ScopeExplicit
)

// IdPConfig describes the enterprise IdP's token endpoint for the RFC 8693
// token exchange.
type IdPConfig struct {
	// Issuer is the IdP issuer identifier. REQUIRED unless TokenEndpoint is
	// set; when TokenEndpoint is empty the IdP metadata is discovered from
	// it (with the same issuer check as for authorization servers). Also
	// the audience of private_key_jwt assertions sent to the IdP.
	Issuer string
	// TokenEndpoint is OPTIONAL when Issuer is set.
	TokenEndpoint string
	// Credentials of this client at the IdP: REQUIRED ClientID. Methods:
	// none (client_id only), client_secret_basic, client_secret_post,
	// private_key_jwt (needs Issuer). Credentials.Issuer is ignored; the
	// binding is to IdPConfig.Issuer / TokenEndpoint.
	Credentials Credentials
}

// EnterpriseManagedConfig configures [NewEnterpriseManaged].
type EnterpriseManagedConfig struct {
	// IDTokens supplies the user's ID token: REQUIRED ([StaticIDToken],
	// [*OIDCLogin] or your own).
	IDTokens IDTokenSource
	// IdP is REQUIRED.
	IdP IdPConfig
	// Credentials at the MCP authorization server: REQUIRED. The client_id
	// must be the one the IdP puts in the ID-JAG. Methods:
	// client_secret_basic (default with a secret), client_secret_post,
	// private_key_jwt.
	Credentials Credentials
	// AccessTokenScopeMode is OPTIONAL (default ScopeInherit).
	AccessTokenScopeMode ScopeMode
	// AccessTokenScopes is used with ScopeExplicit.
	AccessTokenScopes []string
	// HTTPClient, MaxResponseBytes, Now, Logger: as in ClientCredentialsConfig.
	HTTPClient       *http.Client
	MaxResponseBytes int64
	Now              func() time.Time
	Logger           *slog.Logger
	// AllowInsecureHTTP permits plain-http IdP URLs on non-loopback hosts.
	// OPTIONAL, default false; never enable it in production.
	AllowInsecureHTTP bool
}

// EnterpriseManaged is the Enterprise-Managed Authorization grant
// (io.modelcontextprotocol/enterprise-managed-authorization): an RFC 8693
// token exchange of the user's ID token for an ID-JAG at the IdP, then the
// RFC 7523 jwt-bearer grant with that ID-JAG at the MCP authorization
// server. Every FetchToken obtains a fresh ID-JAG; an ID-JAG is never
// stored or re-submitted, and never logged.
//
// A denial at either leg is returned as an *OAuthError; nothing in this
// package falls back to an interactive authorization flow.
type EnterpriseManaged struct {
	cfg     EnterpriseManagedConfig
	hc      *http.Client
	maxBody int64
	now     func() time.Time
	log     *slog.Logger
	binding *issuerBinding // AS credentials; the IdP is fixed by configuration
}

// NewEnterpriseManaged validates cfg and returns the grant.
func NewEnterpriseManaged(cfg EnterpriseManagedConfig) (*EnterpriseManaged, error) {
	if cfg.IDTokens == nil {
		return nil, fmt.Errorf("%w: enterprise-managed: IDTokens is required", ErrConfig)
	}
	if err := cfg.Credentials.validate("enterprise-managed AS credentials"); err != nil {
		return nil, err
	}
	if cfg.Credentials.method() == AuthNone {
		return nil, fmt.Errorf("%w: enterprise-managed: the authorization server needs client authentication", ErrConfig)
	}
	if err := cfg.IdP.Credentials.validate("enterprise-managed IdP credentials"); err != nil {
		return nil, err
	}
	if cfg.IdP.Issuer == "" && cfg.IdP.TokenEndpoint == "" {
		return nil, fmt.Errorf("%w: enterprise-managed: IdP.Issuer or IdP.TokenEndpoint is required", ErrConfig)
	}
	if cfg.IdP.Issuer == "" && cfg.IdP.Credentials.method() == AuthPrivateKeyJWT {
		return nil, fmt.Errorf("%w: enterprise-managed: private_key_jwt at the IdP needs IdP.Issuer", ErrConfig)
	}
	for _, u := range []string{cfg.IdP.Issuer, cfg.IdP.TokenEndpoint} {
		if u != "" {
			if _, err := checkURL(u, cfg.AllowInsecureHTTP); err != nil {
				return nil, err
			}
		}
	}
	switch cfg.AccessTokenScopeMode {
	case ScopeInherit, ScopeOmit:
	case ScopeExplicit:
		if len(cfg.AccessTokenScopes) == 0 {
			return nil, fmt.Errorf("%w: enterprise-managed: ScopeExplicit needs AccessTokenScopes", ErrConfig)
		}
	default:
		return nil, fmt.Errorf("%w: enterprise-managed: unknown AccessTokenScopeMode %d", ErrConfig, cfg.AccessTokenScopeMode)
	}
	g := &EnterpriseManaged{
		cfg: cfg, hc: cfg.HTTPClient, maxBody: cfg.MaxResponseBytes, now: cfg.Now,
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
func (g *EnterpriseManaged) BoundIssuer() string { return g.binding.get() }

// FetchToken implements [Grant]: ID token → token exchange (fresh ID-JAG)
// → jwt-bearer grant. The token exchange sends audience = the AS issuer,
// resource = req.Resource and, when req.Scopes is non-empty, scope.
func (g *EnterpriseManaged) FetchToken(ctx context.Context, req *TokenRequest) (*Token, error) {
	as := req.AuthServer
	if as == nil || req.Resource == "" {
		return nil, fmt.Errorf("%w: token request needs AuthServer and Resource", ErrConfig)
	}
	if err := g.binding.bind(as.Issuer); err != nil {
		return nil, err
	}
	if !as.supportsGrant(GrantTypeJWTBearer) {
		return nil, fmt.Errorf("%w: %s does not list the jwt-bearer grant", ErrUnsupported, as.Issuer)
	}
	idjag, err := g.exchange(ctx, as.Issuer, req)
	if err != nil {
		return nil, err
	}
	form := url.Values{}
	form.Set("grant_type", GrantTypeJWTBearer)
	form.Set("assertion", idjag)
	form.Set("resource", req.Resource)
	scopes := req.Scopes
	switch g.cfg.AccessTokenScopeMode {
	case ScopeOmit:
		scopes = nil
	case ScopeExplicit:
		scopes = g.cfg.AccessTokenScopes
	}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	now := g.now()
	tr, err := postForm(ctx, g.hc, as.TokenEndpoint, "jwt_bearer", form, g.maxBody, func(r *http.Request, f url.Values) error {
		_, err := g.cfg.Credentials.authenticate(r, f, as.Issuer, as, now)
		return err
	})
	attrs := []slog.Attr{slog.String("client_id", g.cfg.Credentials.ClientID), slog.String("iss", as.Issuer)}
	if err != nil {
		g.log.LogAttrs(ctx, slog.LevelWarn, "mcpauthz client: jwt-bearer grant failed", append(attrs, slog.String("error", err.Error()))...)
		return nil, err
	}
	t, err := tr.toToken("jwt_bearer", scopes, now)
	if err != nil {
		return nil, err
	}
	g.log.LogAttrs(ctx, slog.LevelDebug, "mcpauthz client: access token issued for ID-JAG", attrs...)
	return t, nil
}

// exchange performs the RFC 8693 token exchange at the IdP and returns a
// fresh ID-JAG.
func (g *EnterpriseManaged) exchange(ctx context.Context, asIssuer string, req *TokenRequest) (string, error) {
	idp := g.cfg.IdP
	var meta *AuthServerMetadata
	endpoint := idp.TokenEndpoint
	if endpoint == "" {
		m, err := fetchAuthServerMetadata(ctx, g.hc, idp.Issuer, g.cfg.AllowInsecureHTTP, g.maxBody)
		if err != nil {
			return "", fmt.Errorf("IdP: %w", err)
		}
		meta, endpoint = m, m.TokenEndpoint
	}
	idt, err := g.cfg.IDTokens.IDToken(ctx)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrIDToken, err)
	}
	if idt == "" {
		return "", fmt.Errorf("%w: empty ID token", ErrIDToken)
	}
	form := url.Values{}
	form.Set("grant_type", GrantTypeTokenExchange)
	form.Set("requested_token_type", TokenTypeIDJAG)
	form.Set("audience", asIssuer)
	form.Set("resource", req.Resource)
	if len(req.Scopes) > 0 {
		form.Set("scope", strings.Join(req.Scopes, " "))
	}
	form.Set("subject_token", idt)
	form.Set("subject_token_type", TokenTypeIDToken)
	now := g.now()
	var jti string
	tr, err := postForm(ctx, g.hc, endpoint, "token_exchange", form, g.maxBody, func(r *http.Request, f url.Values) error {
		var err error
		jti, err = idp.Credentials.authenticate(r, f, idp.Issuer, meta, now)
		return err
	})
	attrs := []slog.Attr{slog.String("idp_client_id", idp.Credentials.ClientID), slog.String("idp", idp.Issuer),
		slog.String("audience", asIssuer)}
	if jti != "" {
		attrs = append(attrs, slog.String("jti", jti))
	}
	if err != nil {
		g.log.LogAttrs(ctx, slog.LevelWarn, "mcpauthz client: token exchange failed", append(attrs, slog.String("error", err.Error()))...)
		return "", err
	}
	if tr.IssuedTokenType != TokenTypeIDJAG {
		return "", fmt.Errorf("%w: token_exchange issued_token_type %q, want %q", ErrTokenResponse, tr.IssuedTokenType, TokenTypeIDJAG)
	}
	if !strings.EqualFold(tr.TokenType, "N_A") {
		return "", fmt.Errorf("%w: token_exchange token_type %q, want N_A", ErrTokenResponse, tr.TokenType)
	}
	g.log.LogAttrs(ctx, slog.LevelDebug, "mcpauthz client: ID-JAG obtained", attrs...)
	return tr.AccessToken, nil
}
