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

// Grant obtains access tokens from the authorization server found by
// discovery. Implementations in this package: [*ClientCredentials] and
// [*EnterpriseManaged]. Implementations must be safe for concurrent use.
type Grant interface {
	// FetchToken requests a new access token. It must send req.Resource as
	// the "resource" parameter (unless configured otherwise for a server
	// that refuses it: ClientCredentialsConfig.Resource) and must not send
	// credentials to an issuer other than the one they are bound to.
	FetchToken(ctx context.Context, req *TokenRequest) (*Token, error)
	// BoundIssuer returns the issuer the grant's credentials are bound to,
	// or "" while unbound. Discovery prefers this issuer.
	BoundIssuer() string
}

// TokenRequest describes one access token request.
type TokenRequest struct {
	// AuthServer is the issuer-checked metadata of the authorization server.
	AuthServer *AuthServerMetadata
	// Resource is the RFC 8707 resource indicator (the PRM resource).
	Resource string
	// Scopes to request; nil or empty omits the scope parameter.
	Scopes []string
}

// issuerBinding binds credentials to one issuer: the pinned one, or the
// first one they are used with.
type issuerBinding struct {
	mu     sync.Mutex
	issuer string
}

func newIssuerBinding(pinned string) *issuerBinding { return &issuerBinding{issuer: pinned} }

func (b *issuerBinding) get() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.issuer
}

// bind checks issuer against the binding, binding it when unbound. It
// returns an error wrapping ErrIssuerBinding on a mismatch; no credential
// must be sent then.
func (b *issuerBinding) bind(issuer string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.issuer == "" {
		b.issuer = issuer
		return nil
	}
	if b.issuer != issuer {
		return fmt.Errorf("%w: credentials belong to %s, refusing to send them to %s", ErrIssuerBinding,
			clip.Quote(b.issuer, core.MaxLogField), clip.Quote(issuer, core.MaxLogField))
	}
	return nil
}

// grantCore is what the grants of this package share: the HTTP client,
// response bound, clock and logger of their token requests, and the issuer
// their authorization-server credentials are bound to. Embedding it gives a
// grant its BoundIssuer method.
type grantCore struct {
	hc      *http.Client
	maxBody int64
	now     func() time.Time
	log     *slog.Logger
	binding *issuerBinding
}

// newGrantCore applies the documented defaults: defaultHTTPClient,
// DefaultMaxResponseBytes, time.Now and a discarding logger.
func newGrantCore(hc *http.Client, maxBody int64, now func() time.Time, log *slog.Logger, pinned string) grantCore {
	if hc == nil {
		hc = defaultHTTPClient()
	}
	if maxBody <= 0 {
		maxBody = DefaultMaxResponseBytes
	}
	if now == nil {
		now = time.Now
	}
	return grantCore{hc: hc, maxBody: maxBody, now: now, log: loggerOrDiscard(log), binding: newIssuerBinding(pinned)}
}

// BoundIssuer implements [Grant].
func (g *grantCore) BoundIssuer() string { return g.binding.get() }

// start checks req, binds the credentials to its authorization server and
// checks that the server lists grantType (named name in the error).
func (g *grantCore) start(req *TokenRequest, grantType, name string) error {
	as := req.AuthServer
	if as == nil || req.Resource == "" {
		return fmt.Errorf("%w: token request needs AuthServer and Resource", ErrConfig)
	}
	if err := g.binding.bind(as.Issuer); err != nil {
		return err
	}
	if !as.supportsGrant(grantType) {
		return fmt.Errorf("%w: %s does not list the %s grant", ErrUnsupported, clip.Quote(as.Issuer, core.MaxLogField), name)
	}
	return nil
}

// tokenLeg is one request to a token endpoint.
type tokenLeg struct {
	name     string // in errors: "token", "jwt_bearer", "token_exchange"
	endpoint string
	form     url.Values
	creds    *Credentials
	issuer   string              // the audience of a private_key_jwt assertion
	meta     *AuthServerMetadata // nil: the auth methods are not checked
	attrs    []slog.Attr         // logged with the outcome, plus the assertion's jti
	failed   string              // the WARN message
	done     string              // the DEBUG message
}

// post sends leg with client authentication, checks the response with
// check, and logs the outcome: never a secret, assertion or token.
func (g *grantCore) post(ctx context.Context, leg tokenLeg, check func(*tokenResponse, time.Time) error) error {
	now := g.now()
	var jti string
	tr, err := postForm(ctx, g.hc, leg.endpoint, leg.name, leg.form, g.maxBody, func(r *http.Request, f url.Values) error {
		var err error
		jti, err = leg.creds.authenticate(r, f, leg.issuer, leg.meta, now)
		return err
	})
	if err == nil {
		err = check(tr, now)
	}
	attrs := leg.attrs
	if jti != "" {
		attrs = append(attrs, slog.String("jti", jti))
	}
	if err != nil {
		g.log.LogAttrs(ctx, slog.LevelWarn, leg.failed, append(attrs, slog.String("error", err.Error()))...)
		return err
	}
	g.log.LogAttrs(ctx, slog.LevelDebug, leg.done, attrs...)
	return nil
}

// token posts leg and converts the Bearer response; scopes are the ones
// requested.
func (g *grantCore) token(ctx context.Context, leg tokenLeg, scopes []string) (*Token, error) {
	var t *Token
	err := g.post(ctx, leg, func(tr *tokenResponse, now time.Time) (err error) {
		t, err = tr.toToken(leg.name, scopes, now)
		return err
	})
	return t, err
}

// scopeForm sets "scope" when scopes is non-empty.
func scopeForm(form url.Values, scopes []string) {
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
}

func loggerOrDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
