package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLintConfig: lint takes the model and policy files from a Guard file
// (-config, with an unset ${ENV} tolerated) and accepts shipped model names.
func TestLintConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("good.csv", "p, *, tool:echo, call, allow\n")
	write("bad.csv", "p, *, tools/call, call, allow\n")
	guard := func(name, policy string) string {
		return write(name, "resource: https://mcp.example.com/mcp\nissuers:\n  - preset: okta\n    domain: ${LINT_TEST_UNSET_DOMAIN}\nmodel: scopes\npolicy:\n  files: ["+policy+"]\n")
	}
	dbGuard := write("db.yaml", "resource: https://mcp.example.com/mcp\nissuers:\n  - preset: okta\n    domain: acme.okta.com\nmodel: scopes\npolicy:\n  source: postgres\n")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"config good", []string{"-config", guard("good.yaml", "good.csv")}, 0, "good.csv: 0 error(s)"},
		{"config bad policy", []string{"-config", guard("bad.yaml", "bad.csv")}, 1, "bad.csv: 1 error(s)"},
		{"config database source", []string{"-config", dbGuard}, 2, "has no policy.files"},
		{"shipped model name", []string{"-model", "scopes", "-policy", filepath.Join(dir, "good.csv")}, 0, "0 error(s)"},
		{"unknown model name", []string{"-model", "scope", "-policy", filepath.Join(dir, "good.csv")}, 2, `unknown shipped model "scope"`},
		{"nothing", nil, 2, "or -config alone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(append([]string{"lint"}, tc.args...), &out, &errOut)
			if code != tc.code || !strings.Contains(out.String()+errOut.String(), tc.want) {
				t.Fatalf("exit %d (want %d), want %q in:\n%s%s", code, tc.code, tc.want, &out, &errOut)
			}
		})
	}
}
