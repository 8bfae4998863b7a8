package verifier

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// TestEquivalentIssuers: an issuer reachable under two names accepts
// tokens carrying either, exactly, with its own keys, and reports one
// issuer (Claims.Issuer, TrustedIssuers); a near miss, another issuer's
// key, or a configuration that would make the list a wildcard or a second
// issuer is refused.
func TestEquivalentIssuers(t *testing.T) {
	clk := newClock()
	other := key(t, jose.ES256, "other")
	v := staticVerifier(t, clk, func(c *Config) {
		c.Issuers[0].EquivalentIssuers = []string{"https://login.acme.example", "https://as.example/"}
		c.Issuers = append(c.Issuers, IssuerConfig{Issuer: "https://other.example", JWKS: jwksOf(t, other, "o", jose.ES256)})
	})
	k := key(t, jose.ES256, "a")
	ctx := context.Background()
	for _, tc := range []struct {
		name, iss string
		signer    string // "a": the issuer's key, "other": another issuer's
		want      string // Claims.Issuer; "" = refused
	}{
		{"canonical", "https://as.example", "a", "https://as.example"},
		{"equivalent", "https://login.acme.example", "a", "https://as.example"},
		{"equivalent, trailing slash listed", "https://as.example/", "a", "https://as.example"},
		{"near miss: case", "https://LOGIN.acme.example", "a", ""},
		{"near miss: path", "https://login.acme.example/", "a", ""},
		{"near miss: subdomain", "https://x.login.acme.example", "a", ""},
		{"equivalent, another issuer's key", "https://login.acme.example", "other", ""},
		{"the other issuer", "https://other.example", "other", "https://other.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			signer, kid := k, "es"
			if tc.signer == "other" {
				signer, kid = other, "o"
			}
			c := claims(tc.iss)
			c["jti"] = tc.name // distinct tokens: no cache hit across cases
			got, err := v.Verify(ctx, sign(t, signer, jose.ES256, kid, c))
			if tc.want == "" {
				if err == nil {
					t.Fatalf("accepted as %q", got.Issuer)
				}
				if !errors.Is(err, core.ErrIssuer) && !errors.Is(err, core.ErrSignature) && !errors.Is(err, core.ErrUnknownKey) {
					t.Fatalf("refused with %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Issuer != tc.want {
				t.Fatalf("Claims.Issuer %q, want %q", got.Issuer, tc.want)
			}
			if s, _ := got.Raw.GetString("iss"); s != tc.iss {
				t.Fatalf("raw iss %q, want the token's %q", s, tc.iss)
			}
		})
	}
	if got := v.TrustedIssuers(); !slices.Equal(got, []string{"https://as.example", "https://other.example"}) {
		t.Fatalf("TrustedIssuers %v", got)
	}

	jwks := jwksOf(t, k, "es", jose.ES256)
	for _, tc := range []struct {
		name    string
		issuers []IssuerConfig
		want    string
	}{
		{"wildcard", []IssuerConfig{{Issuer: "https://as.example", JWKS: jwks, EquivalentIssuers: []string{"https://*.acme.example"}}}, "must be an exact iss value"},
		{"empty", []IssuerConfig{{Issuer: "https://as.example", JWKS: jwks, EquivalentIssuers: []string{""}}}, "must be an exact iss value"},
		{"template value", []IssuerConfig{{Issuer: "https://as.example", JWKS: jwks, EquivalentIssuers: []string{"https://x/{tenantid}"}}}, "must be an exact iss value"},
		{"on a template", []IssuerConfig{{Issuer: "https://login.example/{tenantid}/v2.0", JWKS: jwks, EquivalentIssuers: []string{"https://a"}}}, "needs an exact issuer"},
		{"another issuer's", []IssuerConfig{{Issuer: "https://as.example", JWKS: jwks}, {Issuer: "https://b.example", JWKS: jwks, EquivalentIssuers: []string{"https://as.example"}}}, `"https://as.example" configured twice`},
		{"then an issuer", []IssuerConfig{{Issuer: "https://as.example", JWKS: jwks, EquivalentIssuers: []string{"https://b.example"}}, {Issuer: "https://b.example", JWKS: jwks}}, `"https://b.example" configured twice`},
		{"itself", []IssuerConfig{{Issuer: "https://as.example", JWKS: jwks, EquivalentIssuers: []string{"https://as.example"}}}, "configured twice"},
		{"twice", []IssuerConfig{{Issuer: "https://as.example", JWKS: jwks, EquivalentIssuers: []string{"https://a", "https://a"}}}, "configured twice"},
	} {
		t.Run("config/"+tc.name, func(t *testing.T) {
			_, err := New(ctx, Config{Issuers: tc.issuers, Audience: []string{testAud}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
