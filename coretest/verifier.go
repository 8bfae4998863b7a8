package coretest

import (
	"context"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/verifier"
)

// Verifier returns the library's JWT verifier (core/verifier) configured
// for this IdP and resource: the IdP's issuer, its JWKS URL fetched over
// the loopback server, audience resource, and the IdP's clock. It fails the
// test on a configuration error.
func (i *IdP) Verifier(t testing.TB, resource string) core.TokenVerifier {
	t.Helper()
	v, err := verifier.New(context.Background(), i.VerifierConfig(resource))
	if err != nil {
		t.Fatalf("coretest: verifier.New: %v", err)
	}
	return v
}

// VerifierConfig is the verifier configuration Verifier uses, for tests
// that adjust it (cache, leeway).
func (i *IdP) VerifierConfig(resource string) verifier.Config {
	return verifier.Config{
		Issuers:    []verifier.IssuerConfig{{Issuer: i.Issuer(), JWKSURL: i.JWKSURL()}},
		Audience:   []string{resource},
		HTTPClient: i.HTTPClient(),
		Now:        i.now,
	}
}
