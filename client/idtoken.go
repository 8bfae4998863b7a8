package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/clip"
)

// IDTokenSource supplies the user's OpenID Connect ID token that
// [*EnterpriseManaged] exchanges at the IdP. Implementations must be safe
// for concurrent use and may cache; IDToken is called once per access token.
type IDTokenSource interface {
	IDToken(ctx context.Context) (string, error)
}

// StaticIDToken is an IDTokenSource that always returns the same token (for
// tests, CLIs and hosts that obtain the ID token elsewhere). An empty value
// is an error wrapping ErrIDToken.
type StaticIDToken string

// IDToken implements [IDTokenSource].
func (s StaticIDToken) IDToken(context.Context) (string, error) {
	if s == "" {
		return "", fmt.Errorf("%w: static ID token is empty", ErrIDToken)
	}
	return string(s), nil
}

// OIDCLoginConfig configures [NewOIDCLogin].
type OIDCLoginConfig struct {
	// Issuer of the enterprise IdP: REQUIRED (OIDC discovery, exact issuer).
	Issuer string
	// ClientID at the IdP: REQUIRED.
	ClientID string
	// ClientSecret is OPTIONAL (empty: public client, PKCE only).
	ClientSecret string
	// Scopes are OPTIONAL; "openid" is always requested.
	Scopes []string
	// OpenBrowser is REQUIRED: it shows authURL to the user (opens a
	// browser, prints it, or drives a test login).
	OpenBrowser func(ctx context.Context, authURL string) error
	// ListenAddr is OPTIONAL: the loopback address of the redirect
	// listener. Default "127.0.0.1:0" (RFC 8252 §7.3, any port). It must be
	// a loopback IP literal.
	ListenAddr string
	// LoginTimeout is OPTIONAL: how long to wait for the redirect.
	// Default 5 minutes.
	LoginTimeout time.Duration
	// ExpirySkew is OPTIONAL: an ID token expiring within it is renewed.
	// Default 30 s.
	ExpirySkew time.Duration
	// HTTPClient, Now, Logger: OPTIONAL, as elsewhere in this package.
	HTTPClient *http.Client
	Now        func() time.Time
	Logger     *slog.Logger
}

// OIDCLogin is an IDTokenSource that logs the user in at the IdP with the
// authorization code flow + PKCE (S256), a random state and nonce, and a
// loopback redirect listener. It verifies the ID token (signature via the
// IdP JWKS, iss, aud, exp, nonce) and caches it until it is about to
// expire. Concurrent callers share one login.
type OIDCLogin struct {
	cfg  OIDCLoginConfig
	hc   *http.Client
	log  *slog.Logger
	sem  chan struct{}
	mu   sync.Mutex
	tok  string
	exp  time.Time
	prov *oidc.Provider
}

// NewOIDCLogin validates cfg and returns the source. It does no I/O.
func NewOIDCLogin(cfg OIDCLoginConfig) (*OIDCLogin, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.OpenBrowser == nil {
		return nil, fmt.Errorf("%w: OIDC login needs Issuer, ClientID and OpenBrowser", ErrConfig)
	}
	if _, err := checkURL(cfg.Issuer, false); err != nil {
		return nil, err
	}
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(cfg.ListenAddr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("%w: ListenAddr %q must be a loopback IP and port", ErrConfig, cfg.ListenAddr)
	}
	if cfg.LoginTimeout <= 0 {
		cfg.LoginTimeout = 5 * time.Minute
	}
	if cfg.ExpirySkew <= 0 {
		cfg.ExpirySkew = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &OIDCLogin{cfg: cfg, hc: cfg.HTTPClient, log: loggerOrDiscard(cfg.Logger), sem: make(chan struct{}, 1)}
	if l.hc == nil {
		l.hc = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	return l, nil
}

// IDToken implements [IDTokenSource]: the cached ID token while it is valid
// for more than ExpirySkew, else a new interactive login.
func (l *OIDCLogin) IDToken(ctx context.Context) (string, error) {
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-l.sem }()
	l.mu.Lock()
	tok, exp := l.tok, l.exp
	l.mu.Unlock()
	if tok != "" && l.cfg.Now().Add(l.cfg.ExpirySkew).Before(exp) {
		return tok, nil
	}
	tok, exp, err := l.login(ctx)
	if err != nil {
		return "", err
	}
	l.mu.Lock()
	l.tok, l.exp = tok, exp
	l.mu.Unlock()
	return tok, nil
}

func randomString() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

type callbackResult struct {
	code string
	err  error
}

func (l *OIDCLogin) login(ctx context.Context) (string, time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.LoginTimeout)
	defer cancel()
	octx := oidc.ClientContext(ctx, l.hc)
	if l.prov == nil {
		p, err := oidc.NewProvider(octx, l.cfg.Issuer)
		if err != nil {
			return "", time.Time{}, fmt.Errorf("%w: IdP discovery: %w", ErrIDToken, err)
		}
		l.prov = p
	}
	state, err := randomString()
	if err != nil {
		return "", time.Time{}, err
	}
	nonce, err := randomString()
	if err != nil {
		return "", time.Time{}, err
	}
	verifier := oauth2.GenerateVerifier()

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", l.cfg.ListenAddr)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("%w: redirect listener: %w", ErrIDToken, err)
	}
	redirect := "http://" + ln.Addr().String() + "/callback"
	oc := oauth2.Config{
		ClientID: l.cfg.ClientID, ClientSecret: l.cfg.ClientSecret, Endpoint: l.prov.Endpoint(),
		RedirectURL: redirect, Scopes: unionScopes([]string{oidc.ScopeOpenID}, l.cfg.Scopes),
	}
	results := make(chan callbackResult, 1)
	srv := callbackServer(l.callbackHandler(state, results))
	go func() { _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close() }()

	authURL := oc.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))
	if err := l.cfg.OpenBrowser(ctx, authURL); err != nil {
		return "", time.Time{}, fmt.Errorf("%w: open browser: %w", ErrIDToken, err)
	}
	var res callbackResult
	select {
	case res = <-results:
	case <-ctx.Done():
		return "", time.Time{}, fmt.Errorf("%w: waiting for the login redirect: %w", ErrIDToken, ctx.Err())
	}
	if res.err != nil {
		return "", time.Time{}, res.err
	}
	// The exchange carries the code, the verifier and the client secret:
	// a redirect is never followed (see withoutRedirects).
	tok, err := oc.Exchange(context.WithValue(ctx, oauth2.HTTPClient, withoutRedirects(l.hc)), res.code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			status := 0
			if re.Response != nil {
				status = re.Response.StatusCode
			}
			return "", time.Time{}, &OAuthError{Code: bounded(re.ErrorCode), Description: bounded(re.ErrorDescription),
				URI: bounded(re.ErrorURI), Status: status, Endpoint: "idp_token"}
		}
		return "", time.Time{}, fmt.Errorf("%w: code exchange: %w", ErrIDToken, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return "", time.Time{}, fmt.Errorf("%w: token response has no id_token", ErrIDToken)
	}
	idt, err := l.prov.VerifierContext(octx, &oidc.Config{ClientID: l.cfg.ClientID, Now: l.cfg.Now}).Verify(ctx, raw)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("%w: %w", ErrIDToken, err)
	}
	if idt.Nonce != nonce {
		return "", time.Time{}, fmt.Errorf("%w: nonce mismatch", ErrIDToken)
	}
	l.log.LogAttrs(ctx, slog.LevelDebug, "mcpauthz client: IdP login complete",
		slog.String("iss", bounded(idt.Issuer)), slog.String("sub", bounded(idt.Subject)))
	return raw, idt.Expiry, nil
}

// Limits of the loopback redirect server. Any local process (or a web page
// the browser visits, by a cross-site GET) can reach it while a login waits,
// so it bounds what a peer can hold: headers (a redirect's code, state and
// iss fit in a few KiB), time to send them, the whole request, the
// response, and idle keep-alive connections.
const (
	callbackHeaderBytes = 32 << 10
	callbackReadHeader  = 10 * time.Second
	callbackRead        = 15 * time.Second
	callbackWrite       = 15 * time.Second
	callbackIdle        = 5 * time.Second
)

// callbackServer is the loopback redirect server of a login, with
// every timeout and the header bound set.
func callbackServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: callbackReadHeader,
		ReadTimeout:       callbackRead,
		WriteTimeout:      callbackWrite,
		IdleTimeout:       callbackIdle,
		MaxHeaderBytes:    callbackHeaderBytes,
	}
}

// callbackHandler accepts exactly one redirect on /callback with the
// expected state (and, when present, iss equal to the issuer, RFC 9207).
func (l *OIDCLogin) callbackHandler(state string, results chan<- callbackResult) http.Handler {
	var once sync.Once
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		if q.Get("state") != state || len(q["state"]) != 1 {
			http.Error(w, "state mismatch", http.StatusBadRequest)
			return
		}
		var res callbackResult
		switch {
		case len(q["iss"]) > 0 && q.Get("iss") != l.cfg.Issuer:
			res.err = fmt.Errorf("%w: authorization response iss %s is not %q", ErrIssuerMismatch, clip.Quote(q.Get("iss"), core.MaxLogField), l.cfg.Issuer)
		case q.Get("error") != "":
			// Up to 32 KiB of query the redirect chose; they end up in
			// logs, so they are cut as a token endpoint's are.
			res.err = &OAuthError{Code: bounded(q.Get("error")), Description: bounded(q.Get("error_description")), URI: bounded(q.Get("error_uri")),
				Status: http.StatusFound, Endpoint: "idp_authorize"}
		case q.Get("code") == "" || len(q["code"]) != 1:
			res.err = fmt.Errorf("%w: authorization response without a single code", ErrIDToken)
		default:
			res.code = q.Get("code")
		}
		once.Do(func() { results <- res })
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if res.err != nil {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte("Login failed. You can close this window.\n"))
			return
		}
		_, _ = w.Write([]byte("Login complete. You can close this window.\n"))
	})
}
