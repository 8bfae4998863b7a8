package client

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/clip"
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
	// the audience of private_key_jwt assertions sent to the IdP, unless
	// Credentials.AssertionAudience is AudienceTokenEndpoint (Okta, Entra
	// ID).
	Issuer string
	// TokenEndpoint is OPTIONAL when Issuer is set.
	TokenEndpoint string
	// Credentials of this client at the IdP: REQUIRED ClientID. Methods:
	// none (client_id only), client_secret_basic, client_secret_post,
	// private_key_jwt (needs Issuer unless AssertionAudience is
	// AudienceTokenEndpoint). Credentials.Issuer is ignored; the
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
	grantCore // binding: the AS credentials; the IdP is fixed by configuration
	cfg       EnterpriseManagedConfig
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
	if cfg.IdP.Issuer == "" && cfg.IdP.Credentials.method() == AuthPrivateKeyJWT && cfg.IdP.Credentials.AssertionAudience == AudienceIssuer {
		return nil, fmt.Errorf("%w: enterprise-managed: private_key_jwt at the IdP needs IdP.Issuer (or AssertionAudience AudienceTokenEndpoint)", ErrConfig)
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
	return &EnterpriseManaged{
		grantCore: newGrantCore(cfg.HTTPClient, cfg.MaxResponseBytes, cfg.Now, cfg.Logger, cfg.Credentials.Issuer),
		cfg:       cfg,
	}, nil
}

// FetchToken implements [Grant]: ID token → token exchange (fresh ID-JAG)
// → jwt-bearer grant. The token exchange sends audience = the AS issuer,
// resource = req.Resource and, when req.Scopes is non-empty, scope.
func (g *EnterpriseManaged) FetchToken(ctx context.Context, req *TokenRequest) (*Token, error) {
	if err := g.start(req, GrantTypeJWTBearer, "jwt-bearer"); err != nil {
		return nil, err
	}
	as := req.AuthServer
	idjag, err := g.exchange(ctx, as.Issuer, req)
	if err != nil {
		return nil, err
	}
	form := url.Values{"grant_type": {GrantTypeJWTBearer}, "assertion": {idjag}, "resource": {req.Resource}}
	scopes := req.Scopes
	switch g.cfg.AccessTokenScopeMode {
	case ScopeOmit:
		scopes = nil
	case ScopeExplicit:
		scopes = g.cfg.AccessTokenScopes
	}
	scopeForm(form, scopes)
	return g.token(ctx, tokenLeg{
		name: "jwt_bearer", endpoint: as.TokenEndpoint, form: form, creds: &g.cfg.Credentials, issuer: as.Issuer, meta: as,
		attrs:  []slog.Attr{slog.String("client_id", g.cfg.Credentials.ClientID), slog.String("iss", bounded(as.Issuer))},
		failed: "mcpauthz client: jwt-bearer grant failed",
		done:   "mcpauthz client: access token issued for ID-JAG",
	}, scopes)
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
	form := url.Values{"grant_type": {GrantTypeTokenExchange}, "requested_token_type": {TokenTypeIDJAG},
		"audience": {asIssuer}, "resource": {req.Resource}, "subject_token": {idt}, "subject_token_type": {TokenTypeIDToken}}
	scopeForm(form, req.Scopes)
	var idjag string
	err = g.post(ctx, tokenLeg{
		name: "token_exchange", endpoint: endpoint, form: form, creds: &idp.Credentials, issuer: idp.Issuer, meta: meta,
		attrs: []slog.Attr{slog.String("idp_client_id", idp.Credentials.ClientID), slog.String("idp", idp.Issuer),
			slog.String("audience", bounded(asIssuer))},
		failed: "mcpauthz client: token exchange failed",
		done:   "mcpauthz client: ID-JAG obtained",
	}, func(tr *tokenResponse, _ time.Time) error {
		if tr.IssuedTokenType != TokenTypeIDJAG {
			return fmt.Errorf("%w: token_exchange issued_token_type %s, want %q", ErrTokenResponse, clip.Quote(tr.IssuedTokenType, core.MaxLogField), TokenTypeIDJAG)
		}
		if !strings.EqualFold(tr.TokenType, "N_A") {
			return fmt.Errorf("%w: token_exchange token_type %s, want N_A", ErrTokenResponse, clip.Quote(tr.TokenType, core.MaxLogField))
		}
		idjag = tr.AccessToken
		return nil
	})
	return idjag, err
}
