package core

import (
	"context"
	"fmt"
)

// DefaultMapper is the ClaimMapper the Guard uses when Config.Mapper is nil.
// It is deliberately minimal; core/mapper (mapper.Standard) is the
// configurable one with IdP presets.
//
//   - Scopes: Claims.Scopes (already parsed from "scope"/"scp" by the verifier).
//   - Groups: the "groups" claim; Roles: the "roles" claim (strings only).
//   - ClientID: Claims.ClientID.
//   - Tenant: "tid", else "tenant" (string claims).
//   - Kind: PrincipalClient when the subject equals the client id (RFC 9068
//     §2.2: client_credentials tokens use the client id as sub) or the
//     subject is empty and a client id is present; PrincipalUser otherwise.
//
// It fails with ErrMapping when the claims carry neither a subject nor a
// client id, or no issuer.
func DefaultMapper() ClaimMapper { return ClaimMapperFunc(defaultMap) }

func defaultMap(_ context.Context, c *Claims) (*Principal, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: no claims", ErrMapping)
	}
	if c.Issuer == "" {
		return nil, fmt.Errorf("%w: no issuer", ErrMapping)
	}
	if c.Subject == "" && c.ClientID == "" {
		return nil, fmt.Errorf("%w: neither sub nor client_id", ErrMapping)
	}
	p := &Principal{
		Kind:     PrincipalUser,
		Issuer:   c.Issuer,
		Subject:  c.Subject,
		ClientID: c.ClientID,
		Scopes:   append([]string(nil), c.Scopes...),
		Groups:   c.Strings("groups", false),
		Roles:    c.Strings("roles", false),
		Claims:   c,
	}
	if t, ok := c.String("tid"); ok {
		p.Tenant = t
	} else if t, ok := c.String("tenant"); ok {
		p.Tenant = t
	}
	if c.ClientID != "" && (c.Subject == "" || c.Subject == c.ClientID) {
		p.Kind = PrincipalClient
	}
	return p, nil
}
