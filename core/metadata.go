package core

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"

	"github.com/mcpauthz/mcpauthz/internal/httpx"
)

// WellKnownPath is the RFC 9728 §3 well-known URI suffix.
const WellKnownPath = "/.well-known/oauth-protected-resource"

// ProtectedResourceMetadata is the RFC 9728 §2 document of the MCP endpoint.
// [New] copies it, fills Resource and BearerMethodsSupported, validates it
// and serialises it once; the served bytes never depend on the request.
type ProtectedResourceMetadata struct {
	// Resource is the protected resource identifier. OPTIONAL here: New sets
	// it to Config.Resource and refuses a different value.
	Resource string `json:"resource"`
	// AuthorizationServers lists issuer identifiers. REQUIRED: at least one
	// (MCP requires it).
	AuthorizationServers []string `json:"authorization_servers"`
	// JWKSURI is the resource's own key set (for signed responses). OPTIONAL.
	JWKSURI string `json:"jwks_uri,omitempty"`
	// ScopesSupported is the minimal set of scopes for basic functionality
	// (MCP scope selection). RECOMMENDED. Must not contain offline_access.
	ScopesSupported []string `json:"scopes_supported,omitempty"`
	// BearerMethodsSupported defaults to ["header"], the only method the
	// Guard accepts.
	BearerMethodsSupported []string `json:"bearer_methods_supported,omitempty"`
	// ResourceSigningAlgValuesSupported: OPTIONAL.
	ResourceSigningAlgValuesSupported []string `json:"resource_signing_alg_values_supported,omitempty"`
	// ResourceName is a human-readable name. RECOMMENDED.
	ResourceName string `json:"resource_name,omitempty"`
	// ResourceDocumentation, ResourcePolicyURI, ResourceTOSURI: OPTIONAL URLs.
	ResourceDocumentation string `json:"resource_documentation,omitempty"`
	ResourcePolicyURI     string `json:"resource_policy_uri,omitempty"`
	ResourceTOSURI        string `json:"resource_tos_uri,omitempty"`
	// TLSClientCertificateBoundAccessTokens: OPTIONAL (RFC 8705).
	TLSClientCertificateBoundAccessTokens bool `json:"tls_client_certificate_bound_access_tokens,omitempty"`
	// AuthorizationDetailsTypesSupported: OPTIONAL (RFC 9396).
	AuthorizationDetailsTypesSupported []string `json:"authorization_details_types_supported,omitempty"`
	// DPoPSigningAlgValuesSupported, DPoPBoundAccessTokensRequired: OPTIONAL
	// (RFC 9449). The Guard accepts Bearer only.
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported,omitempty"`
	DPoPBoundAccessTokensRequired bool     `json:"dpop_bound_access_tokens_required,omitempty"`

	// MCPExtensions declares MCP authorization extensions, keyed by
	// extension identifier (mcpext.EnterpriseManagedAuthorization, ...)
	// with a settings object ({} = no settings). It is serialised as the
	// top-level member "mcp_extensions", which is NOT STANDARD: no MCP or
	// OAuth specification defines where a protected resource declares
	// extensions (spec-checklist OQ-1). Clients ignore unknown members (RFC
	// 9728 §2); the normative discovery of the extensions is the
	// authorization server metadata. OPTIONAL; nil omits the member.
	MCPExtensions map[string]any `json:"-"`

	// Extensions are further top-level members, merged into the document by
	// MarshalJSON. Names must not collide with the members above. OPTIONAL.
	Extensions map[string]any `json:"-"`

	// ServeRoot also serves the document at the root well-known URI
	// (/.well-known/oauth-protected-resource) when Resource has a path.
	// MCP clients try the path-suffixed URI first, then the root one. Beware
	// (spec-checklist OQ-9): the document's resource is the endpoint URL, not
	// the origin, and a strict RFC 9728 §3.3 client that fetched the root
	// document will find resource != the URL it derived it from and MUST
	// discard it. OPTIONAL; default false.
	ServeRoot bool `json:"-"`
}

// standardMembers are the JSON names of the typed fields, to reject
// colliding Extensions.
var standardMembers = map[string]bool{
	"resource": true, "authorization_servers": true, "jwks_uri": true, "scopes_supported": true,
	"bearer_methods_supported": true, "resource_signing_alg_values_supported": true,
	"resource_name": true, "resource_documentation": true, "resource_policy_uri": true,
	"resource_tos_uri": true, "tls_client_certificate_bound_access_tokens": true,
	"authorization_details_types_supported": true, "dpop_signing_alg_values_supported": true,
	"dpop_bound_access_tokens_required": true, "mcp_extensions": true,
}

// MarshalJSON writes the standard members in RFC 9728 order, then
// "mcp_extensions", then Extensions sorted by name. It fails if an
// Extensions name collides with a typed member.
func (m ProtectedResourceMetadata) MarshalJSON() ([]byte, error) {
	type plain ProtectedResourceMetadata
	base, err := json.Marshal(plain(m))
	if err != nil {
		return nil, err
	}
	if len(m.MCPExtensions) == 0 && len(m.Extensions) == 0 {
		return base, nil
	}
	var buf bytes.Buffer
	buf.Write(base[:len(base)-1])
	add := func(k string, v any) error {
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("core: metadata member %q: %w", k, err)
		}
		buf.WriteByte(',')
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(vb)
		return nil
	}
	if len(m.MCPExtensions) > 0 {
		if err := add("mcp_extensions", m.MCPExtensions); err != nil {
			return nil, err
		}
	}
	keys := make([]string, 0, len(m.Extensions))
	for k := range m.Extensions {
		if _, std := standardMembers[k]; std {
			return nil, fmt.Errorf("core: metadata extension %q collides with a standard member", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := add(k, m.Extensions[k]); err != nil {
			return nil, err
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// resourceURL validates a canonical resource identifier (RFC 8707 §2, MCP
// "Canonical Server URI"): absolute, https (http only for loopback hosts),
// a host, no user info, no fragment.
func resourceURL(s string) (*url.URL, error) {
	u, err := httpx.CheckURL(s, false)
	if err != nil {
		return nil, fmt.Errorf("core: Config.Resource %q: %w", s, err)
	}
	return u, nil
}

// wellKnown computes the RFC 9728 §3.1 metadata URL of a resource: the
// well-known suffix is inserted between the host and the path (a path of
// just "/" is dropped first); the query, if any, is kept. It returns the
// absolute URL and the path alone (for route registration).
func wellKnown(u *url.URL) (abs, path string) {
	p := u.EscapedPath()
	if p == "/" {
		p = ""
	}
	path = WellKnownPath + p
	abs = u.Scheme + "://" + u.Host + path
	if u.RawQuery != "" {
		abs += "?" + u.RawQuery
	}
	return abs, path
}

// prepareMetadata applies defaults and validates the document.
func prepareMetadata(m ProtectedResourceMetadata, resource string) (ProtectedResourceMetadata, []byte, error) {
	if m.Resource == "" {
		m.Resource = resource
	} else if m.Resource != resource {
		return m, nil, fmt.Errorf("core: Metadata.Resource %q differs from Config.Resource %q (RFC 9728 §3.3)", m.Resource, resource)
	}
	if len(m.AuthorizationServers) == 0 {
		return m, nil, errors.New("core: Metadata.AuthorizationServers needs at least one issuer")
	}
	for _, as := range m.AuthorizationServers {
		if u, err := url.Parse(as); err != nil || u.Scheme == "" || u.Host == "" {
			return m, nil, fmt.Errorf("core: Metadata.AuthorizationServers: %q is not an absolute URL", as)
		}
	}
	for _, s := range m.ScopesSupported {
		if s == "offline_access" {
			return m, nil, errors.New("core: Metadata.ScopesSupported must not contain offline_access (MCP 2026-07-28 refresh tokens)")
		}
		if !isScopeToken(s) {
			return m, nil, fmt.Errorf("core: Metadata.ScopesSupported: %q is not a valid scope token", s)
		}
	}
	if len(m.BearerMethodsSupported) == 0 {
		m.BearerMethodsSupported = []string{"header"}
	}
	m.AuthorizationServers = append([]string(nil), m.AuthorizationServers...)
	m.ScopesSupported = append([]string(nil), m.ScopesSupported...)
	b, err := json.Marshal(m)
	if err != nil {
		return m, nil, err
	}
	return m, b, nil
}

// isScopeToken reports whether s is an RFC 6749 §3.3 scope-token
// (internal/httpx holds the rule).
func isScopeToken(s string) bool { return httpx.IsScopeToken(s) }
