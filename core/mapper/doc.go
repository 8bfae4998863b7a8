// Package mapper turns verified token claims ([core.Claims]) into a typed
// [core.Principal], with presets for common identity providers.
//
// [Standard] builds a [Mapper] from a [Config] of claim paths. A path is
// resolved with [core.Claims.Lookup]: first as one top-level claim name (so
// namespaced claims such as "https://example.com/roles" work), then as a
// dot-separated path into nested objects ("realm_access.roles"). A segment
// that itself contains dots is double-quoted: the Auth0/Okta layout
// `"https://corp.example/claims".teams` reads "teams" inside the namespaced
// claim, and `resource_access."my.client".roles` a dotted Keycloak client id.
// A malformed quoted path is an error of [Standard].
//
// The presets [Okta], [Entra], [Keycloak], [Auth0] and [Google] configure the
// claim paths and the user/client classification of each provider and add
// provider checks (Entra tenant and issuer binding, Google hosted domain and
// verified e-mail). Every preset is a *Mapper, so it satisfies
// [core.ClaimMapper].
//
// # Users and clients
//
// A principal is either a user ([core.PrincipalUser]) or a machine client
// ([core.PrincipalClient]); the two live in different namespaces
// ([core.Principal.ID]), so a client named "alice" never collides with the
// user "alice". The default rule, used by [Standard] unless [Config.IsClient]
// replaces it, classifies a token as a client when, in this order:
//
//  1. any entry of [Config.ClientClaims] matches (the claim is a JSON string
//     equal to the configured value, e.g. Entra "idtyp" = "app");
//  2. the token has no subject (the subject claim is absent or "");
//  3. the subject equals the client id (RFC 9068 client_credentials tokens
//     put the client id in "sub"), unless
//     [Config.IgnoreSubjectEqualsClientID] is set.
//
// Otherwise it is a user. A client principal needs a client id and a user
// principal needs a subject; a token that has neither is rejected.
//
// # Security
//
// A mapper only ever sees claims that a [core.TokenVerifier] has already
// verified; it never parses or trusts anything else. It never panics on odd
// claim types: a subject, client id or tenant claim that is present but not a
// JSON string is an error (wrapping [core.ErrMapping]), because those claims
// form the principal's identity. In list claims (scopes, groups, roles) the
// non-string elements and empty strings are dropped, duplicates are removed
// and the first-seen order is kept, so the same claims always give the same
// principal. Misclassifying a user as a client would hand the user the
// client's privileges, so the provider presets use the provider's explicit
// markers rather than the generic "no subject" rule wherever the provider
// documents one.
package mapper
