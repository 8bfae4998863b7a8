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
}

// ID is a stable, unambiguous identifier for the principal, used for session
// binding and audit: "user:<iss>|<tenant>|<sub>" or "client:<iss>|<client_id>".
func (p *Principal) ID() string {
	if p == nil {
		return ""
	}
	if p.Kind == PrincipalClient {
		return "client:" + p.Issuer + "|" + p.ClientID
	}
	return "user:" + p.Issuer + "|" + p.Tenant + "|" + p.Subject
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
