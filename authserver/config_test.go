package authserver

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/jose"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	testKeys(t)
	tests := []struct {
		name   string
		mutate func(*Config)
		field  string // substring expected in the error
	}{
		{"no issuer", func(c *Config) { c.Issuer = "" }, "issuer"},
		{"http issuer on a public host", func(c *Config) { c.Issuer = "http://as.example.com" }, "issuer"},
		{"issuer with trailing slash", func(c *Config) { c.Issuer = "https://as.example.com/" }, "issuer"},
		{"issuer with query", func(c *Config) { c.Issuer = "https://as.example.com?x=1" }, "issuer"},
		{"issuer with fragment", func(c *Config) { c.Issuer = "https://as.example.com#f" }, "issuer"},
		{"issuer with dot segments", func(c *Config) { c.Issuer = "https://as.example.com/a/../b" }, "issuer"},
		{"issuer with user info", func(c *Config) { c.Issuer = "https://u:p@as.example.com" }, "issuer"},
		{"no resources", func(c *Config) { c.Resources = nil }, "resources"},
		{"relative resource", func(c *Config) { c.Resources[0].ID = "/mcp" }, "resources[0].id"},
		{"duplicate resource", func(c *Config) { c.Resources[1].ID = testMCP }, "resources[1].id"},
		{"bad resource scope", func(c *Config) { c.Resources[0].Scopes = []string{"a b"} }, "resources[0].scopes[0]"},
		{"unknown default resource", func(c *Config) { c.DefaultResource = "https://x.example.com" }, "default_resource"},
		{"client without credentials", func(c *Config) { c.Clients[0].SecretHash = "" }, "clients[0]"},
		{"client with plaintext secret", func(c *Config) { c.Clients[0].SecretHash = "hunter2" }, "secret_hash"},
		{"client id with space", func(c *Config) { c.Clients[0].ID = "a b" }, "clients[0].client_id"},
		{"duplicate client", func(c *Config) { c.Clients[1].ID = testSecretID }, "duplicate client"},
		{"client without grant types", func(c *Config) { c.Clients[0].GrantTypes = nil }, "grant_types"},
		{"client with password grant", func(c *Config) { c.Clients[0].GrantTypes = []string{"password"} }, "grant_types[0]"},
		{"client auth method without credentials", func(c *Config) { c.Clients[0].AuthMethods = []string{AuthPrivateKeyJWT} }, "auth_methods[0]"},
		{"client jwks and jwks_uri", func(c *Config) { c.Clients[1].JWKSURL = "https://c.example.com/jwks" }, "mutually exclusive"},
		{"client jwks with private key", func(c *Config) {
			b, _ := json.Marshal(map[string]any{"keys": []any{map[string]any{"kty": "EC", "crv": "P-256", "x": "a", "y": "b", "d": "c"}}})
			c.Clients[1].JWKS = b
		}, "clients[1]"},
		{"client jwks_uri over http", func(c *Config) { c.Clients[1].JWKS = nil; c.Clients[1].JWKSURL = "http://c.example.com/jwks" }, "clients[1]"},
		{"client unknown resource", func(c *Config) { c.Clients[0].Resources = []string{"https://x.example.com"} }, "resources[0]"},
		{"IdP is ourselves", func(c *Config) { c.TrustedIdPs[0].Issuer = testIssuer }, "own issuer"},
		{"IdP without keys", func(c *Config) { c.TrustedIdPs[0].JWKS = nil }, "trusted_idps[0]"},
		{"IdP with HS256", func(c *Config) { c.TrustedIdPs[0].Algorithms = []string{"HS256"} }, "algorithms"},
		{"IdP with none", func(c *Config) { c.TrustedIdPs[0].Algorithms = []string{"none"} }, "algorithms"},
		{"IdP claim mapped onto sub", func(c *Config) { c.TrustedIdPs[0].Claims = map[string]string{"email": "sub"} }, "claims.email"},
		{"duplicate IdP", func(c *Config) { c.TrustedIdPs = append(c.TrustedIdPs, c.TrustedIdPs[0]) }, "duplicate"},
		{"no signing key", func(c *Config) { c.SigningKeys = nil }, "signing_keys"},
		{"signing key with wrong alg", func(c *Config) { c.SigningKeys[0].Algorithm = "RS256" }, "signing_keys[0]"},
		{"signing key HS256", func(c *Config) { c.SigningKeys[0].Algorithm = "HS256" }, "signing_keys[0]"},
		{"duplicate kid", func(c *Config) {
			c.SigningKeys = append(c.SigningKeys, SigningKey{Signer: asKey2.key, KeyID: asKey.kid})
		}, "duplicate key id"},
		{"lifetime too long", func(c *Config) { c.AccessTokenLifetime = 48 * time.Hour }, "access_token_lifetime"},
		{"leeway too long", func(c *Config) { c.Leeway = time.Hour }, "leeway"},
		{"assertion algs with HS256", func(c *Config) { c.ClientAssertionAlgorithms = []string{"HS256"} }, "client_assertion_algorithms"},
		{"negative rate", func(c *Config) { c.RateLimit.PerSecond = -1 }, "rate_limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := baseConfig(t, testkit.NewClock(time.Unix(1_800_000_000, 0)))
			tc.mutate(&cfg)
			_, err := New(cfg)
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("New: %v; want ErrInvalidConfig naming %q", err, tc.field)
			}
		})
	}
}

func TestDevGenerateKeyWarns(t *testing.T) {
	t.Parallel()
	var logs testkit.Buffer
	e := newEnv(t, func(c *Config) {
		c.SigningKeys = nil
		c.DevGenerateKey = true
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "DEVELOPMENT MODE") {
		t.Fatalf("no loud warning: %q", logs.String())
	}
	res := decodeResult(t, e.do(req{body: form("grant_type", "client_credentials"), basic: [2]string{testSecretID, testSecret}}))
	if res.status != 200 {
		t.Fatalf("%d %s", res.status, res.body)
	}
	verifyIssued(t, e, res.tok.AccessToken)
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	testKeys(t)
	dir := t.TempDir()
	der, err := x509.MarshalPKCS8PrivateKey(asKey.key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "as.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	ecDER, _ := x509.MarshalECPrivateKey(asKey2.key.(*ecdsa.PrivateKey))
	writeFile(t, dir, "old.pem", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER})))
	hash, _ := HashSecret(testSecret)
	idpJWKS := string(jwksOf(t, idpKey))
	yml := `
issuer: https://mcp.example.com/oauth
default_resource: https://mcp.example.com/mcp
resources:
  - id: https://mcp.example.com/mcp
    scopes: [mcp:tools, mcp:resources:read]
signing_keys:
  - file: as.pem
    kid: as-2026-01
  - file: ` + filepath.Join(dir, "old.pem") + `
clients:
  - client_id: reporting-agent
    secret_hash: "` + hash + `"
    grant_types: [client_credentials]
    scopes: [mcp:tools]
  - client_id: chat-app
    jwks: ` + idpJWKS + `
    grant_types: [urn:ietf:params:oauth:grant-type:jwt-bearer]
    scopes: [mcp:tools]
trusted_idps:
  - issuer: https://acme.idp.example
    jwks: ` + idpJWKS + `
    algorithms: [ES256]
    claims: {groups: groups}
access_token_lifetime: 15m
leeway: 10s
rate_limit: {per_second: 5, burst: 10}
replay_cache: {max_entries: 1000}
`
	path := writeFile(t, dir, "as.yaml", yml)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AccessTokenLifetime != 15*time.Minute || cfg.Leeway != 10*time.Second || cfg.RateLimit.Burst != 10 || cfg.ReplayCacheMaxEntries != 1000 {
		t.Fatalf("cfg %+v", cfg)
	}
	if len(cfg.SigningKeys) != 2 || cfg.SigningKeys[0].KeyID != "as-2026-01" {
		t.Fatalf("keys %+v", cfg.SigningKeys)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st := s.keys.Load()
	if st.current.kid != "as-2026-01" || st.all[1].kid != jose.KeyID(asKey2.key.Public()) {
		t.Fatalf("kids %s %s", st.current.kid, st.all[1].kid)
	}
}

func TestParseConfigStrict(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, doc, want string }{
		{"unknown top-level field", "issuer: https://a\nissuerr: x\n", "issuerr: unknown field (line 2)"},
		{"unknown nested field", "clients:\n  - client_id: a\n    secret: x\n", "clients[0].secret: unknown field (line 3)"},
		{"unknown field in rate limit", "rate_limit: {per_sec: 1}\n", "rate_limit.per_sec: unknown field"},
		{"duplicate key", "issuer: a\nissuer: b\n", "already defined"},
		{"alias", "issuer: &x https://a\ndefault_resource: *x\n", "anchors and aliases"},
		{"wrong type", "clients: {a: 1}\n", "cannot unmarshal"},
		{"bad duration", "leeway: forever\n", "line 1: cannot unmarshal"},
		{"two documents", "issuer: a\n---\nissuer: b\n", "more than one YAML document"},
		{"scalar root", "hello\n", "must be a mapping"},
		{"signing key without file", "signing_keys:\n  - kid: x\n", "signing_keys[0].file"},
		{"missing key file", "signing_keys:\n  - file: nope.pem\n", "signing_keys[0].file"},
		{"jwks as a list", "clients:\n  - client_id: a\n    jwks: [1]\n", "clients[0].jwks"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseConfig([]byte(tc.doc), t.TempDir())
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseConfig: %v; want %q", err, tc.want)
			}
		})
	}
	// JSON is accepted too.
	cfg, err := ParseConfig([]byte(`{"issuer":"https://a.example","resources":[{"id":"https://r.example/mcp"}],"dev_generate_key":true}`), "")
	if err != nil || cfg.Issuer != "https://a.example" || !cfg.DevGenerateKey {
		t.Fatalf("JSON config: %+v %v", cfg, err)
	}
}

func TestParseSigningKey(t *testing.T) {
	t.Parallel()
	testKeys(t)
	jwk := `{"kty":"EC","crv":"P-256","kid":"k1","alg":"ES256",` + ecPrivateJWKMembers(t) + `}`
	k, err := ParseSigningKey([]byte(jwk))
	if err != nil || k.KeyID != "k1" || k.Algorithm != "ES256" {
		t.Fatalf("JWK: %+v %v", k, err)
	}
	for _, bad := range []string{"", "garbage", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", `{"kty":"EC"}`} {
		if _, err := ParseSigningKey([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func ecPrivateJWKMembers(t *testing.T) string {
	t.Helper()
	k := asKey.key.(*ecdsa.PrivateKey)
	j, err := jose.PublicJWK(&k.PublicKey, "", "")
	if err != nil {
		t.Fatal(err)
	}
	d := make([]byte, 32)
	k.D.FillBytes(d)
	return `"x":"` + j.X + `","y":"` + j.Y + `","d":"` + b64url(d) + `"`
}

// The documented example configuration loads and starts.
func TestExampleConfigFile(t *testing.T) {
	t.Parallel()
	cfg, err := LoadConfig(filepath.Join("testdata", "authserver.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s.Issuer() != "http://127.0.0.1:8080/oauth" || len(s.clients) != 2 || len(s.idps) != 1 {
		t.Fatalf("issuer %s clients %d idps %d", s.Issuer(), len(s.clients), len(s.idps))
	}
}
