package client

import (
	"errors"
	"fmt"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/clip"
)

// Sentinel causes. Every error returned by this package wraps one of them (or
// is an [*OAuthError]), so callers can branch with errors.Is / errors.As.
var (
	// ErrConfig: a configuration value is missing or invalid.
	ErrConfig = errors.New("client: invalid configuration")
	// ErrChallenge: a WWW-Authenticate header could not be parsed.
	ErrChallenge = errors.New("client: malformed WWW-Authenticate challenge")
	// ErrDiscovery: protected resource or authorization server metadata could
	// not be fetched or parsed.
	ErrDiscovery = errors.New("client: discovery failed")
	// ErrResourceMismatch: the protected resource metadata names a resource
	// other than the server URL (RFC 9728 §3.3).
	ErrResourceMismatch = errors.New("client: protected resource metadata resource mismatch")
	// ErrIssuerMismatch: authorization server metadata carries an issuer
	// other than the one used to build its URL (RFC 8414 §3.3).
	ErrIssuerMismatch = errors.New("client: authorization server issuer mismatch")
	// ErrIssuerBinding: the credentials are bound to another authorization
	// server; they were not sent.
	ErrIssuerBinding = errors.New("client: credentials are bound to another issuer")
	// ErrInsecureURL: a URL is not https (plain http is accepted for loopback
	// hosts only, unless explicitly allowed).
	ErrInsecureURL = errors.New("client: insecure URL")
	// ErrTokenResponse: a token endpoint answered with something that is not
	// a valid token response (wrong status without an OAuth error body,
	// malformed JSON, wrong token_type or issued_token_type, ...).
	ErrTokenResponse = errors.New("client: invalid token response")
	// ErrUnsupported: the authorization server does not advertise what the
	// configured grant or client authentication needs.
	ErrUnsupported = errors.New("client: not supported by the authorization server")
	// ErrNotAuthorized: no token can be obtained yet because the server has
	// not been discovered (no challenge seen and no Authorize call made).
	ErrNotAuthorized = errors.New("client: not authorized yet")
	// ErrInsufficientScope: a 403 insufficient_scope challenge cannot be
	// satisfied (no new scope was challenged, or the step-up budget is spent).
	ErrInsufficientScope = errors.New("client: insufficient scope")
	// ErrForbidden: a 403 response that is not an insufficient_scope
	// challenge (a policy denial); more scope cannot fix it.
	ErrForbidden = errors.New("client: forbidden")
	// ErrSign: a client assertion could not be signed.
	ErrSign = errors.New("client: cannot sign client assertion")
	// ErrIDToken: no ID token could be obtained from the IDTokenSource.
	ErrIDToken = errors.New("client: cannot obtain ID token")
	// ErrBodyTooLarge: a request body is too large to buffer for replay.
	ErrBodyTooLarge = errors.New("client: request body too large to replay")
)

// OAuthError is an RFC 6749 §5.2 error response from a token endpoint (the
// authorization server's, or the IdP's for token exchange). A policy denial
// at the IdP (for example invalid_grant or access_denied on the token
// exchange) surfaces as an *OAuthError; this package never falls back to an
// interactive flow after one.
type OAuthError struct {
	Code        string // the "error" member, e.g. "invalid_grant"
	Description string // the "error_description" member (may be empty)
	URI         string // the "error_uri" member (may be empty)
	Status      int    // HTTP status code of the response
	Endpoint    string // which leg failed: "token", "token_exchange" or "jwt_bearer"
}

func (e *OAuthError) Error() string {
	s := fmt.Sprintf("client: %s endpoint error %s (HTTP %d)", e.Endpoint, clip.Quote(e.Code, core.MaxLogField), e.Status)
	if d := e.Description; d != "" {
		for i := 0; i < len(d); i++ {
			if d[i] < 0x20 || d[i] > 0x7e { // outside RFC 6749 §5.2's set: a line break would forge a log line
				d = clip.Quote(d, core.MaxLogField)
				break
			}
		}
		s += ": " + d
	}
	return s
}
