package mapper

import (
	"errors"

	"github.com/mcpauthz/mcpauthz/core"
)

// GoogleConfig configures [Google].
type GoogleConfig struct {
	// HostedDomains, when set, restricts user tokens to Google Workspace
	// accounts whose "hd" claim is one of these domains (compared
	// case-insensitively); consumer accounts (no "hd") are then rejected.
	// OPTIONAL, default: any account.
	HostedDomains []string
	// AllowServiceAccounts accepts client tokens (service accounts, whose
	// "sub" equals "azp"). OPTIONAL, default false: any Google service
	// account of any project can mint an ID token for any audience, so
	// client tokens are rejected unless you opt in and authorize them by
	// client id in policy.
	AllowServiceAccounts bool
}

// Google returns a Mapper for Google-issued tokens (OIDC ID tokens or
// verified tokeninfo/introspection claims):
//
//   - Subject: "sub"; ClientID: "azp"; Scopes: "scope"; no groups, roles or
//     tenant;
//   - attributes "email", "email_verified", "hd";
//   - user tokens need a non-empty "email" and "email_verified" equal to
//     true (JSON true, or the string "true" that tokeninfo returns), and,
//     when HostedDomains is set, an allowed "hd".
//
// Classification: a token without "sub", whose "sub" equals "azp", or
// whose "email" (or "azp") is a service account's address (domain
// gserviceaccount.com or a subdomain, e.g. "*.iam.gserviceaccount.com") is a
// client; every other token is a user. Service-account ID tokens from
// Google's token endpoint carry the account's email as "azp", so the
// address, not "sub" == "azp", is what marks them.
func Google(cfg GoogleConfig) (*Mapper, error) {
	domains := make([]string, 0, len(cfg.HostedDomains))
	for _, d := range cfg.HostedDomains {
		if d == "" {
			return nil, errors.New("mapper: google: empty hosted domain")
		}
		domains = append(domains, d)
	}
	return Standard(Config{
		SubjectClaim:    "sub",
		ClientIDClaims:  []string{"azp"},
		ScopeClaims:     []string{"scope"},
		GroupClaims:     []string{},
		RoleClaims:      []string{},
		TenantClaims:    []string{},
		AttributeClaims: map[string]string{"email": "email", "email_verified": "email_verified", "hd": "hd"},
		IsClient: func(c *core.Claims, _, _ string) (bool, error) {
			return googleIsClient(c)
		},
		Checks: googleChecks(domains, cfg.AllowServiceAccounts),
	})
}
