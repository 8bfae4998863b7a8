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
//   - Tenant: "tid", else "tenant" (string claims), prefixed by "idp_iss" when
//     present (ProviderTenant: the enterprise IdP behind a token of the
//     embedded authorization server, so one "sub" or "tenant" from two IdPs
//     stays two principals).
//   - Kind: PrincipalClient when the subject equals the client id (RFC 9068
//     §2.2: client_credentials tokens use the client id as sub) or the
//     subject is empty and a client id is present; PrincipalUser otherwise.
//
// It fails with ErrMapping when the claims carry neither a subject nor a
// client id, or no issuer.
func DefaultMapper() ClaimMapper { return ClaimMapperFunc(defaultMap) }

func defaultMap(_ context.Context, c *Claims) (*Principal, error) {
	if err := checkDefaultClaims(c); err != nil {
		return nil, err
	}
	// The principal and a small scope list share one allocation.
	st := &struct {
		p      Principal
		scopes [inlineScopes]string
	}{}
	defaultMapInto(c, &st.p, st.scopes[:])
	return &st.p, nil
}

// inlineScopes is how many scopes the Guard's hot path copies without a
// separate allocation.
const inlineScopes = 4

// checkDefaultClaims reports the ErrMapping failures of DefaultMapper.
func checkDefaultClaims(c *Claims) error {
	if c == nil {
		return fmt.Errorf("%w: no claims", ErrMapping)
	}
	if c.Issuer == "" {
		return fmt.Errorf("%w: no issuer", ErrMapping)
	}
	if c.Subject == "" && c.ClientID == "" {
		return fmt.Errorf("%w: neither sub nor client_id", ErrMapping)
	}
	return nil
}

// defaultMapInto fills p from claims that passed checkDefaultClaims.
// p.Scopes is a copy of c.Scopes (nil when empty), stored in buf when it
// fits; its capacity is its length, so an append never writes into buf.
func defaultMapInto(c *Claims, p *Principal, buf []string) {
	*p = Principal{
		Kind:     PrincipalUser,
		Issuer:   c.Issuer,
		Subject:  c.Subject,
		ClientID: c.ClientID,
		Groups:   c.Strings("groups", false),
		Roles:    c.Strings("roles", false),
		Claims:   c,
	}
	switch n := len(c.Scopes); {
	case n == 0:
	case n <= len(buf):
		p.Scopes = buf[:n:n]
		copy(p.Scopes, c.Scopes)
	default:
		p.Scopes = append([]string(nil), c.Scopes...)
	}
	if t, ok := c.String("tid"); ok {
		p.Tenant = t
	} else if t, ok := c.String("tenant"); ok {
		p.Tenant = t
	}
	if idp, ok := c.String("idp_iss"); ok {
		p.Tenant = ProviderTenant(idp, p.Tenant)
	}
	if c.ClientID != "" && (c.Subject == "" || c.Subject == c.ClientID) {
		p.Kind = PrincipalClient
	}
}
