package devidp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Token type identifiers (RFC 8693, ID-JAG draft).
const (
	GrantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	TokenTypeIDToken   = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeIDJAG     = "urn:ietf:params:oauth:token-type:id-jag"
	TypIDJAG           = "oauth-id-jag+jwt"
)

// IdP is the development identity provider. It is an http.Handler.
type IdP struct {
	cfg  Config
	key  *ecdsa.PrivateKey
	kid  string
	jwks []byte
	mux  *http.ServeMux
	log  *slog.Logger
	now  func() time.Time

	mu    sync.Mutex
	codes map[string]*authCode
}

// New builds an IdP with a fresh in-memory ES256 key.
func New(cfg Config) (*IdP, error) {
	if cfg.Issuer == "" || strings.HasSuffix(cfg.Issuer, "/") {
		return nil, errors.New("devidp: Issuer is required and must not end with /")
	}
	if len(cfg.Users) == 0 || len(cfg.Clients) == 0 || len(cfg.Servers) == 0 || cfg.PolicyFile == "" || cfg.Password == "" {
		return nil, errors.New("devidp: Users, Clients, Servers, Password and PolicyFile are required")
	}
	if _, err := LoadPolicy(cfg.PolicyFile); err != nil {
		return nil, err
	}
	if cfg.IDJAGTTL <= 0 {
		cfg.IDJAGTTL = 5 * time.Minute
	}
	if cfg.IDTokenTTL <= 0 {
		cfg.IDTokenTTL = time.Hour
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("devidp: generate key: %w", err)
	}
	idp := &IdP{cfg: cfg, key: key, codes: map[string]*authCode{}, log: cfg.Logger, now: cfg.Now}
	if idp.log == nil {
		idp.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if idp.now == nil {
		idp.now = time.Now
	}
	idp.kid = cfg.KeyID
	if idp.kid == "" {
		idp.kid = "devidp-" + randomString(6)
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: idp.kid, Algorithm: "ES256", Use: "sig"}}}
	if idp.jwks, err = json.Marshal(set); err != nil {
		return nil, err
	}
	idp.mux = http.NewServeMux()
	idp.mux.HandleFunc("GET /.well-known/openid-configuration", idp.serveDiscovery)
	idp.mux.HandleFunc("GET /.well-known/oauth-authorization-server", idp.serveDiscovery)
	idp.mux.HandleFunc("GET /jwks", idp.serveJWKS)
	idp.mux.HandleFunc("GET /authorize", idp.serveLoginPage)
	idp.mux.HandleFunc("POST /login", idp.serveLogin)
	idp.mux.HandleFunc("POST /token", idp.serveToken)
	return idp, nil
}

// ServeHTTP implements http.Handler.
func (idp *IdP) ServeHTTP(w http.ResponseWriter, r *http.Request) { idp.mux.ServeHTTP(w, r) }

// Issuer returns the IdP's issuer identifier.
func (idp *IdP) Issuer() string { return idp.cfg.Issuer }

// TokenEndpoint returns the IdP token endpoint URL.
func (idp *IdP) TokenEndpoint() string { return idp.cfg.Issuer + "/token" }

func (idp *IdP) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	iss := idp.cfg.Issuer
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                            iss,
		"authorization_endpoint":                            iss + "/authorize",
		"token_endpoint":                                    iss + "/token",
		"jwks_uri":                                          iss + "/jwks",
		"response_types_supported":                          []string{"code"},
		"subject_types_supported":                           []string{"public"},
		"id_token_signing_alg_values_supported":             []string{"ES256"},
		"code_challenge_methods_supported":                  []string{"S256"},
		"grant_types_supported":                             []string{"authorization_code", GrantTokenExchange},
		"token_endpoint_auth_methods_supported":             []string{"client_secret_basic", "client_secret_post"},
		"scopes_supported":                                  []string{"openid", "email", "profile"},
		"identity_chaining_requested_token_types_supported": []string{TokenTypeIDJAG},
	})
}

func (idp *IdP) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(idp.jwks)
}

// sign produces a compact JWS with the IdP key.
func (idp *IdP) sign(typ string, claims map[string]any) (string, error) {
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader(jose.HeaderKey("kid"), idp.kid)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: idp.key}, opts)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// verifyOwn verifies a token this IdP issued and returns its claims.
func (idp *IdP) verifyOwn(raw string) (map[string]any, error) {
	obj, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return nil, err
	}
	payload, err := obj.Verify(&idp.key.PublicKey)
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return nil, err
	}
	return claims, nil
}

func (idp *IdP) user(name string) *User {
	for i := range idp.cfg.Users {
		if idp.cfg.Users[i].Name == name {
			return &idp.cfg.Users[i]
		}
	}
	return nil
}

func (idp *IdP) client(id string) *Client {
	for i := range idp.cfg.Clients {
		if idp.cfg.Clients[i].ID == id {
			return &idp.cfg.Clients[i]
		}
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
