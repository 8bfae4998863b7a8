package authserver

import (
	"encoding/json"
	"slices"
)

// metadataDoc is the RFC 8414 document, fields in a fixed order.
type metadataDoc struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	JWKSURI                                    string   `json:"jwks_uri"`
	RegistrationEndpoint                       string   `json:"registration_endpoint,omitempty"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported,omitempty"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported,omitempty"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	AuthorizationGrantProfilesSupported        []string `json:"authorization_grant_profiles_supported,omitempty"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	ScopesSupported                            []string `json:"scopes_supported,omitempty"`
	ProtectedResources                         []string `json:"protected_resources"`
	ClientIDMetadataDocumentSupported          bool     `json:"client_id_metadata_document_supported,omitempty"`
}

// buildMetadata renders the metadata document once. Only implemented
// features are advertised: without Config.Broker the authorization endpoint
// is a stub that refuses every request (see Config.OmitAuthorizationEndpoint),
// so response_types_supported is empty (RFC 8414 makes the member REQUIRED)
// and no code_challenge_methods_supported is published; with it, "code",
// S256, the RFC 9207 iss parameter, the authorization_code and
// refresh_token grants and the "none" method of public clients are. The jwt-bearer
// grant and the ID-JAG profile are advertised only when at least one IdP
// is trusted; the trust list itself is never disclosed.
func (s *Server) buildMetadata() ([]byte, error) {
	doc := metadataDoc{
		Issuer:                 s.issuer,
		AuthorizationEndpoint:  s.authorizeEndpoint,
		TokenEndpoint:          s.tokenEndpoint,
		JWKSURI:                s.jwksURI,
		RegistrationEndpoint:   s.registrationEndpoint,
		ResponseTypesSupported: []string{},
		GrantTypesSupported:    []string{GrantClientCredentials},
		TokenEndpointAuthMethodsSupported: []string{
			AuthPrivateKeyJWT, AuthClientSecretBasic, AuthClientSecretPost,
		},
		TokenEndpointAuthSigningAlgValuesSupported: s.assertionAlgs,
	}
	if s.broker != nil {
		// RFC 8414 §2, RFC 7636 §6.2, RFC 9207 §3. registration_endpoint
		// only with Config.Registration.
		doc.ResponseTypesSupported = []string{"code"}
		doc.CodeChallengeMethodsSupported = []string{"S256"}
		doc.AuthorizationResponseIssParameterSupported = true
		doc.GrantTypesSupported = append(doc.GrantTypesSupported, GrantAuthorizationCode, GrantRefreshToken)
		doc.TokenEndpointAuthMethodsSupported = append(doc.TokenEndpointAuthMethodsSupported, AuthNone)
	}
	doc.ClientIDMetadataDocumentSupported = s.cimd != nil
	if len(s.idps) > 0 {
		doc.GrantTypesSupported = append(doc.GrantTypesSupported, GrantJWTBearer)
		doc.AuthorizationGrantProfilesSupported = []string{ProfileIDJAG}
	}
	ids := make([]string, 0, len(s.resources))
	var scopes []string
	for id, r := range s.resources {
		ids = append(ids, id)
		for _, sc := range r.scopes {
			if !slices.Contains(scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
	}
	slices.Sort(ids)
	slices.Sort(scopes)
	doc.ProtectedResources = ids
	doc.ScopesSupported = scopes
	return json.Marshal(doc)
}
