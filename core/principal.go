package core

import "strings"

// PrincipalKind separates human users from machine clients. They live in
// different namespaces so that a client named "alice" never collides with the
// user "alice" (RFC 9700 §4.15).
type PrincipalKind string

const (
	// PrincipalUser is a person: a token with a user subject (authorization
	// code, ID-JAG grants, most IdP access tokens).
	PrincipalUser PrincipalKind = "user"
	// PrincipalClient is a machine: a client_credentials token, where the
	// subject is the client itself.
	PrincipalClient PrincipalKind = "client"
)

// Principal is the authenticated caller, as a policy sees it.
type Principal struct {
	Kind     PrincipalKind
	Issuer   string // token issuer ("iss")
	Subject  string // "sub"; for clients usually equal to ClientID
	Tenant   string // "tid"/"tenant" where present, else ""
	ClientID string // the OAuth client that obtained the token

	Scopes []string // granted scopes
	Groups []string // IdP groups
	Roles  []string // IdP or application roles

	// Attributes carries mapped claims for ABAC policies: "department",
	// "acr", "amr", "email", "hd", ... Values are strings, []string, bool or
	// json.Number.
	Attributes map[string]any

	// Claims are the verified claims the principal was built from.
	Claims *Claims

	// memo is set on the principals the Guard keeps with a verified
	// token's cache entry (memo.go); nil otherwise.
	memo *principalMemo
}

// ID is a stable, unambiguous identifier for the principal, used for session
// binding and audit: "user:<iss>|<tenant>|<sub>" or "client:<iss>|<client_id>",
// where "\" and "|" inside each component are escaped with a backslash, so
// distinct (iss, tenant, sub) triples never yield the same ID.
func (p *Principal) ID() string {
	if p == nil {
		return ""
	}
	if m := p.memo; m != nil && m.p == p && m.id != "" {
		return m.id // the token memo's principal: read-only, its ID computed once
	}
	if p.Kind == PrincipalClient {
		return "client:" + escapeID(p.Issuer) + "|" + escapeID(p.ClientID)
	}
	return "user:" + escapeID(p.Issuer) + "|" + escapeID(p.Tenant) + "|" + escapeID(p.Subject)
}

// escapeID escapes the separator and the escape character of Principal.ID.
func escapeID(s string) string {
	if !strings.ContainsAny(s, `\|`) {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, `|`, `\|`).Replace(s)
}

// ProviderTenant combines the upstream identity provider of a token minted
// from an assertion (the embedded authorization server's "idp_iss") with the
// token's tenant into Principal.Tenant: tenant alone when provider is empty,
// else "<provider>" or "<provider>|<tenant>". Mappers use it so that the
// same subject, or the same self-declared tenant, asserted by two different
// IdPs never becomes one principal.
func ProviderTenant(provider, tenant string) string {
	switch {
	case provider == "":
		return tenant
	case tenant == "":
		return provider
	}
	return provider + "|" + tenant
}

// HasScope reports whether the principal was granted scope s.
func (p *Principal) HasScope(s string) bool {
	for _, have := range p.Scopes {
		if have == s {
			return true
		}
	}
	return false
}

// SubjectName is the short policy subject: "user:<sub>" or "client:<client_id>".
func (p *Principal) SubjectName() string {
	if p.Kind == PrincipalClient {
		return "client:" + p.ClientID
	}
	return "user:" + p.Subject
}

// String never includes token material; it is safe to log.
func (p *Principal) String() string {
	var b strings.Builder
	b.WriteString(string(p.Kind))
	b.WriteString(" iss=")
	b.WriteString(p.Issuer)
	b.WriteString(" sub=")
	b.WriteString(p.Subject)
	if p.ClientID != "" {
		b.WriteString(" client_id=")
		b.WriteString(p.ClientID)
	}
	return b.String()
}
