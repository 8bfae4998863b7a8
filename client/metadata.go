package client

// ProtectedResourceMetadata is the subset of RFC 9728 §2 this package uses.
// Unknown members are ignored.
type ProtectedResourceMetadata struct {
	Resource             string   `json:"resource"`
	AuthorizationServers []string `json:"authorization_servers"`
	ScopesSupported      []string `json:"scopes_supported"`
}

// AuthServerMetadata is the subset of RFC 8414 §2 this package uses. Unknown
// members are ignored. Issuer is always the exact issuer identifier the
// document was looked up with (checked during discovery).
type AuthServerMetadata struct {
	Issuer                                 string   `json:"issuer"`
	TokenEndpoint                          string   `json:"token_endpoint"`
	GrantTypesSupported                    []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported      []string `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgsSupported  []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	ScopesSupported                        []string `json:"scopes_supported"`
	AuthorizationGrantProfilesSupported    []string `json:"authorization_grant_profiles_supported"`
	IdentityChainingRequestedTokenTypesSup []string `json:"identity_chaining_requested_token_types_supported"`
}

// supportsGrant reports whether the metadata allows grant. An absent
// grant_types_supported list is treated as "unknown" and allows it (the
// token endpoint has the last word).
func (m *AuthServerMetadata) supportsGrant(grant string) bool {
	return len(m.GrantTypesSupported) == 0 || containsString(m.GrantTypesSupported, grant)
}
