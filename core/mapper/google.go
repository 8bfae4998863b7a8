package mapper

import (
	"errors"
	"fmt"
	"strings"

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
// Classification: generic rule (a token whose "sub" equals "azp", as for
// service accounts, or without "sub" is a client).
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
		Refine: func(c *core.Claims, p *core.Principal) error {
			if p.Kind == core.PrincipalClient {
				if !cfg.AllowServiceAccounts {
					return mappingErr("google: client (service account) tokens are not allowed")
				}
				return nil
			}
			email, err := optString(c, "email")
			if err != nil {
				return err
			}
			if email == "" {
				return mappingErr("google: user token has no email")
			}
			v, _ := c.Lookup("email_verified")
			if v != true && v != "true" {
				return mappingErr("google: email not verified")
			}
			if len(domains) == 0 {
				return nil
			}
			hd, err := optString(c, "hd")
			if err != nil {
				return err
			}
			for _, d := range domains {
				if hd != "" && strings.EqualFold(hd, d) {
					return nil
				}
			}
			return fmt.Errorf("%w: google: hosted domain %q not allowed", core.ErrMapping, hd)
		},
	})
}
