package mapper

import (
	"github.com/mcpauthz/mcpauthz/core"
)

// Okta returns a Mapper for access tokens of an Okta custom authorization
// server:
//
//   - Subject: "uid" (Okta's stable user id; "sub" is the user's login and
//     is copied to the "login" attribute);
//   - ClientID: "cid";
//   - Scopes: "scp" (a list) and "scope";
//   - Groups: "groups" (needs a groups claim configured in Okta);
//   - Roles: "roles"; no tenant;
//   - attributes "login" (sub), "email", "acr", "amr".
//
// Classification: a token with "uid" is a user; a token without "uid" whose
// "sub" equals "cid" is a client (Okta's client_credentials tokens); anything
// else is rejected with core.ErrMapping (the check "okta.token_shape", see
// [Check]).
func Okta() (*Mapper, error) {
	return Standard(Config{
		SubjectClaim:   "uid",
		ClientIDClaims: []string{"cid"},
		ScopeClaims:    []string{"scp", "scope"},
		GroupClaims:    []string{"groups"},
		RoleClaims:     []string{"roles"},
		TenantClaims:   []string{},
		AttributeClaims: map[string]string{
			"login": "sub", "email": "email", "acr": "acr", "amr": "amr",
		},
		IsClient: func(c *core.Claims, uid, cid string) (bool, error) {
			if uid != "" {
				return false, nil
			}
			sub, err := optString(c, "sub")
			return sub != "" && sub == cid, err
		},
		Checks: oktaChecks(),
	})
}
