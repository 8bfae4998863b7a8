package verifier

import "testing"

// TestPresetDomainSpelling: Okta and Auth0 put the lower-case host without
// a port in "iss". A domain typed with capitals or the default port (from
// an environment variable at 3 a.m.) used to give an issuer no token ever
// carries, so every token was refused; the preset now writes the issuer
// the IdP writes.
func TestPresetDomainSpelling(t *testing.T) {
	aud := []string{testAud}
	for _, tc := range []struct {
		domain, okta, auth0 string
	}{
		{"acme.okta.com", "https://acme.okta.com/oauth2/default", "https://acme.okta.com/"},
		{"ACME.Okta.com", "https://acme.okta.com/oauth2/default", "https://acme.okta.com/"},
		{"https://acme.okta.com:443/", "https://acme.okta.com/oauth2/default", "https://acme.okta.com/"},
		{"acme.okta.com:8443", "https://acme.okta.com:8443/oauth2/default", "https://acme.okta.com:8443/"},
		{"http://127.0.0.1:9000", "http://127.0.0.1:9000/oauth2/default", "http://127.0.0.1:9000/"},
	} {
		o, err := Okta(OktaConfig{Domain: tc.domain, Audience: aud})
		if err != nil {
			t.Fatalf("okta %q: %v", tc.domain, err)
		}
		if got := o.Issuers[0].Issuer; got != tc.okta {
			t.Errorf("okta %q: issuer %q, want %q", tc.domain, got, tc.okta)
		}
		a, err := Auth0(Auth0Config{Domain: tc.domain, Audience: aud})
		if err != nil {
			t.Fatalf("auth0 %q: %v", tc.domain, err)
		}
		if got := a.Issuers[0].Issuer; got != tc.auth0 {
			t.Errorf("auth0 %q: issuer %q, want %q", tc.domain, got, tc.auth0)
		}
	}
}
