package mapper

import (
	"strings"

	"github.com/mcpauthz/mcpauthz/core"
)

// Auth0Config configures [Auth0].
type Auth0Config struct {
	// Namespace prefixes the custom claims set by an Auth0 Action, e.g.
	// "https://example.com/" makes the mapper read
	// "https://example.com/roles", ".../groups", ".../email". A missing
	// trailing "/" is added. OPTIONAL: when empty, roles, groups and e-mail
	// are not mapped.
	Namespace string
}

// Auth0 returns a Mapper for Auth0 access tokens:
//
//   - Subject: "sub" (e.g. "auth0|123"); ClientID: "client_id", then "azp";
//   - Scopes: "scope" (space-delimited) and "permissions" (the RBAC list
//     added by "Add Permissions in the Access Token");
//   - Roles: "<ns>roles"; Groups: "<ns>groups"; no tenant;
//   - attributes "email" ("<ns>email"), "acr", "amr".
//
// Classification: a token whose "gty" is "client-credentials" or whose
// "sub" is "<client id>@clients" is a client (the RFC 9068 profile's
// client-credentials tokens are recognised by "sub" alone); a token without
// "sub" or with "sub" equal to the client id is also a client (generic
// rule); every other token is a user. A user's "sub" is
// "<connection>|<id>" and cannot end in "@clients" for a client id.
func Auth0(cfg Auth0Config) (*Mapper, error) {
	c := Config{
		SubjectClaim:    "sub",
		ClientIDClaims:  []string{"client_id", "azp"},
		ScopeClaims:     []string{"scope", "permissions"},
		GroupClaims:     []string{},
		RoleClaims:      []string{},
		TenantClaims:    []string{},
		AttributeClaims: map[string]string{"acr": "acr", "amr": "amr"},
		IsClient: func(c *core.Claims, sub, cid string) (bool, error) {
			if g, ok := c.String("gty"); ok && g == "client-credentials" {
				return true, nil
			}
			return sub == "" || cid != "" && (sub == cid || sub == cid+"@clients"), nil
		},
	}
	if ns := cfg.Namespace; ns != "" {
		if !strings.HasSuffix(ns, "/") {
			ns += "/"
		}
		c.RoleClaims = []string{ns + "roles"}
		c.GroupClaims = []string{ns + "groups"}
		c.AttributeClaims["email"] = ns + "email"
	}
	return Standard(c)
}
