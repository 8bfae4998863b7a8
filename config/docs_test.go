package config_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casbin/casbin/v2/persist"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/config"
	"github.com/mcpauthz/mcpauthz/core"
)

// The documentation's YAML blocks, executed: every ```yaml block of these
// files is loaded through the real strict parser, so a misspelled or removed
// field in a doc fails CI.
//
// A block is a complete Guard file (top-level "resource:"), a complete AS
// file (top-level "issuer:"), or an excerpt whose first line says so:
//
//	# excerpt of a Guard file
//	# excerpt of an AS file
//
// An excerpt is completed with the top-level keys of a minimal file that it
// does not set itself, then loaded like a complete one.
var docFiles = []string{
	"README.md",
	"docs/configuration.md",
	"docs/proxy.md",
	"docs/deployment.md",
	"docs/operations.md",
	"docs/authserver-broker.md",
	"docs/idp/*.md",
}

const (
	guardExcerpt = "# excerpt of a Guard file"
	asExcerpt    = "# excerpt of an AS file"
)

// Minimal files, by top-level key, that complete an excerpt.
var guardBase = [][2]string{
	{"resource", "resource: https://mcp.example.com/mcp\n"},
	{"issuers", "issuers:\n  - issuer: https://idp.example.com\n    jwks_uri: https://idp.example.com/jwks\n"},
	{"model", "model: scopes\n"},
	{"policy", "policy:\n  files: [policy.csv]\n"},
}

var asBase = [][2]string{
	{"issuer", "issuer: https://mcp.example.com/oauth\n"},
	{"resources", "resources:\n  - id: https://mcp.example.com/mcp\n    scopes: [mcp:tools, mcp:deploy]\n"},
	{"signing_keys", "signing_keys:\n  - file: as-key.pem\n"},
}

type docBlock struct {
	file string
	line int
	text string
}

func yamlBlocks(t *testing.T, root string) []docBlock {
	t.Helper()
	var out []docBlock
	for _, pattern := range docFiles {
		paths, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil || len(paths) == 0 {
			t.Fatalf("doc files %s: none found (%v)", pattern, err)
		}
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(root, p)
			var cur *docBlock
			for i, line := range strings.Split(string(data), "\n") {
				switch {
				case cur == nil && strings.TrimSpace(line) == "```yaml":
					cur = &docBlock{file: rel, line: i + 1}
				case cur != nil && strings.TrimSpace(line) == "```":
					out = append(out, *cur)
					cur = nil
				case cur != nil:
					cur.text += line + "\n"
				}
			}
			if cur != nil {
				t.Fatalf("%s:%d: unterminated yaml block", rel, cur.line)
			}
		}
	}
	return out
}

var topKey = regexp.MustCompile(`(?m)^([a-z_]+):`)

func hasTopKey(text, key string) bool {
	for _, m := range topKey.FindAllStringSubmatch(text, -1) {
		if m[1] == key {
			return true
		}
	}
	return false
}

// complete returns text with base's entries for the keys text lacks.
func complete(text string, base [][2]string) string {
	for _, kv := range base {
		if !hasTopKey(text, kv[0]) {
			text += kv[1]
		}
	}
	return text
}

var modelRef = regexp.MustCompile(`(?m)^model:\s*([a-z_]+)\s*(#|$)`)

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// docEnv gives each ${NAME} a value of the shape its name suggests.
func docEnv(name string) (string, bool) {
	switch {
	case strings.HasSuffix(name, "DOMAIN"):
		return "acme.okta.com", true
	case strings.HasSuffix(name, "URL"), strings.HasSuffix(name, "URI"):
		return "https://sso.example.com", true
	case strings.HasSuffix(name, "CODE_KEY"):
		return "APYLmxnZdSPnDiZfgZ3DpGn5oKma7Y+2JkIF/KEPKVI=", true // 32 random bytes
	case strings.Contains(name, "REDIS"):
		return "127.0.0.1:6379", true
	default:
		return "docs-test-value", true
	}
}

// docDir holds the files the doc blocks name: policy, model, keys, secrets.
func docDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "docs"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	code := make([]byte, 32)
	_, _ = rand.Read(code)
	files := map[string]string{
		"as-key.pem":      string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"cas.pem":         string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert})),
		"upstream.secret": "docs-test-secret\n",
		"code.key":        base64.StdEncoding.EncodeToString(code) + "\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDocsYAML(t *testing.T) {
	blocks := yamlBlocks(t, "..")
	if len(blocks) < 10 {
		t.Fatalf("found %d yaml blocks in the docs; the extractor is broken", len(blocks))
	}
	dir := docDir(t)
	for _, b := range blocks {
		t.Run(fmt.Sprintf("%s:%d", b.file, b.line), func(t *testing.T) {
			first, _, _ := strings.Cut(b.text, "\n")
			text := b.text
			kind := ""
			switch {
			case strings.TrimSpace(first) == guardExcerpt:
				kind, text = "guard", complete(text, guardBase)
			case strings.TrimSpace(first) == asExcerpt:
				kind, text = "as", complete(text, asBase)
			case hasTopKey(text, "resource"):
				kind = "guard"
			case hasTopKey(text, "issuer"):
				kind = "as"
			default:
				t.Fatalf("neither a complete file (top-level resource: or issuer:) nor marked %q or %q:\n%s", guardExcerpt, asExcerpt, b.text)
			}
			for _, m := range envRef.FindAllStringSubmatch(text, -1) {
				v, _ := docEnv(m[1])
				t.Setenv(m[1], v)
			}
			switch kind {
			case "guard":
				model := "scopes"
				if m := modelRef.FindStringSubmatch(text); m != nil {
					model = m[1]
				}
				policy, err := os.ReadFile(filepath.Join("..", "casbinmodels", model+".csv"))
				if err != nil {
					t.Fatalf("model %q: no shipped policy to start from: %v", model, err)
				}
				if err := os.WriteFile(filepath.Join(dir, "policy.csv"), policy, 0o600); err != nil {
					t.Fatal(err)
				}
				opts := config.Options{LookupEnv: docEnv, Stores: map[string]config.StoreFactory{"redis": docGuardStore},
					Watchers: map[string]config.WatcherFactory{"redis": docWatcher}}
				f, err := config.Parse([]byte(text), opts)
				if err != nil {
					t.Fatalf("Guard file:\n%s\n%v", text, err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				built, err := f.Build(ctx, dir, opts)
				if err != nil {
					t.Fatalf("Guard file builds:\n%s\n%v", text, err)
				}
				_ = built.Close()
			case "as":
				path := filepath.Join(dir, "as.yaml")
				if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
					t.Fatal(err)
				}
				_, c, err := authserver.Load(context.Background(), path, authserver.LoadOptions{Stores: map[string]authserver.StoreFactory{"redis": docASStore}})
				if err != nil {
					t.Fatalf("AS file:\n%s\n%v", text, err)
				}
				_ = c.Close()
			}
		})
	}
}

// docGuardStore and docASStore stand for stores/redis's factories, which
// this module cannot import: they check the option names of
// redisstore.FileOptions and install nothing. The real factories load the
// same options in stores/redis/cmd/mcpauthz-redis's tests.
func docGuardStore(_ context.Context, o map[string]any, _ *core.Config) (io.Closer, error) {
	return nil, docRedisOptions(o, docRedisKeys...)
}

func docASStore(_ context.Context, o map[string]any, _ *authserver.Config) (io.Closer, error) {
	return nil, docRedisOptions(o, append(docRedisKeys, "quarantine", "sender")...)
}

// docWatcher stands for redisstore.PolicyWatcher: it checks the option
// names and watches nothing.
func docWatcher(_ context.Context, o map[string]any, _ *slog.Logger) (persist.Watcher, error) {
	return docNoWatcher{}, docRedisOptions(o, docRedisKeys...)
}

type docNoWatcher struct{}

func (docNoWatcher) SetUpdateCallback(func(string)) error { return nil }
func (docNoWatcher) Update() error                        { return nil }
func (docNoWatcher) Close()                               {}

var docRedisKeys = []string{"url", "sentinel", "cluster", "username", "password", "db", "prefix", "timeout"}

func docRedisOptions(o map[string]any, known ...string) error {
	if o["url"] == nil && o["sentinel"] == nil && o["cluster"] == nil {
		return fmt.Errorf("stores.options: one of url, sentinel or cluster is required")
	}
	for k := range o {
		if !slices.Contains(known, k) {
			return fmt.Errorf("stores.options.%s: unknown key", k)
		}
	}
	return nil
}

// The extractor and the loaders see a broken block: a misspelled field in
// a Guard file and in an AS file fails.
func TestDocsYAMLCatchesTypos(t *testing.T) {
	dir := docDir(t)
	guard := complete(guardExcerpt+"\npolicy:\n  file: [policy.csv]\n", guardBase)
	if _, err := config.Parse([]byte(guard), config.Options{LookupEnv: docEnv}); err == nil || !strings.Contains(err.Error(), "file") {
		t.Fatalf("misspelled policy.files: err = %v", err)
	}
	as := complete(asExcerpt+"\nclients:\n  - client_id: a\n    grant_type: [client_credentials]\n", asBase)
	if _, err := authserver.ParseConfig([]byte(as), dir); err == nil || !strings.Contains(err.Error(), "grant_type") {
		t.Fatalf("misspelled grant_types: err = %v", err)
	}
}
