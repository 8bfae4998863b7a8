package authserver

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseConfigEnv: "${NAME}" is expanded in the AS file as in the
// Guard's (one helper, internal/strictyaml): secrets from the environment
// (the upstream client secret, the code key, a secret hash), paths and
// URLs. An unset variable is an error naming the field, never an empty
// string; a secret field written literally is refused; errors never echo
// a secret.
func TestParseConfigEnv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	codeKey := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	env := map[string]string{
		"AS_ISSUER":         "https://as.example.com",
		"IDP_CLIENT_SECRET": "s3cr#t: with yaml {chars}",
		"CODE_KEY":          codeKey,
		"REPORTING_HASH":    "sha256$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"BAD_CODE_KEY":      "not-base64-but-secret-XYZ",
		"EMPTY":             "",
	}
	lookup := func(name string) (string, bool) { v, ok := env[name]; return v, ok }
	doc := `
issuer: ${AS_ISSUER}
dev_generate_key: true
resources:
  - id: https://mcp.example.com/mcp
    scopes: [mcp:tools]
clients:
  - client_id: reporting-agent
    secret_hash: ${REPORTING_HASH}
    grant_types: [client_credentials]
    scopes: [mcp:tools]
broker:
  upstream:
    issuer: https://login.example.com
    client_id: mcp-as
    client_secret: ${IDP_CLIENT_SECRET}
  access:
    - {group: eng, resource: https://mcp.example.com/mcp, scopes: [mcp:tools]}
  code_key: ${CODE_KEY}
`
	cfg, err := parseConfig([]byte(doc), dir, lookup)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Issuer != env["AS_ISSUER"] || cfg.Clients[0].SecretHash != env["REPORTING_HASH"] ||
		cfg.Broker.Upstream.ClientSecret != env["IDP_CLIENT_SECRET"] || string(cfg.Broker.CodeKey) != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("not expanded: issuer %q hash %q secret %q key %q", cfg.Issuer, cfg.Clients[0].SecretHash, cfg.Broker.Upstream.ClientSecret, cfg.Broker.CodeKey)
	}
	if err := os.WriteFile(filepath.Join(dir, "up.secret"), []byte("file-secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, old, new, want string
	}{
		{"unset secret", "${IDP_CLIENT_SECRET}", "${NOT_SET}", "broker.upstream.client_secret: environment variable NOT_SET is not set"},
		{"unset issuer", "${AS_ISSUER}", "${NOT_SET}", "issuer: environment variable NOT_SET is not set"},
		{"unset hash", "${REPORTING_HASH}", "${NOT_SET}", "clients[0].secret_hash: environment variable NOT_SET is not set"},
		{"empty secret", "${IDP_CLIENT_SECRET}", "${EMPTY}", "broker.upstream.client_secret"},
		{"literal secret", "${IDP_CLIENT_SECRET}", "hunter2-literal", "must be exactly ${NAME}"},
		{"secret with text around", "${IDP_CLIENT_SECRET}", "pre-${IDP_CLIENT_SECRET}", "must be exactly ${NAME}"},
		{"literal code key", "${CODE_KEY}", codeKey, "must be exactly ${NAME}"},
		{"bad code key", "${CODE_KEY}", "${BAD_CODE_KEY}", "broker.code_key: must hold 32 bytes"},
		{"secret and secret file", "client_secret: ${IDP_CLIENT_SECRET}", "client_secret: ${IDP_CLIENT_SECRET}\n    client_secret_file: up.secret", "not both"},
		{"code key and code key file", "code_key: ${CODE_KEY}", "code_key: ${CODE_KEY}\n  code_key_file: up.secret", "not both"},
		{"unterminated", "${AS_ISSUER}", "${AS_ISSUER", "unterminated"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig([]byte(strings.Replace(doc, tt.old, tt.new, 1)), dir, lookup)
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			for _, secret := range []string{env["IDP_CLIENT_SECRET"], codeKey, env["BAD_CODE_KEY"], "hunter2"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error shows a secret: %v", err)
				}
			}
		})
	}
	t.Run("escaped", func(t *testing.T) {
		cfg, err := parseConfig([]byte(strings.Replace(doc, "client_id: mcp-as", "client_id: \"mcp-$${as}\"", 1)), dir, lookup)
		if err != nil || cfg.Broker.Upstream.ClientID != "mcp-${as}" {
			t.Fatalf("%v %q", err, cfg.Broker.Upstream.ClientID)
		}
	})
}

// TestParseConfigUsesProcessEnv: ParseConfig and LoadConfig read the
// process environment.
func TestParseConfigUsesProcessEnv(t *testing.T) {
	t.Setenv("MCPAUTHZ_TEST_AS_ISSUER", "https://env.example.com")
	cfg, err := ParseConfig([]byte("issuer: ${MCPAUTHZ_TEST_AS_ISSUER}\ndev_generate_key: true\nresources: [{id: https://r.example/mcp}]\n"), "")
	if err != nil || cfg.Issuer != "https://env.example.com" {
		t.Fatalf("%v %q", err, cfg.Issuer)
	}
	if _, err := ParseConfig([]byte("issuer: ${MCPAUTHZ_TEST_UNSET_VARIABLE}\n"), ""); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("unset variable: %v", err)
	}
}
