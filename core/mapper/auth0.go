package mapper

import (
	"strings"
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
// Classification: a token whose "gty" is "client-credentials" is a client
// (its "sub" is "<client id>@clients"); a token without "sub" or with
// "sub" equal to the client id is also a client (generic rule); every other
// token is a user.
func Auth0(cfg Auth0Config) (*Mapper, error) {
	c := Config{
		SubjectClaim:    "sub",
		ClientIDClaims:  []string{"client_id", "azp"},
		ScopeClaims:     []string{"scope", "permissions"},
		GroupClaims:     []string{},
		RoleClaims:      []string{},
		TenantClaims:    []string{},
		AttributeClaims: map[string]string{"acr": "acr", "amr": "amr"},
		ClientClaims:    map[string]string{"gty": "client-credentials"},
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
