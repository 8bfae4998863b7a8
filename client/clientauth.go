package client

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/clip"
	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// AuthMethod is a token endpoint client authentication method (RFC 8414
// token_endpoint_auth_methods_supported values).
type AuthMethod string

// Supported client authentication methods.
const (
	AuthNone              AuthMethod = "none"                // client_id in the body only
	AuthClientSecretBasic AuthMethod = "client_secret_basic" // RFC 6749 §2.3.1 HTTP Basic
	AuthClientSecretPost  AuthMethod = "client_secret_post"  // client_id + client_secret in the body
	AuthPrivateKeyJWT     AuthMethod = "private_key_jwt"     // RFC 7523 §2.2 client assertion
)

// Client assertion constants.
const (
	clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// DefaultAssertionLifetime is the exp-iat of a client assertion when
	// Credentials.AssertionLifetime is zero.
	DefaultAssertionLifetime = 60 * time.Second
	// MaxAssertionLifetime caps Credentials.AssertionLifetime.
	MaxAssertionLifetime = 5 * time.Minute
)

// Credentials are one client registration at one authorization server (or
// IdP). They are bound to an issuer: Issuer when set, else the first issuer
// they are used with; they are never sent to another issuer.
type Credentials struct {
	// ClientID is REQUIRED.
	ClientID string
	// Method is OPTIONAL. Default: private_key_jwt when Key is set, else
	// client_secret_basic when ClientSecret is set, else none. When the
	// authorization server lists token_endpoint_auth_methods_supported and
	// the method is not in it, the request is not sent (ErrUnsupported).
	Method AuthMethod
	// ClientSecret is REQUIRED for client_secret_basic / client_secret_post.
	ClientSecret string
	// Key is REQUIRED for private_key_jwt: an ECDSA (P-256/384/521), RSA
	// (2048+ bits) or Ed25519 private key.
	Key crypto.Signer
	// Algorithm is OPTIONAL for private_key_jwt: ES256, ES384, ES512,
	// RS256, PS256 or EdDSA. Default: derived from Key (ES256/ES384/ES512 by
	// curve, RS256 for RSA, EdDSA for Ed25519).
	Algorithm string
	// KeyID is OPTIONAL: the "kid" header of client assertions.
	KeyID string
	// AssertionType is OPTIONAL: the "typ" header of client assertions
	// (for example "client-authentication+jwt"). Default: no typ header,
	// since some servers reject unknown values.
	AssertionType string
	// AssertionLifetime is OPTIONAL: exp-iat of client assertions.
	// Default DefaultAssertionLifetime; at most MaxAssertionLifetime.
	AssertionLifetime time.Duration
	// AssertionAudience is OPTIONAL: the "aud" of client assertions.
	// Default AudienceIssuer. Okta ("The audience claim for
	// client_assertion must be the endpoint invoked for the request") and
	// Microsoft Entra ID refuse that and need AudienceTokenEndpoint.
	AssertionAudience AssertionAudience
	// Issuer is OPTIONAL: the issuer these credentials are registered
	// with. When empty, the credentials bind to the first issuer they are
	// used with.
	Issuer string
}

// AssertionAudience selects the "aud" of private_key_jwt client
// assertions.
type AssertionAudience int

const (
	// AudienceIssuer is the issuer identifier of the server the assertion
	// is sent to, as draft-ietf-oauth-rfc7523bis requires. The default.
	AudienceIssuer AssertionAudience = iota
	// AudienceTokenEndpoint is the exact URL the assertion is posted to
	// (RFC 7523 §3 allows it). The assertion then names only the endpoint
	// that receives it, so no metadata can make it valid elsewhere.
	AudienceTokenEndpoint
)

// method returns the effective authentication method.
func (c *Credentials) method() AuthMethod {
	switch {
	case c.Method != "":
		return c.Method
	case c.Key != nil:
		return AuthPrivateKeyJWT
	case c.ClientSecret != "":
		return AuthClientSecretBasic
	}
	return AuthNone
}

// validate checks the credentials for internal consistency.
func (c *Credentials) validate(what string) error {
	if c.ClientID == "" {
		return fmt.Errorf("%w: %s: ClientID is required", ErrConfig, what)
	}
	switch c.method() {
	case AuthNone:
	case AuthClientSecretBasic, AuthClientSecretPost:
		if c.ClientSecret == "" {
			return fmt.Errorf("%w: %s: ClientSecret is required for %s", ErrConfig, what, c.method())
		}
	case AuthPrivateKeyJWT:
		if c.Key == nil {
			return fmt.Errorf("%w: %s: Key is required for private_key_jwt", ErrConfig, what)
		}
		alg, err := c.algorithm()
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrConfig, what, err)
		}
		if !keyFits(alg, c.Key.Public()) {
			return fmt.Errorf("%w: %s: key type %T does not suit %s", ErrConfig, what, c.Key.Public(), alg)
		}
		if c.AssertionLifetime < 0 || c.AssertionLifetime > MaxAssertionLifetime {
			return fmt.Errorf("%w: %s: AssertionLifetime must be in (0, %s]", ErrConfig, what, MaxAssertionLifetime)
		}
		if c.AssertionAudience != AudienceIssuer && c.AssertionAudience != AudienceTokenEndpoint {
			return fmt.Errorf("%w: %s: unknown AssertionAudience %d", ErrConfig, what, c.AssertionAudience)
		}
	default:
		return fmt.Errorf("%w: %s: unknown auth method %q", ErrConfig, what, c.Method)
	}
	return nil
}

// algorithm returns the signing algorithm for private_key_jwt.
func (c *Credentials) algorithm() (string, error) {
	if c.Algorithm != "" {
		switch c.Algorithm {
		case jose.ES256, jose.ES384, jose.ES512, jose.RS256, jose.PS256, jose.EdDSA:
			return c.Algorithm, nil
		}
		return "", fmt.Errorf("unsupported client assertion algorithm %q", c.Algorithm)
	}
	switch k := c.Key.Public().(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return jose.ES256, nil
		case elliptic.P384():
			return jose.ES384, nil
		case elliptic.P521():
			return jose.ES512, nil
		}
	case *rsa.PublicKey:
		return jose.RS256, nil
	case ed25519.PublicKey:
		return jose.EdDSA, nil
	}
	return "", fmt.Errorf("unsupported key type %T", c.Key.Public())
}

// keyFits reports whether pub can verify alg signatures.
func keyFits(alg string, pub crypto.PublicKey) bool {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return (alg == jose.ES256 && k.Curve == elliptic.P256()) ||
			(alg == jose.ES384 && k.Curve == elliptic.P384()) ||
			(alg == jose.ES512 && k.Curve == elliptic.P521())
	case *rsa.PublicKey:
		return alg == jose.RS256 || alg == jose.PS256
	case ed25519.PublicKey:
		return alg == jose.EdDSA
	}
	return false
}

// assertionClaims is the RFC 7523 §3 client assertion payload.
type assertionClaims struct {
	Iss string `json:"iss"`
	Sub string `json:"sub"`
	Aud string `json:"aud"`
	Jti string `json:"jti"`
	Iat int64  `json:"iat"`
	Exp int64  `json:"exp"`
}

// clientAssertion signs a private_key_jwt assertion for audience (the
// issuer identifier of the server it is sent to or its token endpoint, a
// single string). It
// returns the compact JWS and its jti (for logging).
func (c *Credentials) clientAssertion(audience string, now time.Time) (string, string, error) {
	alg, err := c.algorithm()
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrSign, err)
	}
	var rnd [16]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrSign, err)
	}
	life := c.AssertionLifetime
	if life == 0 {
		life = DefaultAssertionLifetime
	}
	cl := assertionClaims{
		Iss: c.ClientID, Sub: c.ClientID, Aud: audience,
		Jti: hex.EncodeToString(rnd[:]),
		Iat: now.Unix(), Exp: now.Add(life).Unix(),
	}
	payload, err := json.Marshal(cl)
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrSign, err)
	}
	jws, err := signJWT(c.Key, alg, c.KeyID, c.AssertionType, payload)
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrSign, err)
	}
	return jws, cl.Jti, nil
}

// signJWT is the single place where this package signs.
func signJWT(key crypto.Signer, alg, kid, typ string, payload []byte) (string, error) {
	return jose.Sign(key, jose.Header{Alg: alg, Kid: kid, Typ: typ}, payload)
}

// authenticate adds client authentication for a request to the token
// endpoint of the server with the given issuer and metadata (meta may be nil
// for an IdP configured without metadata). It returns the jti of a client
// assertion, if any, for logging.
func (c *Credentials) authenticate(req *http.Request, form url.Values, issuer string, meta *AuthServerMetadata, now time.Time) (string, error) {
	m := c.method()
	if meta != nil && len(meta.TokenEndpointAuthMethodsSupported) > 0 && !containsString(meta.TokenEndpointAuthMethodsSupported, string(m)) {
		return "", fmt.Errorf("%w: %s does not list token endpoint auth method %s", ErrUnsupported, clip.Quote(issuer, core.MaxLogField), m)
	}
	switch m {
	case AuthNone:
		form.Set("client_id", c.ClientID)
	case AuthClientSecretBasic:
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString(
			[]byte(url.QueryEscape(c.ClientID)+":"+url.QueryEscape(c.ClientSecret))))
	case AuthClientSecretPost:
		form.Set("client_id", c.ClientID)
		form.Set("client_secret", c.ClientSecret)
	case AuthPrivateKeyJWT:
		aud := issuer
		if c.AssertionAudience == AudienceTokenEndpoint {
			aud = req.URL.String()
		}
		if aud == "" {
			return "", fmt.Errorf("%w: private_key_jwt needs the issuer identifier as audience", ErrConfig)
		}
		alg, err := c.algorithm()
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrSign, err)
		}
		if meta != nil && len(meta.TokenEndpointAuthSigningAlgsSupported) > 0 && !containsString(meta.TokenEndpointAuthSigningAlgsSupported, alg) {
			return "", fmt.Errorf("%w: %s does not list client assertion algorithm %s", ErrUnsupported, clip.Quote(issuer, core.MaxLogField), alg)
		}
		jws, jti, err := c.clientAssertion(aud, now)
		if err != nil {
			return "", err
		}
		form.Set("client_assertion_type", clientAssertionType)
		form.Set("client_assertion", jws)
		return jti, nil
	default:
		return "", fmt.Errorf("%w: unknown auth method %q", ErrConfig, m)
	}
	return "", nil
}
