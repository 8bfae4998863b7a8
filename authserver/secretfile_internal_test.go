package authserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/internal/secretfile"
)

// TestSecretFileModes: every secret or key file the configuration file
// names (signing key, upstream client secret, code key, previous code
// key) that group or others may read or write is refused at start-up,
// with an error naming the file and the fix; the group-read bit only with
// allow_group_readable_secret_files (Kubernetes with fsGroup: 0440).
// Symbolic links are followed (a Kubernetes secret volume's files are
// links into ..data) and the target's mode decides. Before, every mode
// was accepted.
func TestSecretFileModes(t *testing.T) {
	t.Parallel()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	contents := map[string]string{
		"as-key.pem": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"up.secret":  "upstream-secret\n",
		"code.key":   base64.StdEncoding.EncodeToString(testCodeKey(1)) + "\n",
		"old.key":    base64.StdEncoding.EncodeToString(testCodeKey(2)) + "\n",
	}
	const yml = `
issuer: https://as.example.com
signing_keys:
  - file: as-key.pem
    kid: k1
resources:
  - id: https://mcp.example.com/mcp
    scopes: [mcp:tools]
broker:
  upstream:
    issuer: https://login.example.com
    client_id: mcp-as
    client_secret_file: up.secret
  access:
    - group: eng
      resource: https://mcp.example.com/mcp
      scopes: [mcp:tools]
  code_key_file: code.key
  previous_code_key_files: [old.key]
`
	type modeCase struct {
		mode      fs.FileMode
		link      bool // the file is a link (through a ..data link) to the real one
		ok, okOpt bool // accepted without / with allow_group_readable_secret_files
	}
	modes := []modeCase{
		{0o600, false, true, true},
		{0o400, false, true, true},
		{0o600, true, true, true},
		{0o644, false, false, false},
		{0o644, true, false, false}, // a Kubernetes secret volume's default
		{0o640, false, false, true},
		{0o440, true, false, true}, // defaultMode 0400 with a pod fsGroup
		{0o604, false, false, false},
		{0o660, false, false, false},
		{0o620, false, false, false},
		{0o602, false, false, false},
	}
	for name := range contents {
		field := map[string]string{"as-key.pem": "signing_keys[0].file", "up.secret": "broker.upstream.client_secret_file",
			"code.key": "broker.code_key_file", "old.key": "broker.previous_code_key_files[0]"}[name]
		for _, mc := range modes {
			for _, opt := range []bool{false, true} {
				t.Run(name+"/"+mc.mode.String()+map[bool]string{true: "/link"}[mc.link]+map[bool]string{true: "/allow-group"}[opt], func(t *testing.T) {
					dir := t.TempDir()
					for n, c := range contents {
						if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o600); err != nil {
							t.Fatal(err)
						}
					}
					target := filepath.Join(dir, name)
					if mc.link {
						// name -> ..data/name, ..data -> ..2026_12_02 (as kubelet lays it out)
						real := filepath.Join(dir, "..2026_12_02")
						if err := os.Mkdir(real, 0o755); err != nil {
							t.Fatal(err)
						}
						if err := os.Rename(target, filepath.Join(real, name)); err != nil {
							t.Fatal(err)
						}
						if err := os.Symlink("..2026_12_02", filepath.Join(dir, "..data")); err != nil {
							t.Fatal(err)
						}
						if err := os.Symlink(filepath.Join("..data", name), target); err != nil {
							t.Fatal(err)
						}
						target = filepath.Join(real, name)
					}
					if err := os.Chmod(target, mc.mode); err != nil {
						t.Fatal(err)
					}
					doc := yml
					if opt {
						doc += "allow_group_readable_secret_files: true\n"
					}
					cfg, err := ParseConfig([]byte(doc), dir)
					want := mc.ok
					if opt {
						want = mc.okOpt
					}
					if want {
						if err != nil {
							t.Fatal(err)
						}
						if _, err := New(cfg); err != nil {
							t.Fatal(err)
						}
						return
					}
					if !errors.Is(err, ErrInvalidConfig) {
						t.Fatalf("accepted a %s file of mode %04o: %v", name, mc.mode, err)
					}
					msg := err.Error()
					for _, w := range []string{field, filepath.Join(dir, name), "chmod ", "defaultMode: 0400", "allow_group_readable_secret_files"} {
						if !strings.Contains(msg, w) {
							t.Errorf("error %q does not name %q", msg, w)
						}
					}
					if strings.Contains(msg, strings.TrimSpace(contents[name])) || strings.Contains(msg, "upstream-secret") {
						t.Errorf("error echoes the secret: %q", msg)
					}
				})
			}
		}
	}
}

// TestLoadSigningKeyMode: LoadSigningKey refuses a key file group or
// others may read (no opt-out: ParseSigningKey takes the bytes).
func TestLoadSigningKeyMode(t *testing.T) {
	t.Parallel()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "k.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSigningKey(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSigningKey(p); !errors.Is(err, secretfile.ErrMode) || !strings.Contains(err.Error(), "chmod 600 "+p) {
		t.Fatalf("a 0644 key file: %v", err)
	}
}
