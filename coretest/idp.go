package coretest

import (
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// Key ids of the IdP's two signing keys.
const (
	KidES256 = "es256-key"
	KidRS256 = "rs256-key"
)

// IdP is a test identity provider on a loopback httptest server: it serves
// OpenID/OAuth discovery and a JWKS with one ES256 and one RS256 key, and
// mints access tokens. It is safe for concurrent use and stops with the
// test.
type IdP struct {
	srv  *httptest.Server
	keys map[string]crypto.Signer // by alg
	kids map[string]string        // alg → kid
	now  func() time.Time

	jwksHits atomic.Int64
	mu       sync.Mutex
	down     bool // JWKS answers 503
}

// IdPOption configures NewIdP.
type IdPOption func(*IdP)

// WithClock makes the IdP stamp iat/exp from now instead of time.Now.
func WithClock(now func() time.Time) IdPOption { return func(i *IdP) { i.now = now } }

// NewIdP generates keys and starts the IdP. It fails the test on error and
// closes the server in t.Cleanup.
func NewIdP(t testing.TB, opts ...IdPOption) *IdP {
	t.Helper()
	i := &IdP{keys: map[string]crypto.Signer{}, kids: map[string]string{"ES256": KidES256, "RS256": KidRS256}, now: time.Now}
	for _, o := range opts {
		o(i)
	}
	var jwks jose.JWKS
	for _, alg := range []string{"ES256", "RS256"} { // one order: not the map's
		kid := i.kids[alg]
		k, err := jose.GenerateKey(alg)
		if err != nil {
			t.Fatalf("coretest: generate %s key: %v", alg, err)
		}
		i.keys[alg] = k
		j, err := jose.PublicJWK(k.Public(), kid, alg)
		if err != nil {
			t.Fatalf("coretest: JWK: %v", err)
		}
		jwks.Keys = append(jwks.Keys, j)
	}
	jwksJSON, err := json.Marshal(jwks)
	if err != nil {
		t.Fatalf("coretest: JWKS: %v", err)
	}
	mux := http.NewServeMux()
	i.srv = httptest.NewServer(mux)
	t.Cleanup(i.srv.Close)
	disc, _ := json.Marshal(map[string]any{
		"issuer":                                i.srv.URL,
		"jwks_uri":                              i.srv.URL + "/jwks.json",
		"token_endpoint":                        i.srv.URL + "/token",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"ES256", "RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
	})
	serveJSON := func(b []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(b)
		}
	}
	mux.Handle("GET /.well-known/openid-configuration", serveJSON(disc))
	mux.Handle("GET /.well-known/oauth-authorization-server", serveJSON(disc))
	mux.HandleFunc("GET /jwks.json", func(w http.ResponseWriter, r *http.Request) {
		i.jwksHits.Add(1)
		i.mu.Lock()
		down := i.down
		i.mu.Unlock()
		if down {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		serveJSON(jwksJSON)(w, r)
	})
	return i
}

// Issuer is the IdP's issuer identifier (its loopback base URL).
func (i *IdP) Issuer() string { return i.srv.URL }

// JWKSURL is the URL of the key set.
func (i *IdP) JWKSURL() string { return i.srv.URL + "/jwks.json" }

// HTTPClient is a client for the IdP server.
func (i *IdP) HTTPClient() *http.Client { return i.srv.Client() }

// JWKSHits counts JWKS fetches.
func (i *IdP) JWKSHits() int64 { return i.jwksHits.Load() }

// SetJWKSDown makes the JWKS endpoint answer 503 (true) or serve keys again.
func (i *IdP) SetJWKSDown(down bool) {
	i.mu.Lock()
	i.down = down
	i.mu.Unlock()
}

// Signer returns the private key for "ES256" or "RS256" (nil otherwise),
// for tests that sign hand-made tokens.
func (i *IdP) Signer(alg string) crypto.Signer { return i.keys[alg] }

// MintOption adjusts one minted token.
type MintOption func(*mintConfig)

type mintConfig struct {
	alg      string
	kid      *string
	typ      string
	extra    map[string]any
	defaults bool
}

// WithAlg signs with "RS256" instead of the default "ES256".
func WithAlg(alg string) MintOption { return func(c *mintConfig) { c.alg = alg } }

// WithKid overrides the header kid ("" omits it).
func WithKid(kid string) MintOption { return func(c *mintConfig) { c.kid = &kid } }

// WithTyp overrides the header typ (default "at+jwt"; "" omits it).
func WithTyp(typ string) MintOption { return func(c *mintConfig) { c.typ = typ } }

// WithHeader adds protected-header members.
func WithHeader(k string, v any) MintOption {
	return func(c *mintConfig) {
		if c.extra == nil {
			c.extra = map[string]any{}
		}
		c.extra[k] = v
	}
}

// WithoutDefaults mints exactly the given claims (no iss/iat/exp/jti).
func WithoutDefaults() MintOption { return func(c *mintConfig) { c.defaults = false } }

// Mint signs an access token. Unless WithoutDefaults, iss (the issuer), iat
// (now), exp (now+1h) and a random jti are added when absent; claims given
// with a nil value are removed instead. The header is ES256 with the ES256
// key id and typ at+jwt unless options say otherwise. Mint panics only on
// programming errors (unknown alg).
func (i *IdP) Mint(claims map[string]any, opts ...MintOption) string {
	c := mintConfig{alg: "ES256", typ: "at+jwt", defaults: true}
	for _, o := range opts {
		o(&c)
	}
	m := make(map[string]any, len(claims)+4)
	if c.defaults {
		now := i.now()
		m["iss"] = i.Issuer()
		m["iat"] = now.Unix()
		m["exp"] = now.Add(time.Hour).Unix()
		m["jti"] = randomID()
	}
	for k, v := range claims {
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	payload, err := json.Marshal(m)
	if err != nil {
		panic("coretest: claims: " + err.Error())
	}
	key := i.keys[c.alg]
	if key == nil {
		panic("coretest: no key for alg " + c.alg)
	}
	kid := i.kids[c.alg]
	if c.kid != nil {
		kid = *c.kid
	}
	tok, err := jose.Sign(key, jose.Header{Alg: c.alg, Kid: kid, Typ: c.typ, Extra: c.extra}, payload)
	if err != nil {
		panic("coretest: sign: " + err.Error())
	}
	return tok
}

// MintRaw signs arbitrary header and payload bytes with the ES256 key (or
// the key matching a header "alg" of RS256), for malformed tokens: duplicate
// keys, invalid UTF-8, hostile headers.
func (i *IdP) MintRaw(header, payload []byte) string {
	alg := "ES256"
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(header, &h) == nil && h.Alg == "RS256" {
		alg = "RS256"
	}
	b64 := base64.RawURLEncoding
	input := b64.EncodeToString(header) + "." + b64.EncodeToString(payload)
	sig, err := jose.SignInput(i.keys[alg], alg, []byte(input))
	if err != nil {
		panic("coretest: sign: " + err.Error())
	}
	return input + "." + b64.EncodeToString(sig)
}

// Token mints a valid user access token for resource with the given subject
// and scopes (space-joined into "scope"), client_id "test-client".
func (i *IdP) Token(resource, sub string, scopes ...string) string {
	return i.Mint(userClaims(resource, sub, scopes))
}

// ExpiredToken is Token with exp two hours in the past.
func (i *IdP) ExpiredToken(resource, sub string) string {
	c := userClaims(resource, sub, nil)
	c["iat"] = i.now().Add(-3 * time.Hour).Unix()
	c["exp"] = i.now().Add(-2 * time.Hour).Unix()
	return i.Mint(c)
}

// WrongAudienceToken is Token for another resource.
func (i *IdP) WrongAudienceToken(sub string) string {
	return i.Mint(userClaims("https://other.example/mcp", sub, nil))
}

// WrongIssuerToken is Token signed by this IdP but claiming another issuer.
func (i *IdP) WrongIssuerToken(resource, sub string) string {
	c := userClaims(resource, sub, nil)
	c["iss"] = "https://evil.example"
	return i.Mint(c)
}

func userClaims(resource, sub string, scopes []string) map[string]any {
	c := map[string]any{"aud": resource, "sub": sub, "client_id": "test-client"}
	if len(scopes) > 0 {
		s := scopes[0]
		for _, x := range scopes[1:] {
			s += " " + x
		}
		c["scope"] = s
	}
	return c
}

func randomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
