package mapper

import (
	"errors"
	"strings"

	"github.com/mcpauthz/mcpauthz/core"
)

// KeycloakConfig configures [Keycloak].
type KeycloakConfig struct {
	// ClientRoles lists client ids whose client roles
	// (resource_access.<client>.roles) are added to Principal.Roles as
	// "<client>:<role>", so that they never collide with realm roles of the
	// same name. OPTIONAL, default none (realm roles only).
	ClientRoles []string
}

// Keycloak returns a Mapper for Keycloak access tokens:
//
//   - Subject: "sub"; ClientID: "client_id", then "clientId" (older
//     servers), then "azp";
//   - Scopes: "scope" (space-delimited);
//   - Groups: "groups" (needs the Group Membership mapper);
//   - Roles: "realm_access.roles" plus the configured client roles; no
//     tenant (the realm is part of "iss");
//   - attributes "preferred_username", "email", "acr", "amr".
//
// Classification: a client is a service-account token: it carries
// "client_id" (or "clientId"), its "azp" is that same client id, and its
// "preferred_username" equals "service-account-<client id>"
// (case-insensitively). Every other token is a user. Requiring all three
// means a user token never becomes the client principal even if the server
// adds "client_id" to every token (RFC 9068): Keycloak creates the user
// "service-account-<client id>" (lower-cased) when a client's service
// account is enabled, and usernames are unique in a realm, so no one can
// register or be renamed to it while the service account exists. A user
// who takes that name for a client WITHOUT a service account (a realm with
// self-registration, an identity-provider login or a federation choosing
// the username) is a client principal only for tokens issued to that very
// client (azp), and only if the realm also adds "client_id" to user
// tokens; grant nothing to a client principal whose client has no service
// account.
func Keycloak(cfg KeycloakConfig) (*Mapper, error) {
	clients := append([]string(nil), cfg.ClientRoles...)
	for _, cl := range clients {
		if cl == "" {
			return nil, errors.New("mapper: keycloak: empty client id in ClientRoles")
		}
	}
	return Standard(Config{
		SubjectClaim:   "sub",
		ClientIDClaims: []string{"client_id", "clientId", "azp"},
		ScopeClaims:    []string{"scope"},
		GroupClaims:    []string{"groups"},
		RoleClaims:     []string{"realm_access.roles"},
		TenantClaims:   []string{},
		AttributeClaims: map[string]string{
			"preferred_username": "preferred_username", "email": "email", "acr": "acr", "amr": "amr",
		},
		IsClient: func(c *core.Claims, _, _ string) (bool, error) {
			id, err := firstString(c, []string{"client_id", "clientId"})
			if err != nil || id == "" {
				return false, err
			}
			azp, err := optString(c, "azp")
			if err != nil || azp != id {
				return false, err
			}
			user, err := optString(c, "preferred_username")
			if err != nil {
				return false, err
			}
			return strings.EqualFold(user, "service-account-"+id), nil
		},
		Refine: func(c *core.Claims, p *core.Principal) error {
			if len(clients) == 0 {
				return nil
			}
			// Client ids may contain dots, so walk the maps directly instead
			// of using a dot path.
			v, _ := c.Raw.Get("resource_access")
			ra, _ := v.(map[string]any)
			seen := map[string]struct{}{}
			for _, r := range p.Roles {
				seen[r] = struct{}{}
			}
			for _, cl := range clients {
				entry, _ := ra[cl].(map[string]any)
				roles, _ := entry["roles"].([]any)
				for _, r := range roles {
					s, ok := r.(string)
					if !ok || s == "" {
						continue
					}
					name := cl + ":" + s
					if _, dup := seen[name]; !dup {
						seen[name] = struct{}{}
						p.Roles = append(p.Roles, name)
					}
				}
			}
			return nil
		},
	})
}
