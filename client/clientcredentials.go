package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/clip"
	"github.com/mcpauthz/mcpauthz/internal/guid"
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
	// Resource is OPTIONAL: what token requests send as "resource".
	// Default ResourceFromMetadata (the MCP rule).
	Resource ResourceParameter
	// ResourceValue is the "resource" sent with ResourceExplicit, an
	// absolute URI without a fragment (RFC 8707 §2) such as
	// "api://mcp-server" or "api://<client id>", or, for Microsoft Entra
	// ID, the API's application (client) id, a GUID such as
	// "6e74172b-be56-4843-9ff4-e66a39bb12e3" (Entra accepts it where it
	// accepts the Application ID URI; it is not a URI, so no other form
	// than a URI or a GUID is sent). Set only with it.
	ResourceValue string
}

// ResourceParameter selects the "resource" parameter of client credentials
// token requests.
type ResourceParameter int

const (
	// ResourceFromMetadata sends the protected resource metadata's resource
	// (RFC 8707), as MCP requires. The default.
	ResourceFromMetadata ResourceParameter = iota
	// ResourceOmit sends no "resource": for authorization servers that name
	// the API in the scope instead. Microsoft Entra ID's v2.0 token
	// endpoint (.../oauth2/v2.0/token) is one: client credentials ask for
	// the scope "<Application ID URI>/.default" (set it in Config.Scopes),
	// and a resource that is not that Application ID URI is refused
	// (AADSTS9010010 invalid_target; before 2026, any resource was:
	// AADSTS901002). A request without a scope then fails with ErrConfig
	// before anything is sent.
	ResourceOmit
	// ResourceExplicit sends ClientCredentialsConfig.ResourceValue: for
	// Microsoft Entra ID's v1 token endpoint (.../oauth2/token), which
	// ignores "scope" and needs the API's Application ID URI or
	// application (client) id as resource when that is not the MCP
	// server's URL.
	ResourceExplicit
)

// ClientCredentials is the OAuth client credentials grant (RFC 6749 §4.4)
// with the MCP oauth-client-credentials extension rules: "resource" is
// always sent, private_key_jwt assertions have aud = the issuer.
type ClientCredentials struct {
	grantCore
	creds    Credentials
	resource ResourceParameter
	resValue string
}

// NewClientCredentials validates cfg and returns the grant.
func NewClientCredentials(cfg ClientCredentialsConfig) (*ClientCredentials, error) {
	if err := cfg.Credentials.validate("client credentials"); err != nil {
		return nil, err
	}
	if cfg.Credentials.method() == AuthNone {
		return nil, fmt.Errorf("%w: client credentials need a secret or a key", ErrConfig)
	}
	switch cfg.Resource {
	case ResourceFromMetadata, ResourceOmit:
		if cfg.ResourceValue != "" {
			return nil, fmt.Errorf("%w: ResourceValue is only sent with ResourceExplicit", ErrConfig)
		}
	case ResourceExplicit:
		if !explicitResource(cfg.ResourceValue) {
			return nil, fmt.Errorf("%w: ResourceValue %s is neither an absolute URI without a fragment nor an application (client) id GUID", ErrConfig, clip.Quote(cfg.ResourceValue, core.MaxLogField))
		}
	default:
		return nil, fmt.Errorf("%w: unknown Resource %d", ErrConfig, cfg.Resource)
	}
	return &ClientCredentials{
		grantCore: newGrantCore(cfg.HTTPClient, cfg.MaxResponseBytes, cfg.Now, cfg.Logger, cfg.Credentials.Issuer),
		creds:     cfg.Credentials,
		resource:  cfg.Resource,
		resValue:  cfg.ResourceValue,
	}, nil
}

// explicitResource reports whether v may be sent with ResourceExplicit: an
// absolute URI without a fragment (RFC 8707 §2), or a GUID in its
// canonical form, which Microsoft Entra ID takes as the API's application
// (client) id (its v1 endpoint's resource, its v2 endpoint's
// "<client id>/.default" scope's resource) although it is not a URI.
func explicitResource(v string) bool {
	if guid.Is(v) {
		return true
	}
	u, err := url.Parse(v)
	return err == nil && u.IsAbs() && u.Fragment == "" && !strings.Contains(v, "#")
}

// FetchToken implements [Grant]: one client_credentials request to the
// token endpoint of req.AuthServer, with "resource" (req.Resource, unless
// ClientCredentialsConfig.Resource says otherwise) and, when req.Scopes is
// non-empty, "scope". Errors: *OAuthError for RFC 6749 error responses
// (invalid_client, invalid_scope, ...; one of Microsoft Entra ID's v2.0
// endpoint refusing the resource parameter is wrapped in an error saying
// to set ResourceOmit), ErrIssuerBinding, ErrUnsupported,
// ErrTokenResponse, ErrConfig (ResourceOmit without scopes).
func (g *ClientCredentials) FetchToken(ctx context.Context, req *TokenRequest) (*Token, error) {
	if err := g.start(req, grantClientCredentials, "client_credentials"); err != nil {
		return nil, err
	}
	as := req.AuthServer
	form := url.Values{"grant_type": {grantClientCredentials}}
	switch g.resource {
	case ResourceOmit:
		if len(req.Scopes) == 0 {
			return nil, fmt.Errorf("%w: ResourceOmit needs a scope naming the API (Config.Scopes, e.g. \"api://<app>/.default\" for Microsoft Entra ID)", ErrConfig)
		}
	case ResourceExplicit:
		form.Set("resource", g.resValue)
	default:
		form.Set("resource", req.Resource)
	}
	scopeForm(form, req.Scopes)
	t, err := g.token(ctx, tokenLeg{
		name: "token", endpoint: as.TokenEndpoint, form: form, creds: &g.creds, issuer: as.Issuer, meta: as,
		attrs: []slog.Attr{slog.String("client_id", g.creds.ClientID), slog.String("iss", bounded(as.Issuer)),
			slog.String("method", string(g.creds.method()))},
		failed: "mcpauthz client: client_credentials failed",
		done:   "mcpauthz client: client_credentials token issued",
	}, req.Scopes)
	if err != nil && g.resource != ResourceOmit && entraRefusesResource(err) {
		return nil, fmt.Errorf("%w (Microsoft Entra ID v2.0 token endpoint: set ClientCredentialsConfig.Resource to ResourceOmit and "+
			"Config.Scopes to [\"<Application ID URI>/.default\"], or use the v1 endpoint with ResourceExplicit)", err)
	}
	return t, err
}

// entraRefusesResource reports whether err is Microsoft Entra ID's v2.0
// token endpoint refusing the "resource" parameter: AADSTS9010010 (a
// resource other than the scope's, invalid_target) or AADSTS901002 (the
// parameter is not supported, before 2026).
func entraRefusesResource(err error) bool {
	var oe *OAuthError
	if !errors.As(err, &oe) {
		return false
	}
	return strings.HasPrefix(oe.Description, "AADSTS9010010:") || strings.HasPrefix(oe.Description, "AADSTS901002:")
}
