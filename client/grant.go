package client

import (
	"context"
	"fmt"
	"sync"
)

// Grant obtains access tokens from the authorization server found by
// discovery. Implementations in this package: [*ClientCredentials] and
// [*EnterpriseManaged]. Implementations must be safe for concurrent use.
type Grant interface {
	// FetchToken requests a new access token. It must send req.Resource as
	// the "resource" parameter and must not send credentials to an issuer
	// other than the one they are bound to.
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
		return fmt.Errorf("%w: credentials belong to %q, refusing to send them to %q", ErrIssuerBinding, b.issuer, issuer)
	}
	return nil
}
